"""Reading and writing PS1 light-curve files: ``LightCurve.read(path, format="ps1", filter=...)``,
`read_ps1_lightcurves` (``PS1LightCurveCollection.read(path, format="ps1")``) for PS1 detection
files however they were saved (CasJobs-style CSV, VOTable, astroquery.mast.Catalogs tables written
to disk, ECSV/CSV/FITS of canonical tables), and `write_ps1_lightcurves` (``lc.write(path,
format="ps1")``), whose files read back with the time still in TAI."""
import gzip
import shutil
import warnings

import numpy as np
import pytest
from astropy.io import registry
from astropy.io.fits.verify import VerifyWarning
from astropy.table import Table, vstack

from astroquery_ps1tap import tables
from astroquery_ps1tap.lightcurves import (PS1LightCurveCollection, PS1LightCurveWarning, combine_bands,
                                           read_ps1_lightcurve, read_ps1_lightcurves, read_ps1_table,
                                           to_lightcurves, write_ps1_lightcurves)
from astroquery_ps1tap.periods import simulate_detections

import lightkurve as lk  # noqa: I100  (after astroquery_ps1tap.lightcurves: imported quietly)

pytestmark = pytest.mark.filterwarnings("error")

KQ_UMA = 190361393344112894
#: A 19-digit identifier: beyond float64's exact integers (2**53 ~ 9.0e15) by far.
BIG_ID = 9123456789012345678


@pytest.fixture
def kq_uma_csv(real_rows):
    """KQ UMa's detections as the tutorial showed them: a CSV with ``#`` comment lines."""
    return real_rows.path("kq_uma_detections")


def test_a_casjobs_style_csv_with_comment_lines(kq_uma_csv):
    """The real rows as saved from the tutorial: ``#`` comments, lower-case ``filterid``."""
    lc = lk.LightCurve.read(kq_uma_csv, format="ps1", filter="g")
    assert lc.filter == "g" and len(lc) == 8
    assert lc.meta["TARGETID"] == KQ_UMA
    assert lc.time.scale == "tai"
    assert lc["detectID"][0] == 153347716310000010

    lcs = PS1LightCurveCollection.read(kq_uma_csv, format="ps1")
    assert lcs.filters == ["g", "r", "y"] and isinstance(lcs, PS1LightCurveCollection)
    assert lcs[2].meta["N_MASKED"] == 1                  # the psfQfPerfect 0.85 y point


def test_reader_options_reach_the_adapter(kq_uma_csv):
    y = lk.LightCurve.read(kq_uma_csv, format="ps1", filter="Y", quality_bitmask="none",
                           flux="ap")
    assert len(y) == 10 and y.meta["FLUX_ORIGIN"] == "apFlux"


def test_nineteen_digit_ids_are_read_exactly(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("objID,detectID,filterID,obsTime,psfFlux,psfFluxErr,psfQfPerfect\n"
                    f"{BIG_ID},{BIG_ID - 1},2,55000.5,0.001,0.00001,0.99\n"
                    f"{BIG_ID},{BIG_ID - 2},2,55001.5,0.001,0.00001,0.99\n")
    table = read_ps1_table(path)
    assert table["objID"].dtype.kind == "U"               # read as text, not guessed
    lc = lk.LightCurve.read(path, format="ps1")            # a single filter needs no filter=
    assert lc.meta["TARGETID"] == BIG_ID
    assert lc["detectID"].tolist() == [BIG_ID - 1, BIG_ID - 2]
    assert float(BIG_ID) != BIG_ID                        # what a float parse would have lost


def test_ids_that_were_already_floats_are_refused(tmp_path):
    """A file whose ids went through float (e.g. a spreadsheet) cannot be repaired: say so."""
    path = tmp_path / "floaty.csv"
    path.write_text("objID,filterID,obsTime,psfFlux\n1.9036139334411290e+17,1,55000.5,0.001\n")
    with pytest.raises(ValueError, match="non-integer"):
        read_ps1_lightcurves(path)


@pytest.fixture
def shaped_kq_uma(kq_uma_csv):
    """KQ UMa's detections as the package shapes them (what ``ps1tap --output`` writes)."""
    table = read_ps1_table(kq_uma_csv)
    table.meta.clear()
    return tables.shape_detections(table)


@pytest.mark.parametrize("suffix, kwargs", [(".ecsv", {}), (".fits", {}), (".xml", {"format": "votable"}),
                                            (".csv", {"format": "ascii.csv"})])
def test_round_trip_of_files_written_from_canonical_tables(shaped_kq_uma, tmp_path, suffix, kwargs):
    """What ``ps1tap`` writes: the canonical table in ECSV, FITS, VOTable or CSV."""
    path = tmp_path / f"kq_uma{suffix}"
    with warnings.catch_warnings():      # FITS: meta["PHOTOMETRY"] becomes a HIERARCH card
        warnings.simplefilter("ignore", VerifyWarning)
        shaped_kq_uma.write(path, **kwargs)
    lcs = read_ps1_lightcurves(path)
    assert [x.filter for x in lcs] == ["g", "r", "y"]
    assert lcs[0].meta["TARGETID"] == KQ_UMA
    np.testing.assert_array_equal(lcs[0].time.mjd, shaped_kq_uma["obsTime"][:8])


def test_a_votable_with_lower_case_names_and_bytes_filter(kq_uma_csv, tmp_path):
    """As the service returned it from Oct 2023 to Jan 2024; saved from TOPCAT."""
    table = read_ps1_table(kq_uma_csv)
    table.meta.clear()
    for name in table.colnames:
        table.rename_column(name, name.lower())
    table["filtertype"] = np.char.encode(np.asarray(table["filtertype"], dtype=str), "ascii")
    path = tmp_path / "lower.vot"
    table.write(path, format="votable")
    lcs = read_ps1_lightcurves(path)
    assert [x.filter for x in lcs] == ["g", "r", "y"]


def test_an_astroquery_catalogs_table_saved_to_disk(tmp_path):
    """astroquery.mast.Catalogs(catalog="Panstarrs", table="detection"): objID as text and no
    filterType; saved with Table.write."""
    table = Table({"objID": [str(KQ_UMA)] * 3, "detectID": ["153347716310000010", "1", "2"],
                   "filterID": [1, 1, 3], "obsTime": [55634.477414, 55634.4899457, 55700.1],
                   "psfFlux": [0.00826192, 0.0077373, 0.005], "psfFluxErr": [1.1e-5] * 3,
                   "psfQfPerfect": [0.99] * 3})
    path = tmp_path / "catalogs.ecsv"
    table.write(path)
    lcs = read_ps1_lightcurves(path)
    assert [x.filter for x in lcs] == ["g", "i"] and lcs[0].meta["TARGETID"] == KQ_UMA
    assert lcs[0]["detectID"][0] == 153347716310000010


def test_gzipped_csv(kq_uma_csv, tmp_path):
    path = tmp_path / "kq_uma.csv.gz"
    with open(kq_uma_csv, "rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert len(lk.LightCurve.read(path, format="ps1", filter="g")) == 8


def test_several_objects_need_objid(shaped_kq_uma, tmp_path):
    table = shaped_kq_uma
    other = table.copy()
    other["objID"] = 153102917444859851
    path = tmp_path / "two.ecsv"
    vstack([table, other]).write(path)
    with pytest.raises(ValueError, match="holds 2 objects.*objid="):
        read_ps1_lightcurves(path)
    lcs = read_ps1_lightcurves(path, objid="153102917444859851")
    assert lcs[0].meta["TARGETID"] == 153102917444859851
    with pytest.raises(ValueError, match="not in the file"):
        lk.LightCurve.read(path, format="ps1", filter="g", objid=1)


def test_filter_errors_say_what_is_there(kq_uma_csv):
    with pytest.raises(ValueError, match="filters g, r, y: pass filter="):
        lk.LightCurve.read(kq_uma_csv, format="ps1")
    with pytest.raises(ValueError, match=r"no i detections .* \(filters present: g, r, y\)"):
        lk.LightCurve.read(kq_uma_csv, format="ps1", filter="i")
    with pytest.raises(ValueError, match="unknown PS1 filter 'u'"):
        lk.LightCurve.read(kq_uma_csv, format="ps1", filter="u")


def test_a_filter_emptied_by_the_quality_mask_is_an_error_not_an_empty_curve(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("objID,filterID,obsTime,psfFlux,psfFluxErr,psfQfPerfect\n"
                    f"{KQ_UMA},4,55933.5264577,0.000317945,6.73008e-06,0.322986\n")
    with pytest.raises(ValueError, match="removed by the quality mask"):
        lk.LightCurve.read(path, format="ps1", filter="z")
    assert len(lk.LightCurve.read(path, format="ps1", quality_bitmask="none")) == 1


def test_not_a_detections_file(real_rows):
    path = real_rows.path("kq_uma_meanobjectview")
    with pytest.raises(ValueError, match="not a PS1 detections table"):
        read_ps1_lightcurves(path)


def test_the_ps1_format_is_registered_without_patching_lightkurve():
    assert registry.get_reader("ps1", lk.LightCurve) is read_ps1_lightcurve
    assert registry.get_reader("ps1", lk.LightCurveCollection) is read_ps1_lightcurves
    assert registry.get_writer("ps1", lk.LightCurve) is write_ps1_lightcurves
    assert registry.get_writer("ps1", lk.LightCurveCollection) is write_ps1_lightcurves
    assert "ps1" in registry.get_formats(lk.LightCurve)["Format"]
    # lightkurve's own collection has no read or write: the package gives its subclass those
    assert not hasattr(lk.LightCurveCollection, "read") and not hasattr(lk.LightCurveCollection, "write")
    assert issubclass(PS1LightCurveCollection, lk.LightCurveCollection)


# --- writing light curves that read back -------------------------------------------------------

def assert_same_curves(got, want):
    """Same filters, times (TAI), fluxes, magnitudes, quality bits and object metadata."""
    assert got.filters == want.filters
    for a, b in zip(got, want):
        assert a.time.scale == "tai"
        np.testing.assert_array_equal(a.time.tai.mjd, b.time.tai.mjd)
        for name in ("flux", "flux_err", "mag", "mag_err", "dmag"):
            np.testing.assert_allclose(a[name].value, b[name].value, rtol=1e-12, equal_nan=True)
            assert a[name].unit == b[name].unit
        for name in ("quality", "psfQfPerfect", "infoFlag", "detectID"):
            np.testing.assert_array_equal(a[name], b[name])
        for key in ("TARGETID", "FILTER", "RA", "DEC", "MEAN_MAG", "FLUX_ORIGIN", "PHOTOMETRY"):
            assert a.meta[key] == b.meta[key], key


@pytest.mark.parametrize("suffix", [".fits", ".ecsv", ".csv", ".vot"])
def test_written_light_curves_read_back_with_tai_time(real_rows, tmp_path, suffix):
    detections = vstack([real_rows("kq_uma_detections"), real_rows("kq_uma_bad_z_point")])
    mean = real_rows("kq_uma_meanobjectview")
    lcs = to_lightcurves(detections, mean, quality_bitmask="none")
    path = tmp_path / f"kq_uma{suffix}"
    write_ps1_lightcurves(lcs, path)
    again = read_ps1_lightcurves(path, quality_bitmask="none")
    assert_same_curves(again, lcs)
    assert again["z"]["quality"][0] != 0                        # the bad z point, still flagged
    # the default mask removes what it removed from the original detections: the bad z point,
    # KQ UMa's only z point here
    with pytest.warns(PS1LightCurveWarning, match="filter z"):
        default = to_lightcurves(detections, mean)
    with pytest.warns(PS1LightCurveWarning, match="filter z"):
        assert_same_curves(read_ps1_lightcurves(path), default)


def test_the_file_says_tai_and_stays_tai_whatever_the_curves_scale(real_rows, tmp_path):
    lcs = to_lightcurves(real_rows("kq_uma_detections"))
    g = lcs["g"]
    # a user may have moved the curve to another time scale
    in_tdb = lk.LightCurve(time=g.time.tdb, data=g[g.colnames[1:]], meta=g.meta)
    assert in_tdb.time.scale == "tdb"
    path = tmp_path / "g.fits"
    in_tdb.write(path, format="ps1")              # the registered writer
    from astropy.io import fits
    with fits.open(path) as hdus:
        assert hdus[1].header["TIMESYS"] == "TAI"
    back = lk.LightCurve.read(path, format="ps1")
    assert back.time.scale == "tai"
    np.testing.assert_allclose(back.time.mjd, g.time.mjd, rtol=0, atol=1e-9)   # < 0.1 ms
    # in TDB the same instants are 32.184 s later than in TAI
    assert np.allclose((in_tdb.time.mjd - back.time.mjd) * 86400, 32.184, atol=0.002)


def test_a_collection_writes_through_the_registry_too(tmp_path):
    lcs = to_lightcurves(simulate_detections("rrlyrae", 0.48636, seed=2))
    lcs.write(tmp_path / "rr.ecsv", format="ps1")
    assert_same_curves(PS1LightCurveCollection.read(tmp_path / "rr.ecsv", format="ps1"), lcs)


def test_forced_photometry_reads_back_as_forced(tmp_path):
    raw = Table({"objID": [KQ_UMA] * 2, "forcedWarpID": [11, 12], "filterID": [2, 2],
                 "obsTime": [55000.0, 55010.0], "FpsfFlux": [1e-3, -2e-5],
                 "FpsfFluxErr": [1e-5, 1e-5], "FpsfQfPerfect": [0.99, 0.99], "FinfoFlag": [0, 0]})
    lcs = to_lightcurves(raw, quality_bitmask="none")
    write_ps1_lightcurves(lcs, tmp_path / "forced.fits")
    again = read_ps1_lightcurves(tmp_path / "forced.fits", quality_bitmask="none")
    assert again["r"].meta["PHOTOMETRY"] == "forced"
    assert again["r"]["forcedWarpID"].tolist() == [11, 12]
    np.testing.assert_array_equal(again["r"].flux.value, lcs["r"].flux.value)


def test_what_cannot_be_written_is_refused_before_writing(real_rows, tmp_path):
    lcs = to_lightcurves(real_rows("kq_uma_detections"))
    path = tmp_path / "out.fits"
    with pytest.raises(ValueError, match="combine_bands curve cannot"):
        write_ps1_lightcurves(combine_bands(lcs), path)
    with pytest.raises(ValueError, match="flux is not in Jy"):
        write_ps1_lightcurves(lcs["g"].normalize(), path)
    other = to_lightcurves(simulate_detections("constant", 1.0, objid=7, seed=0))
    with pytest.raises(ValueError, match="one PS1 object"):
        write_ps1_lightcurves(lk.LightCurveCollection([lcs["g"], other["r"]]), path)
    with pytest.raises(ValueError, match="cannot tell the format of .*out.txt.gz"):
        write_ps1_lightcurves(lcs, tmp_path / "out.txt.gz")
    with pytest.raises(ValueError, match="no points"):
        write_ps1_lightcurves(lcs[:0], path)
    assert not path.exists()
