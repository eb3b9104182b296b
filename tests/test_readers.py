"""``LightCurve.read(path, format="ps1", filter=...)`` and ``LightCurveCollection.read(path,
format="ps1")`` for PS1 detection files however they were saved: CasJobs-style CSV, VOTable,
astroquery.mast.Catalogs tables written to disk, and ECSV/CSV/FITS of canonical tables."""
import gzip
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import registry
from astropy.io.fits.verify import VerifyWarning
from astropy.table import Table

from astroquery_ps1tap import readers, tables   # imports lightkurve quietly, registers "ps1"
from astroquery_ps1tap.readers import read_ps1_table, register

import lightkurve as lk  # noqa: E402,I100  (after readers: no optional-dependency warning)

pytestmark = pytest.mark.filterwarnings("error")

DATA = Path(__file__).parent / "data"
KQ_UMA_CSV = DATA / "nb_votap_2024-02_kq_uma_detections_shown_rows.csv"
KQ_UMA = 190361393344112894
#: A 19-digit identifier: beyond float64's exact integers (2**53 ~ 9.0e15) by far.
BIG_ID = 9123456789012345678


def test_a_casjobs_style_csv_with_comment_lines():
    """The real rows as saved from the tutorial: ``#`` comments, lower-case ``filterid``."""
    lc = lk.LightCurve.read(KQ_UMA_CSV, format="ps1", filter="g")
    assert lc.filter == "g" and len(lc) == 8
    assert lc.meta["TARGETID"] == KQ_UMA
    assert lc.time.scale == "tai"
    assert lc["detectID"][0] == 153347716310000010

    lcs = lk.LightCurveCollection.read(KQ_UMA_CSV, format="ps1")
    assert [x.filter for x in lcs] == ["g", "r", "y"]
    assert lcs[2].meta["N_MASKED"] == 1                  # the psfQfPerfect 0.85 y point


def test_reader_options_reach_the_adapter():
    y = lk.LightCurve.read(KQ_UMA_CSV, format="ps1", filter="Y", quality_bitmask="none",
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
        lk.LightCurveCollection.read(path, format="ps1")


def shaped_kq_uma():
    table = read_ps1_table(KQ_UMA_CSV)
    table.meta.clear()
    return tables.shape_detections(table)


@pytest.mark.parametrize("suffix, kwargs", [(".ecsv", {}), (".fits", {}), (".xml", {"format": "votable"}),
                                            (".csv", {"format": "ascii.csv"})])
def test_round_trip_of_files_written_from_canonical_tables(tmp_path, suffix, kwargs):
    """What ``ps1tap`` writes: the canonical table in ECSV, FITS, VOTable or CSV."""
    path = tmp_path / f"kq_uma{suffix}"
    with warnings.catch_warnings():      # FITS: meta["PHOTOMETRY"] becomes a HIERARCH card
        warnings.simplefilter("ignore", VerifyWarning)
        shaped_kq_uma().write(path, **kwargs)
    lcs = lk.LightCurveCollection.read(path, format="ps1")
    assert [x.filter for x in lcs] == ["g", "r", "y"]
    assert lcs[0].meta["TARGETID"] == KQ_UMA
    np.testing.assert_array_equal(lcs[0].time.mjd, shaped_kq_uma()["obsTime"][:8])


def test_a_votable_with_lower_case_names_and_bytes_filter(tmp_path):
    """As the service returned it from Oct 2023 to Jan 2024; saved from TOPCAT."""
    table = read_ps1_table(KQ_UMA_CSV)
    table.meta.clear()
    for name in table.colnames:
        table.rename_column(name, name.lower())
    table["filtertype"] = np.char.encode(np.asarray(table["filtertype"], dtype=str), "ascii")
    path = tmp_path / "lower.vot"
    table.write(path, format="votable")
    lcs = lk.LightCurveCollection.read(path, format="ps1")
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
    lcs = lk.LightCurveCollection.read(path, format="ps1")
    assert [x.filter for x in lcs] == ["g", "i"] and lcs[0].meta["TARGETID"] == KQ_UMA
    assert lcs[0]["detectID"][0] == 153347716310000010


def test_gzipped_csv(tmp_path):
    path = tmp_path / "kq_uma.csv.gz"
    with open(KQ_UMA_CSV, "rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert len(lk.LightCurve.read(path, format="ps1", filter="g")) == 8


def test_several_objects_need_objid(tmp_path):
    table = shaped_kq_uma()
    other = table.copy()
    other["objID"] = 153102917444859851
    from astropy.table import vstack
    path = tmp_path / "two.ecsv"
    vstack([table, other]).write(path)
    with pytest.raises(ValueError, match="holds 2 objects.*objid="):
        lk.LightCurveCollection.read(path, format="ps1")
    lcs = lk.LightCurveCollection.read(path, format="ps1", objid="153102917444859851")
    assert lcs[0].meta["TARGETID"] == 153102917444859851
    with pytest.raises(ValueError, match="not in the file"):
        lk.LightCurve.read(path, format="ps1", filter="g", objid=1)


def test_filter_errors_say_what_is_there():
    with pytest.raises(ValueError, match="filters g, r, y: pass filter="):
        lk.LightCurve.read(KQ_UMA_CSV, format="ps1")
    with pytest.raises(ValueError, match=r"no i detections .* \(filters present: g, r, y\)"):
        lk.LightCurve.read(KQ_UMA_CSV, format="ps1", filter="i")
    with pytest.raises(ValueError, match="unknown PS1 filter 'u'"):
        lk.LightCurve.read(KQ_UMA_CSV, format="ps1", filter="u")


def test_a_filter_emptied_by_the_quality_mask_is_an_error_not_an_empty_curve(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("objID,filterID,obsTime,psfFlux,psfFluxErr,psfQfPerfect\n"
                    f"{KQ_UMA},4,55933.5264577,0.000317945,6.73008e-06,0.322986\n")
    with pytest.raises(ValueError, match="removed by the quality mask"):
        lk.LightCurve.read(path, format="ps1", filter="z")
    assert len(lk.LightCurve.read(path, format="ps1", quality_bitmask="none")) == 1


def test_not_a_detections_file(tmp_path):
    path = tmp_path / "mean.csv"
    shutil.copy(DATA / "nb_votap_2024-02_kq_uma_meanobjectview_shown_rows.csv", path)
    with pytest.raises(ValueError, match="not a PS1 detections table"):
        lk.LightCurveCollection.read(path, format="ps1")


def test_register_is_idempotent_and_covers_both_classes():
    register()
    register()
    assert registry.get_reader("ps1", lk.LightCurve) is readers.read_ps1_lightcurve
    assert registry.get_reader("ps1", lk.LightCurveCollection) is readers.read_ps1_lightcurves
    assert "ps1" in registry.get_formats(lk.LightCurve)["Format"]
