"""Tables from astroquery's VO-TAP ``Catalogs`` (MAST's ``ps1_dr2`` collection) work unchanged.

astroquery's rewrite of ``mast.Catalogs`` on VO-TAP queries MAST's newer PS1 service, whose result
columns come back in lower case (``objid``, ``obstime``, ``psfflux``) and which has no filter-name
column (no ``Filter`` table: only ``filterid``).  Such tables are built here as that service returns
them, from the real rows MAST's tutorial displayed (``localtap/realrows``), and must give the same light
curves, files and plots as the canonical tables of this package.
"""
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from astroquery_ps1tap import tables

DATA = Path(__file__).resolve().parents[1] / "localtap" / "realrows"
KQ_UMA = 190361393344112894


def tutorial_rows(name):
    return Table.read(DATA / f"nb_votap_2024-02_{name}_shown_rows.csv", format="ascii.csv",
                      comment="#", converters={"objID": [int], "detectID": [int]})


def as_the_newer_service_returns(table):
    """Lower-case names, no filter-name column, and the units the service's metadata carries
    (``obstime`` labelled as MAST's legacy service labels it, ``yr``: wrong, it is MJD)."""
    out = Table({name.lower(): table[name] for name in table.colnames if name != "filterType"})
    if "obstime" in out.colnames:
        out["obstime"].unit = "yr"
    return out


@pytest.fixture
def canonical():
    """The tutorial's rows as this package returns them (canonical names, filter column)."""
    return tables.shape_detections(tutorial_rows("kq_uma_detections"))


@pytest.fixture
def catalogs():
    """The same rows as astroquery's VO-TAP Catalogs returns them from ps1_dr2.detection."""
    return as_the_newer_service_returns(tutorial_rows("kq_uma_detections"))


@pytest.fixture
def mean():
    """KQ UMa's row of ps1_dr2.mean_object, as the newer service returns it."""
    return as_the_newer_service_returns(tutorial_rows("kq_uma_meanobjectview"))


def test_such_a_table_has_lower_case_names_and_no_filter_name(catalogs):
    assert "filtertype" not in catalogs.colnames and "filter" not in catalogs.colnames
    assert {"objid", "filterid", "obstime", "psfflux", "psfqfperfect"} <= set(catalogs.colnames)
    assert catalogs["objid"].dtype == np.int64 and catalogs["objid"][0] == KQ_UMA


def test_shaping_gives_the_canonical_table(catalogs, canonical):
    shaped = tables.shape_detections(catalogs)
    assert shaped.colnames == canonical.colnames
    for name in shaped.colnames:
        assert shaped[name].unit == canonical[name].unit, name
        assert np.array_equal(np.asarray(shaped[name]), np.asarray(canonical[name])), name
    assert shaped["obsTime"].unit == "d"  # from the schema, not the service's "yr"


def same_curves(a, b):
    assert [lc.meta["FILTER"] for lc in a] == [lc.meta["FILTER"] for lc in b]
    for x, y in zip(a, b):
        assert x.time.scale == y.time.scale == "tai"
        for name in ("time", "flux", "flux_err", "mag", "mag_err", "dmag", "quality"):
            assert np.array_equal(np.asarray(getattr(x[name], "value", x[name])),
                                  np.asarray(getattr(y[name], "value", y[name])), equal_nan=True), name


def test_to_lightcurves_unchanged(catalogs, canonical, mean):
    from astroquery_ps1tap.lightcurves import to_lightcurves

    from_catalogs = to_lightcurves(catalogs, mean=mean)
    same_curves(from_catalogs, to_lightcurves(canonical, mean=tables.shape(tutorial_rows(
        "kq_uma_meanobjectview"), "mean")))
    # the rows the tutorial displayed (first and last of 66): g, r and y
    assert [lc.meta["FILTER"] for lc in from_catalogs] == ["g", "r", "y"]
    g = from_catalogs[0]
    # dmag is measured from the object's mean magnitude, found in the lower-case mean row
    assert np.allclose(g["mag"].value - g["dmag"].value, mean["gmeanpsfmag"][0], atol=1e-6)


@pytest.mark.parametrize("suffix", [".vot", ".csv", ".ecsv"])
def test_the_readers_read_such_a_table_saved_to_disk(catalogs, tmp_path, suffix):
    import lightkurve as lk

    from astroquery_ps1tap.lightcurves import to_lightcurves

    path = tmp_path / ("kq_uma" + suffix)
    catalogs.write(path, format={".vot": "votable", ".csv": "ascii.csv", ".ecsv": "ascii.ecsv"}[suffix])
    expected = to_lightcurves(catalogs)
    for lc in expected:
        read = lk.LightCurve.read(path, format="ps1", filter=lc.meta["FILTER"])
        same_curves([read], [lc])


def test_the_plots_draw_such_a_table(catalogs):
    import matplotlib

    matplotlib.use("Agg")
    from astroquery_ps1tap.lightcurves import to_lightcurves
    from astroquery_ps1tap.plots import plot_folded, plot_lightcurves

    direct = plot_lightcurves(catalogs)  # a detections table is converted by the plot itself
    assert [ax.get_ylabel() for ax in direct.axes] == ["g [mag]", "r [mag]", "y [mag]"]
    lcs = to_lightcurves(catalogs)
    for figure in (plot_lightcurves(lcs), plot_folded(lcs, 0.48636)):
        points = sum(len(line.get_xdata()) for ax in figure.axes for line in ax.get_lines())
        kept = sum(len(lc.remove_nans()) for lc in lcs)  # every point that is not masked is drawn
        assert points >= kept > 0
