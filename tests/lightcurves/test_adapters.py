"""PS1 detections become lightkurve light curves: one per filter, TAI time, Jy and AB mag.

Built from the real rows MAST returned for the tutorial's stars (the ``real_rows`` fixture:
``localtap/realrows/``) and from small synthetic tables for the awkward cases.  Warnings
are errors here: a light curve made without a RuntimeWarning from log10 of a negative flux is
part of what is tested.
"""
import warnings

import numpy as np
import pytest
from astropy import units as u
from astropy.table import MaskedColumn, Table, vstack

from astroquery_ps1tap import schema, tables
from astroquery_ps1tap.lightcurves import (LightCurvesByObject, PS1LightCurveCollection,
                                           PS1LightCurveWarning, PS1QualityFlags, as_collection,
                                           combine_bands, to_lightcurves, to_lightcurves_by_object)
from astroquery_ps1tap.periods import simulate_detections

import lightkurve as lk  # noqa: I100  (after astroquery_ps1tap.lightcurves: imported quietly)

pytestmark = pytest.mark.filterwarnings("error")

KQ_UMA = 190361393344112894
KIC_2161623 = 153102917444859851
Q = PS1QualityFlags


@pytest.fixture
def kq_uma(real_rows):
    """KQ UMa's displayed detections (g, r, y) plus its 13 z epochs with the bad point.

    The z list has only obsTime, mag and psfQfPerfect: psfFlux is rebuilt from the
    tutorial's AB magnitudes.
    """
    det = real_rows("kq_uma_detections")
    z = real_rows("kq_uma_z_sorted")
    flux = schema.mag_to_flux(z["mag"])
    ztab = Table({"objID": z["objID"], "filterid": np.full(len(z), 4), "filterType": ["z"] * len(z),
                  "obsTime": z["obsTime"], "psfFlux": flux, "psfFluxErr": flux * 1e-3,
                  "psfQfPerfect": z["psfQfPerfect"]})
    return vstack([det, ztab])


@pytest.fixture
def kq_uma_mean(real_rows):
    return real_rows("kq_uma_meanobjectview")


# --- shape of the output -----------------------------------------------------------------------

def test_one_curve_per_filter_in_wavelength_order(kq_uma, kq_uma_mean):
    lcs = to_lightcurves(kq_uma, kq_uma_mean)
    assert [lc.filter for lc in lcs] == ["g", "r", "z", "y"]    # no i rows in the sample
    assert [len(lc) for lc in lcs] == [8, 1, 12, 9]             # bad z and SATSTAR-free y kept
    for lc in lcs:
        assert lc.meta["TARGETID"] == KQ_UMA and isinstance(lc.meta["TARGETID"], int)
        assert lc.meta["MISSION"] == "Pan-STARRS1"
        assert lc.meta["LABEL"] == f"PS1 {KQ_UMA} {lc.filter}"
        assert lc.meta["FLUX_ORIGIN"] == "psfFlux"
        assert lc.meta["PHOTOMETRY"] == "detection"
        assert lc.meta["RA"] == pytest.approx(139.33445305334158)   # from the mean row
        assert lc.meta["DEC"] == pytest.approx(68.63505916169231)


def test_curves_can_be_picked_by_filter_name(kq_uma, kq_uma_mean):
    import pickle

    lcs = to_lightcurves(kq_uma, kq_uma_mean)  # the tutorial's shown rows have no i band...
    assert lcs.filters == ["g", "r", "z", "y"]
    assert lcs["z"] is lcs[2] and lcs["z"].meta["FILTER"] == "z"  # ...so names are safer than indices
    with pytest.raises(KeyError, match="no 'u' light curve here"):
        lcs["u"]
    assert pickle.loads(pickle.dumps(lcs))["g"].meta["FILTER"] == "g"


def test_time_is_tai_mjd_and_a_fresh_object_per_curve(kq_uma):
    lcs = to_lightcurves(kq_uma)
    g = lcs[0]
    assert g.time.scale == "tai" and g.time.format == "mjd"
    assert g.time.mjd[0] == 55634.477414
    assert lcs[0].time is not lcs[1].time
    # ... which is what lets bin() work on every curve
    for lc in lcs:
        lc.bin(bins=2)


def test_flux_in_jansky_and_ab_magnitudes_with_plain_mag_unit(kq_uma):
    g = to_lightcurves(kq_uma)[0]
    assert g.flux.unit == u.Jy and g.flux_err.unit == u.Jy
    assert g["mag"].unit == u.mag and g["mag"].unit != u.ABmag
    flux = g.flux.value[0]
    # the AB system's definition: magnitude 0 is 3631 Jy; the error is d(mag)/d(flux) * flux_err
    assert g["mag"][0].value == pytest.approx(-2.5 * np.log10(flux / 3631.0), abs=1e-4)
    assert g["mag_err"][0].value == pytest.approx(2.5 / np.log(10) * g.flux_err.value[0] / flux)


def test_magnitudes_match_the_tutorials(kq_uma, kq_uma_mean, real_rows):
    """The tutorial's z table: mag and dmag (= mag - zMeanPSFMag 14.2814) of every epoch."""
    z = [lc for lc in to_lightcurves(kq_uma, kq_uma_mean, quality_bitmask="none")
         if lc.filter == "z"][0]
    expected = real_rows("kq_uma_z_sorted")
    expected.sort("obsTime")
    np.testing.assert_allclose(z["mag"].value, expected["mag"], atol=1e-5)
    np.testing.assert_allclose(z["dmag"].value, expected["dmag"], atol=1e-5)
    assert z.meta["MEAN_MAG"] == pytest.approx(14.2814, abs=1e-4)
    assert z.meta["DMAG_REFERENCE"] == "mean"


# --- the quality mask --------------------------------------------------------------------------

def test_default_mask_removes_kq_umas_bad_z_point(kq_uma, kq_uma_mean):
    z = [lc for lc in to_lightcurves(kq_uma, kq_uma_mean) if lc.filter == "z"][0]
    assert len(z) == 12
    assert 55933.5264577 not in z.time.mjd
    assert z.meta["N_INPUT"] == 13 and z.meta["N_MASKED"] == 1
    assert z.meta["MASKED_FLAGS"] == {"LOW_QF": 1}
    assert z.meta["QUALITY_BITMASK"] == PS1QualityFlags.DEFAULT_BITMASK
    assert (z["psfQfPerfect"] >= 0.9).all()


def test_none_keeps_every_point_and_shows_why_it_is_doubtful(kq_uma, kq_uma_mean):
    z = [lc for lc in to_lightcurves(kq_uma, kq_uma_mean, quality_bitmask="none")
         if lc.filter == "z"][0]
    assert len(z) == 13 and z.meta["N_MASKED"] == 0
    bad = z[np.isclose(z.time.mjd, 55933.5264577)]
    assert bad["quality"][0] == Q.LOW_QF
    assert bad["dmag"][0].value == pytest.approx(3.3627195, abs=1e-5)   # the tutorial's outlier


def test_min_qf_loosens_the_cut(kq_uma):
    z = [lc for lc in to_lightcurves(kq_uma, min_qf=0.3) if lc.filter == "z"][0]
    assert len(z) == 13


def test_hard_mask_also_removes_infoflag_problems(kq_uma):
    """One y epoch has infoFlag SATSTAR (0x80) and psfQfPerfect 0.85."""
    default = {lc.filter: lc for lc in to_lightcurves(kq_uma)}
    hard = {lc.filter: lc for lc in to_lightcurves(kq_uma, quality_bitmask="hard")}
    assert default["y"].meta["MASKED_FLAGS"] == {"LOW_QF": 1}
    assert len(hard["y"]) == len(default["y"])
    assert hard["y"].meta["MASKED_FLAGS"] == {"LOW_QF": 1, "SATSTAR": 1}
    # with LOW_QF off, only the infoFlag bit removes it
    only_sat = to_lightcurves(kq_uma, quality_bitmask=PS1QualityFlags.SATSTAR, filters="y")[0]
    assert only_sat.meta["MASKED_FLAGS"] == {"SATSTAR": 1}


def test_a_filter_whose_points_are_all_removed_is_left_out_with_a_warning(kq_uma):
    only_bad_z = kq_uma[(kq_uma["filterType"] != "z") | (kq_uma["psfQfPerfect"] < 0.9)]
    with pytest.warns(PS1LightCurveWarning, match=r"filter z \(1 points: LOW_QF 1\)"):
        lcs = to_lightcurves(only_bad_z)
    assert "z" not in [lc.filter for lc in lcs]


# --- awkward input -----------------------------------------------------------------------------

def synthetic(**columns):
    base = {"objID": [KQ_UMA] * 4, "filterType": ["g", "g", "r", "r"],
            "obsTime": [55000.0, 55000.01, 55001.0, 55001.01],
            "psfFlux": [1e-3, 2e-3, 3e-3, 4e-3], "psfFluxErr": [1e-5] * 4,
            "psfQfPerfect": [0.99] * 4}
    base.update(columns)
    return Table(base)


def test_bytes_filter_type_and_any_letter_case():
    raw = synthetic()
    raw["filterType"] = [b"g", b"g", b"r", b"r"]
    for name in list(raw.colnames):
        raw.rename_column(name, name.upper())
    lcs = to_lightcurves(raw)
    assert [lc.filter for lc in lcs] == ["g", "r"]


def test_non_positive_and_missing_fluxes_are_flagged_without_runtime_warnings():
    raw = synthetic(psfFlux=MaskedColumn([-1e-4, 0.0, -999.0, 4e-3], mask=[False, False, False, False]))
    lcs = to_lightcurves(raw, quality_bitmask="none")
    g, r = lcs
    assert g["quality"][0] == Q.NONPOSITIVE_FLUX | Q.LOW_SNR
    assert r["quality"][0] == Q.MISSING_FLUX                                # -999 is "no value"
    assert np.isnan(g["mag"].value).all() and np.isnan(r["flux"].value[0])
    assert np.isfinite(r["mag"].value[1])
    default = to_lightcurves(raw, quality_bitmask="default", filters="r")[0]
    assert len(default) == 1 and default.meta["MASKED_FLAGS"] == {"MISSING_FLUX": 1}


def test_a_filter_with_no_rows_simply_has_no_curve():
    lcs = to_lightcurves(synthetic(filterType=["g", "g", "g", "g"]))
    assert [lc.filter for lc in lcs] == ["g"]


def test_an_empty_table_gives_an_empty_collection():
    assert len(to_lightcurves(synthetic()[:0])) == 0


def test_several_objects_are_refused_with_directions():
    raw = synthetic(objID=[1, 1, 2, 2])
    with pytest.raises(ValueError, match="to_lightcurves_by_object"):
        to_lightcurves(raw)


def test_astroquery_catalogs_table_objid_text_and_no_filtertype():
    """astroquery.mast.Catalogs(catalog="Panstarrs", table="detection"): objID as text."""
    raw = Table({"objID": ["190361393344112894"] * 2, "filterID": [5, 1],
                 "obsTime": [55933.54, 55634.48], "psfFlux": [7.9e-3, 8.3e-3],
                 "psfFluxErr": [2.5e-5, 1.1e-5], "psfQfPerfect": [0.997, 0.993]})
    lcs = to_lightcurves(raw)
    assert [lc.filter for lc in lcs] == ["g", "y"] and lcs[0].meta["TARGETID"] == KQ_UMA


def test_dmag_reference_from_mean_table_per_row_columns_or_data():
    raw = synthetic()
    assert to_lightcurves(raw)[0].meta["DMAG_REFERENCE"] == "median"
    median = to_lightcurves(raw)[0]
    assert np.nanmedian(median["dmag"].value) == pytest.approx(0.0)

    raw["gmeanpsfmag"] = [16.0] * 4                # as the lead's one-request query joins it
    raw["rMeanPSFMag"] = [-999.0] * 4              # no r mean: falls back to the data
    g, r = to_lightcurves(raw)
    assert (g.meta["DMAG_REFERENCE"], g.meta["MEAN_MAG"]) == ("detections", 16.0)
    assert r.meta["DMAG_REFERENCE"] == "median"

    mean = Table({"OBJID": [KQ_UMA], "GMEANPSFMAG": [15.5], "rMeanPSFMag": [15.0]})
    g, r = to_lightcurves(raw, mean)
    assert (g.meta["MEAN_MAG"], r.meta["MEAN_MAG"]) == (15.5, 15.0)
    assert g["dmag"][0].value == pytest.approx(g["mag"][0].value - 15.5)
    g2 = to_lightcurves(raw, mean[0])[0]           # a Row works too
    assert g2.meta["MEAN_MAG"] == 15.5


def test_tutorials_eclipsing_binary_bug_is_gone(real_rows):
    """The tutorial compared filterType to bytes, so its dmag equals mag (mean 0)."""
    det = real_rows("kic2161623_detections_qf09")
    mean = real_rows("kic2161623_meanobjectview")
    assert np.allclose(det["dmag"], det["mag"])                   # the tutorial's output
    g = to_lightcurves(det, mean)[0]
    assert g.meta["MEAN_MAG"] == pytest.approx(14.5998, abs=1e-4)
    assert g["dmag"][0].value == pytest.approx(14.650389 - 14.5998, abs=1e-4)


def test_aperture_and_kron_flux_on_request(kq_uma):
    ap = to_lightcurves(kq_uma[kq_uma["filterType"] == "g"], flux="ap")[0]
    assert ap.meta["FLUX_ORIGIN"] == "apFlux"
    assert ap.flux.value[0] == pytest.approx(0.00861705)
    with pytest.raises(ValueError, match="no kronFlux column in the detections; available: psf, ap"):
        to_lightcurves(kq_uma, flux="kron")
    with pytest.raises(ValueError, match="flux must be one of"):
        to_lightcurves(kq_uma, flux="auto")


def test_forced_photometry():
    raw = Table({"objID": [KQ_UMA] * 2, "forcedWarpID": [11, 12], "filterID": [2, 2],
                 "obsTime": [55000.0, 55010.0], "FpsfFlux": [1e-3, -2e-5],
                 "FpsfFluxErr": [1e-5, 1e-5], "FpsfQfPerfect": [0.99, 0.99], "FinfoFlag": [0, 0]})
    lc = to_lightcurves(raw, quality_bitmask="none")[0]
    assert lc.meta["PHOTOMETRY"] == "forced"
    assert lc["forcedWarpID"].tolist() == [11, 12]
    assert lc.meta["RA"] is None                     # forced rows have no positions


# --- lightkurve keeps working ------------------------------------------------------------------

def bin_folded(folded, **kwargs):
    """lightkurve 2.6's own ``bin`` of a phase-normalized fold builds a TimeDelta from a bare
    number (TimeDeltaMissingUnitWarning): not ours, so silenced here only."""
    from astropy.time.core import TimeDeltaMissingUnitWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TimeDeltaMissingUnitWarning)
        return folded.bin(**kwargs)


def test_lightkurve_operations_on_the_curves(kq_uma):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lcs = to_lightcurves(kq_uma)
    y = lcs[-1]
    folded = y.fold(period=0.48636, epoch_time=y.time[0], normalize_phase=True)
    assert folded.phase.min() >= -0.5 and folded.phase.max() < 0.5
    assert 0 < len(bin_folded(folded, bins=4)) <= 4
    assert len(y.remove_outliers(column="mag", sigma=5)) == len(y)
    assert y.normalize().flux.unit == u.dimensionless_unscaled
    frame = y.to_pandas()
    assert {"flux", "mag", "dmag", "quality"} <= set(frame.columns)
    ax = y.plot()
    y.scatter(ax=ax)
    lcs.plot()
    assert lcs.stitch().meta is not None
    plt.close("all")


# --- many objects ------------------------------------------------------------------------------

def test_by_object_splits_once_and_builds_on_access():
    a = simulate_detections("rrlyrae", 0.5, objid=KQ_UMA, seed=1)
    b = simulate_detections("constant", 1.0, objid=KIC_2161623, seed=2)
    b["psfQfPerfect"][b["filterID"] == 3] = 0.5              # b's i points all fail the default cut
    det = vstack([a, b])
    det = det[np.random.default_rng(0).permutation(len(det))]     # unsorted on purpose

    # b's curves are built (and its i filter found empty, with a warning) only when asked for
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        by_object = to_lightcurves_by_object(det)
        assert isinstance(by_object, LightCurvesByObject)
        assert list(by_object) == [KIC_2161623, KQ_UMA] and len(by_object) == 2
        assert by_object.counts() == {KIC_2161623: len(b), KQ_UMA: len(a)}
        lcs = by_object[str(KQ_UMA)]                            # text ids work too
    assert caught == []
    with pytest.warns(PS1LightCurveWarning, match=f"object {KIC_2161623}: every point of filter i"):
        assert by_object[KIC_2161623].filters == ["g", "r", "z", "y"]
    assert len(lcs) == 5
    np.testing.assert_array_equal(np.sort(by_object.rows(KQ_UMA)["obsTime"]), np.sort(a["obsTime"]))
    direct = to_lightcurves(a)
    for got, want in zip(lcs, direct):
        np.testing.assert_array_equal(got.time.mjd, want.time.mjd)
        np.testing.assert_array_equal(got.flux.value, want.flux.value)
    with pytest.raises(KeyError):
        by_object[12345]
    assert 12345 not in by_object and KQ_UMA in by_object


def test_by_object_matches_a_multi_row_mean_table():
    det = vstack([synthetic(), synthetic(objID=[7] * 4)])
    mean = Table({"objID": [7, KQ_UMA], "gMeanPSFMag": [20.0, 15.5]})
    by_object = to_lightcurves_by_object(det, mean)
    assert by_object[KQ_UMA][0].meta["MEAN_MAG"] == 15.5
    assert by_object[7][0].meta["MEAN_MAG"] == 20.0
    assert by_object[7][1].meta["DMAG_REFERENCE"] == "median"    # no rMeanPSFMag column


def test_by_object_of_an_empty_table():
    assert len(to_lightcurves_by_object(synthetic()[:0])) == 0


# --- combined curve ----------------------------------------------------------------------------

def test_combine_bands_gives_one_dmag_curve_with_a_filter_column():
    lcs = to_lightcurves(simulate_detections("eclipsing", 3.6071431, seed=4))
    lc = combine_bands(lcs)
    assert len(lc) == sum(len(x) for x in lcs)
    assert np.all(np.diff(lc.time.mjd) >= 0)
    assert lc.flux.unit == u.mag and lc.meta["FLUX_ORIGIN"] == "dmag"
    assert set(lc["filterID"]) == {1, 2, 3, 4, 5} and lc.meta["FILTER"] == "grizy"
    np.testing.assert_array_equal(lc.flux.value, lc["dmag"].value)
    # the medians of each filter's dmag are ~0, so the filters line up
    for band in "grizy":
        in_band = lc["filterID"] == "grizy".index(band) + 1
        assert abs(np.median(lc["dmag"].value[in_band])) < 0.05
    folded = lc.fold(period=3.6071431, epoch_time=lc.time[0])
    assert len(folded.bin(bins=10)) == 10


def test_combine_bands_refuses_mixed_objects_and_empty_input():
    a = to_lightcurves(synthetic())
    b = to_lightcurves(synthetic(objID=[7] * 4))
    import lightkurve as lk
    with pytest.raises(ValueError, match="several objects"):
        combine_bands(lk.LightCurveCollection([a[0], b[0]]))
    with pytest.raises(ValueError, match="no points"):
        combine_bands(lk.LightCurveCollection([]))


def test_canonical_tables_pass_through_unchanged(kq_uma):
    shaped = tables.shape_detections(kq_uma)
    assert tables.ensure_detections(shaped) is shaped
    assert [len(x) for x in to_lightcurves(shaped)] == [len(x) for x in to_lightcurves(kq_uma)]


# --- one conversion for plots and period search ------------------------------------------------

def test_as_collection_of_a_table_a_curve_a_collection_and_a_list(kq_uma):
    lcs = as_collection(kq_uma)
    assert isinstance(lcs, PS1LightCurveCollection) and lcs.filters == ["g", "r", "z", "y"]
    assert as_collection(kq_uma, quality_bitmask="none")["z"].meta["N_MASKED"] == 0
    assert as_collection(lcs) is lcs
    plain = lk.LightCurveCollection([lcs["g"], lcs["r"]])
    assert as_collection(plain) is plain
    one = as_collection(lcs["r"])
    assert isinstance(one, PS1LightCurveCollection) and one["r"] is lcs["r"]
    assert as_collection([lcs["g"], lcs["y"]]).filters == ["g", "y"]
    combined = combine_bands(lcs)
    assert as_collection(combined)[0] is combined


def test_as_collection_refuses_what_it_cannot_convert(kq_uma):
    lcs = to_lightcurves(kq_uma)
    with pytest.raises(TypeError, match="only apply when converting a detections table"):
        as_collection(lcs, quality_bitmask="none")
    with pytest.raises(TypeError, match=r"index it by objID"):
        as_collection(to_lightcurves_by_object(kq_uma))
    with pytest.raises(TypeError, match="not ndarray"):
        as_collection(np.zeros(3))
