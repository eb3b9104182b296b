"""Reading PS1's HATS catalogs: objIDs to positions, clear errors, lazy imports (no TAP server).

The tests that read rows use the local HATS copy of the sample database (``ps1hats_path``).
"""
import subprocess
import sys

import pytest
from astropy.coordinates import SkyCoord
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap.sources.hats import PanstarrsHatsClass
from astroquery_ps1tap.sources.hats.catalogs import (LOOKUP_RADIUS_ARCSEC, CatalogError, Catalogs,
                                                     column_filters_of, objid_positions)
from localtap import sample

KQ = sample.KQ_UMA


# ---- objIDs encode positions ----------------------------------------------------------------------
def test_a_real_objid_decodes_to_within_an_arcsecond_of_its_object():
    for star in sample.STARS:                       # real objIDs made by PS1 from earlier positions
        ra, dec = objid_positions([star.objid])
        offset = SkyCoord(ra[0], dec[0], unit="deg").separation(
            SkyCoord(star.ra, star.dec, unit="deg")).arcsec
        assert offset < 1.0 < LOOKUP_RADIUS_ARCSEC


def test_every_sample_objid_decodes_to_its_object(hats):
    objects = hats.query_region((sample.M87_RA, sample.M87_DEC), 0.25, min_detections=None,
                                columns=["objID"], progress=False)
    ra, dec = objid_positions(objects["objID"].data)
    offset = SkyCoord(ra, dec, unit="deg").separation(
        SkyCoord(objects["raMean"].data, objects["decMean"].data, unit="deg")).arcsec
    assert len(objects) > 10000 and offset.max() < 1.0


# ---- the local catalogs answer like the sample --------------------------------------------------
def test_the_tutorial_cone_has_its_6927_objects(hats):
    m87 = hats.query_region((sample.M87_RA, sample.M87_DEC), sample.M87_RADIUS, progress=False)
    assert len(m87) == sample.M87_N_MULTI == 6927
    assert m87["objID"][0] == sample.M87_OBJID                  # nearest the centre first


def test_kq_uma_has_its_66_detections_and_the_tutorial_cuts_hold(hats):
    assert len(hats.get_detections(KQ.objid)) == KQ.n_detections == 66
    for star in (sample.KIC_2161623, sample.KIC_8153568):
        assert len(hats.get_detections(star.objid, min_qf=0.9)) == star.n_good   # 45, 60


def test_detections_are_read_by_position_not_by_scanning(hats, monkeypatch):
    """A look-up by objID reads the partitions near the position it encodes: few of them."""
    import lsdb

    opened = []
    original = lsdb.open_catalog

    def spy(path, *args, **kwargs):
        catalog = original(path, *args, **kwargs)
        opened.append(len(catalog.get_healpix_pixels()))
        return catalog
    monkeypatch.setattr(lsdb, "open_catalog", spy)
    hats.get_detections(KQ.objid)
    total = len(original(hats.path + "/detection").get_healpix_pixels())
    assert opened == [1] and total > 10


def test_column_filters_mean_what_the_tap_source_s_mean(hats):
    cut = hats.query_region((sample.M87_RA, sample.M87_DEC), sample.M87_RADIUS, progress=False,
                            column_filters={"gMeanPSFMag": (18, 20), "ng": [3, 4]})
    assert len(cut) > 0
    assert ((cut["gMeanPSFMag"] >= 18) & (cut["gMeanPSFMag"] <= 20)).all()
    assert set(cut["ng"]) <= {3, 4}
    assert column_filters_of("mean", {"objName": "PSO J1"}) == [("objName", "==", "PSO J1")]
    with pytest.raises(InvalidQueryError, match="holds text"):
        column_filters_of("mean", {"objName": 3})


# ---- errors that say what to do ---------------------------------------------------------------------
def test_a_missing_catalog_is_named_with_its_path(tmp_path):
    (tmp_path / "otmo").mkdir()
    with pytest.raises(CatalogError) as error:
        PanstarrsHatsClass(tmp_path).get_detections(KQ.objid)
    message = str(error.value)
    assert f"'detection' at {tmp_path}/detection" in message
    assert "otmo, detection, forced_mean_object" in message and "PS1HATS_PATH" in message


def test_a_malformed_catalog_is_named_with_its_path(tmp_path):
    (tmp_path / "otmo").mkdir()
    (tmp_path / "otmo" / "collection.properties").write_text("not a properties file\n")
    with pytest.raises(CatalogError, match=f"'otmo' at {tmp_path}/otmo"):
        Catalogs(tmp_path).structure("otmo")


def test_a_catalog_without_ps1_columns_is_refused(ps1hats_path, tmp_path):
    # the detection catalog under the name otmo: no raMean/decMean/nDetections
    (tmp_path / "otmo").symlink_to(f"{ps1hats_path}/detection")
    with pytest.raises(CatalogError, match="has no decMean, nDetections, raMean column"):
        Catalogs(tmp_path).structure("otmo")


@pytest.mark.parametrize("option", ["async_job", "maxrec", "cache", "chunk_size", "upload",
                                    "get_query_payload"])
def test_tap_only_options_are_refused_before_anything_is_read(option):
    hats = PanstarrsHatsClass("/nonexistent/ps1/hats")
    with pytest.raises(InvalidQueryError, match=f"'{option}' is not an option of the HATS source "
                                                r"\(TAP-only"):
        hats.get_detections(KQ.objid, **{option: True})


def test_what_the_hats_catalogs_do_not_hold_is_refused_clearly():
    hats = PanstarrsHatsClass("/nonexistent/ps1/hats")
    with pytest.raises(InvalidQueryError, match="forced photometry .* not among PS1's HATS"):
        hats.get_detections(KQ.objid, photometry="forced")
    with pytest.raises(InvalidQueryError, match="dbo.StackObjectView is not among PS1's HATS"):
        hats.query_region((10.0, 10.0), 0.01, table="stack")


def test_the_root_comes_from_the_argument_then_the_environment_then_conf(monkeypatch):
    from astroquery_ps1tap import conf

    monkeypatch.delenv("PS1HATS_PATH", raising=False)
    assert PanstarrsHatsClass().path == conf.hats_path == "s3://stpubdata/panstarrs/ps1/public/hats"
    monkeypatch.setenv("PS1HATS_PATH", "/data/hats/")
    assert PanstarrsHatsClass().path == "/data/hats"
    assert PanstarrsHatsClass("/elsewhere").path == "/elsewhere"


# ---- import cost and the optional dependencies ----------------------------------------------------------
def test_importing_the_package_or_the_hats_source_imports_no_lsdb_or_dask():
    code = ("import sys, astroquery_ps1tap, astroquery_ps1tap.sources.hats; "
            "print(sorted(m for m in ('lsdb', 'hats', 'dask', 'nested_pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_without_the_extra_the_error_says_what_to_install():
    code = ("import sys; sys.modules['lsdb'] = None\n"
            "from astroquery_ps1tap.sources.hats import PanstarrsHatsClass\n"
            "PanstarrsHatsClass('/tmp').get_detections(190361393344112894)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert 'ImportError: the HATS source needs lsdb' in done.stderr
    assert 'pip install "astroquery_ps1tap[hats]"' in done.stderr
