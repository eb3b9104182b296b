"""The local PS1 DR2 TAP service (GAVO DaCHS + sample database) answers like MAST.

These tests talk to the server through plain pyvo, as MAST's "PS1 DR2 TAP" tutorial does, and
check that the tutorial's queries get the tutorial's answers.  The numbers come from
``localtap/sample.py``; how to run the server is in ``docs/localtap.rst``.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import pyvo
from pyvo.dal import DALOverflowWarning
from astropy.table import Table

from localtap import sample

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.server

KQ, EB1, EB2 = sample.KQ_UMA, sample.KIC_2161623, sample.KIC_8153568

MEAN_COLUMNS = ("objID, RAMean, DecMean, nDetections, ng, nr, ni, nz, ny, gMeanPSFMag, "
                "rMeanPSFMag, iMeanPSFMag, zMeanPSFMag, yMeanPSFMag")


def cone_query(ra, dec, radius):
    """The tutorial's mean-object cone search, verbatim."""
    return f"""
SELECT {MEAN_COLUMNS}
FROM dbo.MeanObjectView
WHERE
CONTAINS(POINT('ICRS', RAMean, DecMean),CIRCLE('ICRS',{ra},{dec},{radius}))=1
AND nDetections > 1
"""


def tutorial_detections(objid, good_only=False):
    """The tutorial's detection query, verbatim: unqualified table names and NATURAL JOIN."""
    cut = "AND psfQfPerfect >= 0.9\n" if good_only else ""
    return f"""
SELECT
objID, detectID, Detection.filterID as filterID, Filter.filterType, obsTime, ra, dec,
psfFlux, psfFluxErr, psfMajorFWHM, psfMinorFWHM, psfQfPerfect,
apFlux, apFluxErr, infoFlag, infoFlag2, infoFlag3
FROM Detection
NATURAL JOIN Filter
WHERE objID={objid}
{cut}ORDER BY filterID, obsTime
"""


@pytest.fixture(scope="module")
def tap(ps1tap_server):
    return pyvo.dal.TAPService(ps1tap_server)


def column(table, name):
    """A result column whatever the case the server gave its name (MAST varies too)."""
    for c in table.colnames:
        if c.lower() == name.lower():
            return table[c]
    raise KeyError(name)


def count(tap, adql):
    return int(tap.run_sync(adql).to_table()["n"][0])


# ---- the tutorial, step by step ---------------------------------------------------------
def test_the_m87_cone_has_6927_objects_as_at_mast(tap):
    # the tutorial runs this one asynchronously
    job = tap.run_async(cone_query(sample.M87_RA, sample.M87_DEC, sample.M87_RADIUS))
    result = job.to_table()
    assert len(result) == sample.M87_N_MULTI == 6927
    assert (column(result, "nDetections") > 1).all()
    assert sample.M87_OBJID in set(column(result, "objID"))


def test_the_m87_rows_the_tutorial_displayed_are_there_verbatim(tap):
    shown = Table.read(ROOT / "localtap" / "realrows"
                       / "nb_votap_2024-02_m87_cone_meanobjectview_shown_rows.csv",
                       format="ascii.csv", comment="#")
    ids = ", ".join(str(i) for i in shown["objID"])
    got = tap.run_sync(f"SELECT {MEAN_COLUMNS} FROM dbo.MeanObjectView WHERE objID IN ({ids})"
                       ).to_table()
    assert len(got) == len(shown) == sample.M87_N_REAL_ROWS
    by_id = {int(objid): k for k, objid in enumerate(column(got, "objID"))}
    for row in shown:
        k = by_id[int(row["objID"])]
        assert float(column(got, "RAMean")[k]) == row["RAMean"]
        assert float(column(got, "DecMean")[k]) == row["DecMean"]
        for name in ("nDetections", "ng", "nr", "ni", "nz", "ny"):
            assert int(column(got, name)[k]) == row[name]
        for band in "grizy":
            value = float(column(got, band + "MeanPSFMag")[k])
            assert value == pytest.approx(row[band + "MeanPSFMag"], abs=1e-4)


def test_objects_seen_once_are_there_too(tap):
    n = count(tap, f"""SELECT COUNT(*) AS n FROM dbo.MeanObjectView AS m WHERE
        CONTAINS(POINT('ICRS', m.raMean, m.decMean),
                 CIRCLE('ICRS', {sample.M87_RA}, {sample.M87_DEC}, {sample.M87_RADIUS})) = 1
        AND m.nDetections = 1""")
    assert n == sample.M87_N_SINGLE


def test_kq_uma_one_arcsec_cone_finds_its_real_object(tap):
    result = tap.run_async(cone_query(KQ.cone_ra, KQ.cone_dec, sample.STAR_CONE_RADIUS)
                           ).to_table()
    assert len(result) == 1
    assert int(column(result, "objID")[0]) == KQ.objid == 190361393344112894
    assert int(column(result, "nDetections")[0]) == KQ.n_detections == 66
    assert [int(column(result, "n" + b)[0]) for b in "grizy"] == [8, 10, 21, 13, 14]


def decode_objid(objid):
    """The position an objID encodes (MAST, "PS1 Object Identifiers"; zones 0.0083333 deg high).

    objID = zid * 10**13 + floor(ra * 10**6) * 10**4 + floor(zresid * 10**4)."""
    objid = np.asarray(objid, dtype=np.int64)
    zid = objid // 10**13
    ra = (objid // 10**4 % 10**9) * 1e-6
    dec = (zid + (objid % 10**4) * 1e-4) * 0.0083333 - 90.0
    return ra, dec


def test_every_objid_encodes_its_object_s_position_as_at_mast(tap):
    rows = tap.run_sync("SELECT o.objID, o.raMean, o.decMean FROM dbo.ObjectThin AS o"
                        ).to_table()
    assert len(rows) == 24800
    ra, dec = decode_objid(column(rows, "objID"))
    ra0, dec0 = np.asarray(column(rows, "raMean")), np.asarray(column(rows, "decMean"))
    offset = np.hypot((ra - ra0) * np.cos(np.radians(dec0)), dec - dec0) * 3600   # arcsec
    real = np.isin(np.asarray(column(rows, "objID")),
                   [s.objid for s in sample.STARS] + [sample.M87_OBJID])
    # the real IDs were made from earlier positions: well under an arcsecond (KQ UMa 0.2")
    assert 0.1 < offset[real].max() < 1.0
    # the generated ones from the positions served: to the last digit (3.6 mas in RA, 3 in Dec;
    # an ID that would have collided moved up by a digit or two)
    assert np.percentile(offset[~real], 99.9) < 0.01 and offset.max() < 1.0
    assert len(np.unique(column(rows, "objID"))) == len(rows)


def test_the_tutorial_detection_query_works_unchanged(tap):
    """Unqualified names (FROM Detection NATURAL JOIN Filter) work, as at MAST."""
    det = tap.run_async(tutorial_detections(KQ.objid)).to_table()
    assert len(det) == 66
    fid = np.asarray(column(det, "filterID"))
    assert (np.diff(fid) >= 0).all()                       # ORDER BY filterID, obsTime
    assert list(np.bincount(fid, minlength=6)[1:]) == [8, 10, 21, 13, 14]
    types = [t.decode() if isinstance(t, bytes) else t for t in column(det, "filterType")]
    assert [types[list(fid).index(k)] for k in range(1, 6)] == list("grizy")
    # the tutorial's bad z point, with its real detectID
    bad = det[np.asarray(column(det, "psfQfPerfect")) < 0.5]
    assert len(bad) == 1
    assert int(column(bad, "detectID")[0]) == sample.KQ_UMA_BAD_Z_DETECTID
    assert float(column(bad, "obsTime")[0]) == sample.KQ_UMA_BAD_Z_OBSTIME
    assert float(column(bad, "psfQfPerfect")[0]) == pytest.approx(sample.KQ_UMA_BAD_Z_QF)
    mag = -2.5 * np.log10(float(column(bad, "psfFlux")[0])) + 8.90
    assert mag == pytest.approx(17.644, abs=1e-3)


def test_the_portable_form_gives_the_same_rows(tap):
    portable = tap.run_sync(f"""
        SELECT d.objID, d.detectID, d.filterID, f.filterType, d.obsTime, d.psfFlux
        FROM dbo.Detection AS d JOIN dbo.Filter AS f ON d.filterID = f.filterID
        WHERE d.objID = {KQ.objid} ORDER BY d.filterID, d.obsTime""").to_table()
    tutorial = tap.run_sync(tutorial_detections(KQ.objid)).to_table()
    assert list(column(portable, "detectID")) == list(column(tutorial, "detectID"))


@pytest.mark.parametrize("star", [EB1, EB2], ids=lambda s: s.name)
def test_eclipsing_binaries_have_the_tutorials_good_point_counts(tap, star):
    mean = tap.run_async(cone_query(star.cone_ra, star.cone_dec, sample.STAR_CONE_RADIUS)
                         ).to_table()
    assert int(column(mean, "objID")[0]) == star.objid
    assert int(column(mean, "nDetections")[0]) == star.n_detections
    good = tap.run_async(tutorial_detections(star.objid, good_only=True)).to_table()
    assert len(good) == star.n_good                        # 45 and 60, as at MAST
    assert (np.asarray(column(good, "psfQfPerfect")) >= 0.9).all()


def test_mean_rows_agree_with_the_detections(tap):
    """nDetections and ng..ny are the numbers of Detection rows (synthesised objects)."""
    rows = tap.run_sync(f"""
        SELECT TOP 50 o.objID, o.nDetections, o.ng, o.ny, COUNT(*) AS n,
               SUM(CASE WHEN d.filterID = 1 THEN 1 ELSE 0 END) AS n_g
        FROM dbo.ObjectThin AS o JOIN dbo.Detection AS d ON d.objID = o.objID
        WHERE CONTAINS(POINT('ICRS', o.raMean, o.decMean),
                       CIRCLE('ICRS', {sample.M87_RA}, {sample.M87_DEC}, 0.05)) = 1
        GROUP BY o.objID, o.nDetections, o.ng, o.ny
        ORDER BY o.objID""").to_table()
    assert len(rows) == 50
    assert (np.asarray(column(rows, "nDetections")) == np.asarray(rows["n"])).all()
    assert (np.asarray(column(rows, "ng")) == np.asarray(rows["n_g"])).all()


def test_forced_photometry_covers_every_warp(tap):
    forced = tap.run_sync(f"""SELECT f.obsTime, f.filterID, f.FpsfFlux, f.FpsfFluxErr,
        f.FpsfQfPerfect, f.detectID FROM dbo.ForcedWarpMeasurement AS f
        WHERE f.objID = {KQ.objid}""").to_table()
    assert len(forced) == sample.STAR_N_WARPS[KQ.name] > KQ.n_detections
    detected = np.asarray(column(forced, "detectID")) != 0
    assert detected.sum() == KQ.n_detections               # warps without a detection: 0


@pytest.mark.parametrize("view, n_columns", [
    ("MeanObjectView", 124), ("StackObjectView", 297), ("ForcedMeanObjectView", 199)])
def test_the_object_views_have_mast_s_columns(tap, view, n_columns):
    row = tap.run_sync(f"SELECT * FROM dbo.{view} WHERE objID = {KQ.objid}").to_table()
    assert len(row) == 1 and len(row.colnames) == n_columns
    assert int(column(row, "nDetections")[0]) == KQ.n_detections


# ---- the protocol: limits, types, uploads, async -----------------------------------------
def test_the_service_declares_mast_like_limits(tap):
    assert tap.maxrec == sample.MAXREC_DEFAULT == 100000
    assert tap.hardlimit == sample.MAXREC_HARD == 100000


def test_a_result_over_the_limit_is_truncated_with_overflow(tap):
    with pytest.warns(DALOverflowWarning):       # pyvo says so, as it would at MAST
        result = tap.run_sync("SELECT d.objID, d.detectID FROM dbo.Detection AS d")
    assert len(result) == sample.MAXREC_HARD
    assert result.query_status == "OVERFLOW"
    small = tap.run_sync("SELECT d.objID FROM dbo.Detection AS d", maxrec=5)
    assert len(small) == 5 and small.query_status == "OVERFLOW"
    top = tap.run_sync("SELECT TOP 5 d.objID FROM dbo.Detection AS d")
    assert len(top) == 5 and top.query_status == "OK"


def test_ids_above_2_to_the_53_round_trip_exactly(tap):
    result = tap.run_sync(f"SELECT d.objID, d.detectID FROM dbo.Detection AS d "
                          f"WHERE d.detectID = {sample.KQ_UMA_BAD_Z_DETECTID}").to_table()
    objid = column(result, "objID")
    assert objid.dtype == np.int64
    assert int(objid[0]) == KQ.objid > 2**53
    assert float(KQ.objid) != KQ.objid                     # a float would have lost it
    assert int(column(result, "detectID")[0]) == sample.KQ_UMA_BAD_Z_DETECTID


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_tap_upload_joins_a_local_table(tap, mode):
    mine = Table({"id": np.array([s.objid for s in sample.STARS] + [1], dtype=np.int64)})
    adql = """SELECT u.id, m.nDetections FROM TAP_UPLOAD.mine AS u
              JOIN dbo.MeanObjectView AS m ON m.objID = u.id ORDER BY m.nDetections"""
    run = tap.run_sync if mode == "sync" else tap.run_async
    result = run(adql, uploads={"mine": mine})
    result = result.to_table()
    assert list(column(result, "nDetections")) == sorted(s.n_detections for s in sample.STARS)


def test_the_value_column_of_the_flag_tables_is_a_quoted_name(tap):
    flags = tap.run_sync('SELECT name, "value", hexadecimal, description FROM dbo.DetectionFlags '
                         'ORDER BY "value"').to_table()
    assert column(flags, "name")[0] == "PSFMODEL" and int(column(flags, "value")[0]) == 1
    assert len(tap.run_sync("SELECT * FROM dbo.Filter").to_table()) == 5


def test_errors_come_back_as_dal_query_errors(tap):
    with pytest.raises(pyvo.dal.DALQueryError, match="nosuchtable"):
        tap.run_sync("SELECT * FROM dbo.NoSuchTable")


# ---- the bulk field -------------------------------------------------------------------------
def bulk_cone(alias):
    return (f"CONTAINS(POINT('ICRS', {alias}.raMean, {alias}.decMean), CIRCLE('ICRS', "
            f"{sample.BULK_RA}, {sample.BULK_DEC}, {sample.BULK_RADIUS})) = 1")


def test_the_bulk_field_has_its_objects_and_a_million_detections(tap):
    n_obj = count(tap, f"SELECT COUNT(*) AS n FROM dbo.ObjectThin AS o WHERE {bulk_cone('o')}")
    assert n_obj, ("the bulk field is missing: the server was started with --no-bulk; "
                   "run `python localtap/server.py start` to load it")
    assert n_obj == sample.BULK_N_OBJECTS
    n_det = count(tap, f"""SELECT COUNT(*) AS n FROM dbo.Detection AS d
                           JOIN dbo.ObjectThin AS o ON d.objID = o.objID WHERE {bulk_cone('o')}""")
    assert n_det == sample.BULK_N_DETECTIONS >= 1000000
    n_forced = count(tap, f"""SELECT COUNT(*) AS n FROM dbo.ForcedWarpMeasurement AS f
                              JOIN dbo.ObjectThin AS o ON f.objID = o.objID
                              WHERE {bulk_cone('o')}""")
    assert n_forced == sample.BULK_N_FORCED


# ---- the start script ---------------------------------------------------------------------
def test_a_second_start_is_idempotent_and_does_not_reload(ps1tap_server):
    if os.environ.get("PS1TAP_TEST_SERVER"):
        pytest.skip("PS1TAP_TEST_SERVER names a server this test did not start")
    stamp_file = Path("/var/gavo/inputs/ps1dr2/stamp.json")
    before = json.loads(stamp_file.read_text())
    done = subprocess.run([sys.executable, str(ROOT / "localtap" / "server.py"), "start"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == ps1tap_server
    assert "generation:" not in done.stderr                # nothing regenerated ...
    assert json.loads(stamp_file.read_text()) == before    # ... nor reloaded


# ---- the ps1_dr2 schema (MAST's newer service) ------------------------------------------------
PS1_DR2_TABLES = {"mean_object": "MeanObjectView", "detection": "Detection",
                  "forced_mean_object": "ForcedMeanObject", "stack_object": "StackObjectView"}


def test_the_newer_services_schema_is_published_with_its_snake_case_names(tap):
    names = tap.run_sync("SELECT t.table_name FROM TAP_SCHEMA.tables AS t "
                         "WHERE t.schema_name = 'ps1_dr2'").to_table()
    assert sorted(str(n) for n in names["table_name"]) == sorted(f"ps1_dr2.{t}" for t in PS1_DR2_TABLES)
    # as seen at MAST: no filter table (filter names come from filterID)
    with pytest.raises(pyvo.dal.DALQueryError, match="filter"):
        tap.run_sync("SELECT * FROM ps1_dr2.filter")


@pytest.mark.parametrize("table, twin", PS1_DR2_TABLES.items())
def test_the_newer_tables_hold_the_same_rows_as_their_dbo_twins(tap, table, twin):
    n_new = count(tap, f"SELECT COUNT(*) AS n FROM ps1_dr2.{table} AS t")
    assert n_new == count(tap, f"SELECT COUNT(*) AS n FROM dbo.{twin} AS t") > 0


def test_the_tutorial_cone_in_the_newer_services_form(tap):
    """Geometry without the 'ICRS' argument, as in MAST's notebooks for the new service."""
    result = tap.run_sync(f"""SELECT o.objID, o.nDetections FROM ps1_dr2.mean_object AS o
        WHERE CONTAINS(POINT(o.raMean, o.decMean),
                       CIRCLE({sample.M87_RA}, {sample.M87_DEC}, {sample.M87_RADIUS})) = 1
        AND o.nDetections > 1""").to_table()
    assert len(result) == sample.M87_N_MULTI == 6927


def test_kq_uma_has_the_same_66_detections_in_both_schemas(tap):
    def detections(table):
        return tap.run_sync(f"SELECT d.detectID, d.filterID, d.obsTime, d.psfFlux, d.psfQfPerfect "
                            f"FROM {table} AS d WHERE d.objID = {KQ.objid} ORDER BY d.detectID").to_table()
    new, old = detections("ps1_dr2.detection"), detections("dbo.Detection")
    assert len(new) == KQ.n_detections == 66
    for name in ("detectID", "filterID", "obsTime", "psfFlux", "psfQfPerfect"):
        assert np.array_equal(np.asarray(column(new, name)), np.asarray(column(old, name)))
    assert list(np.bincount(np.asarray(column(new, "filterID")), minlength=6)[1:]) == [8, 10, 21, 13, 14]


def test_forced_mean_objects_have_positions_there(tap):
    row = tap.run_sync(f"SELECT f.objID, f.raMean, f.decMean, f.gFPSFMag FROM ps1_dr2.forced_mean_object "
                       f"AS f WHERE f.objID = {KQ.objid}").to_table()
    assert float(column(row, "raMean")[0]) == KQ.ra and float(column(row, "decMean")[0]) == KQ.dec
