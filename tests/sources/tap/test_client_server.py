"""PanstarrsTapClass against a real TAP server: the local DaCHS service with the PS1 sample database.

The sample reproduces the MAST tutorial's answers (``localtap/sample.py``), so these tests check
the same numbers the tutorial got at MAST.  The local service publishes the sample in both of
MAST's schemas (``dbo``, as on MAST's legacy service, and ``ps1_dr2``, as on its newer one): the
tests proving the client run on each (the ``ps1`` fixture), and must give the same answers.
"""
import warnings

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astroquery.exceptions import InvalidQueryError, MaxResultsWarning, NoResultsWarning

from astroquery_ps1tap import PanstarrsTapClass, conf, schema
from localtap import sample

pytestmark = pytest.mark.server

KQ, EB1, EB2 = sample.KQ_UMA, sample.KIC_2161623, sample.KIC_8153568


def client_of(server, cache, schema=None):
    """A client of the local server with a cache of its own, which has already learnt what the
    service publishes (one TAP_SCHEMA query per client), so tests count only their own requests."""
    client = PanstarrsTapClass(server=server, schema=schema)
    client.cache_location = cache
    client.source.metadata()
    return client


@pytest.fixture(params=["dbo", "ps1_dr2"])
def ps1(request, ps1tap_server, tmp_path):
    """A client of the local server, for each of MAST's two PS1 schemas."""
    return client_of(ps1tap_server, tmp_path / "cache", request.param)


@pytest.fixture
def dbo(ps1tap_server, tmp_path):
    """A client of the local server's ``dbo`` schema (for tests of the query path, not the schema)."""
    return client_of(ps1tap_server, tmp_path / "cache", "dbo")


@pytest.fixture
def requests_sent(monkeypatch):
    """The HTTP requests the client sends (method, url)."""
    from astroquery_ps1tap.sources.tap.service import RetryingSession

    sent = []
    original = RetryingSession.request

    def spy(self, method, url, *args, **kwargs):
        sent.append((method, url))
        return original(self, method, url, *args, **kwargs)
    monkeypatch.setattr(RetryingSession, "request", spy)
    return sent


class TestQueryRegion:
    def test_the_tutorial_cone_around_m87(self, ps1, requests_sent):
        m87 = ps1.query_region(SkyCoord(sample.M87_RA, sample.M87_DEC, unit="deg"), sample.M87_RADIUS * u.deg)
        assert len(m87) == sample.M87_N_MULTI == 6927
        assert requests_sent == [("POST", ps1.server + "/sync")]  # one round trip, nothing else
        assert m87["objID"][0] == sample.M87_OBJID  # nearest the centre first
        assert (np.diff(m87["separation"]) >= 0).all()
        assert m87["raMean"].unit == u.deg and m87["gMeanPSFMag"].unit == u.mag
        assert m87["objID"].dtype == np.int64

    def test_the_detection_cut_can_be_turned_off(self, ps1):
        everything = ps1.query_region((sample.M87_RA, sample.M87_DEC), sample.M87_RADIUS,
                                      min_detections=None)
        assert len(everything) == sample.M87_N_MULTI + sample.M87_N_SINGLE

    def test_minus_999_is_masked(self, ps1):
        m87 = ps1.query_region((sample.M87_RA, sample.M87_DEC), 5 * u.arcsec)
        row = m87[m87["objID"] == 122861877056308967][0]  # a real row: only y was measured
        assert row["gMeanPSFMag"] is np.ma.masked and row["yMeanPSFMag"] == pytest.approx(14.9985)

    def test_column_filters_and_columns(self, ps1):
        bright = ps1.query_region((sample.M87_RA, sample.M87_DEC), 0.2, columns=["objID", "rmeanpsfmag"],
                                  column_filters={"rMeanPSFMag": (None, 17), "nr": (2, None)})
        assert 0 < len(bright) < 6927
        assert bright.colnames == ["objID", "rMeanPSFMag", "raMean", "decMean", "separation"]
        assert (bright["rMeanPSFMag"] <= 17).all()

    def test_a_star_by_coordinates_in_another_frame(self, ps1):
        position = SkyCoord(KQ.cone_ra, KQ.cone_dec, unit="deg").galactic
        kq = ps1.query_region(position, 1 * u.arcsec)
        assert len(kq) == 1 and kq["objID"][0] == KQ.objid and kq["nDetections"][0] == 66

    def test_async_gives_the_same_answer(self, ps1, requests_sent):
        sync = ps1.query_region((sample.M87_RA, sample.M87_DEC), 0.05, cache=False)
        requests_sent.clear()
        via_job = ps1.query_region((sample.M87_RA, sample.M87_DEC), 0.05, async_job=True, cache=False)
        assert (sync["objID"] == via_job["objID"]).all()
        methods = [m for m, _ in requests_sent]
        assert methods[0] == "POST" and methods[-1] == "DELETE"  # the job is deleted after use

    def test_stack_and_forced_mean_tables(self, ps1):
        for table in ("stack", "forced_mean"):
            result = ps1.query_region((KQ.cone_ra, KQ.cone_dec), 1 * u.arcsec, table=table,
                                      columns=["objID"], min_detections=None)
            assert result["objID"].tolist() == [KQ.objid]


class TestGetDetections:
    def test_kq_uma(self, ps1, requests_sent):
        det = ps1.get_detections(KQ.objid)
        assert len(det) == KQ.n_detections == 66
        assert len(requests_sent) == 1
        assert {b: int((det["filter"] == b).sum()) for b in "grizy"} == KQ.counts
        bad = det[(det["filter"] == "z") & (det["psfQfPerfect"] < 0.9)]
        assert bad["obsTime"].tolist() == [sample.KQ_UMA_BAD_Z_OBSTIME]
        assert det["detectID"].dtype == np.int64 and det["obsTime"].unit == u.d

    @pytest.mark.parametrize("star", [EB1, EB2], ids=lambda s: s.name)
    def test_quality_cut_on_the_server(self, ps1, star):
        assert len(ps1.get_detections(star.objid, min_qf=0.9)) == star.n_good

    def test_many_objects_one_query_sorted(self, ps1, requests_sent):
        det = ps1.get_detections([EB2.objid, KQ.objid, str(EB1.objid), KQ.objid])
        assert len(requests_sent) == 1
        assert len(det) == KQ.n_detections + EB1.n_detections + EB2.n_detections
        assert list(np.unique(det["objID"])) == sorted([KQ.objid, EB1.objid, EB2.objid])
        assert (np.diff(det["objID"]) >= 0).all()

    def test_chunks_give_the_same_rows(self, ps1):
        ids = [KQ.objid, EB1.objid, EB2.objid]
        whole = ps1.get_detections(ids)
        chunked = ps1.get_detections(ids, chunk_size=1, upload=False)
        assert (whole["detectID"] == chunked["detectID"]).all()

    def test_bands(self, ps1):
        det = ps1.get_detections(KQ.objid, bands="gz")
        assert sorted(set(det["filter"])) == ["g", "z"] and len(det) == 8 + 13

    def test_forced_photometry_same_names(self, dbo):
        forced = dbo.get_detections(KQ.objid, photometry="forced")
        assert forced.meta["PHOTOMETRY"] == "forced"
        assert len(forced) == sample.STAR_N_WARPS["KQ UMa"]
        assert {"psfFlux", "psfFluxErr", "psfQfPerfect", "infoFlag", "filter"} <= set(forced.colnames)
        assert forced["psfFlux"].unit == u.Jy

    def test_unknown_objid_is_reported_not_hidden(self, ps1):
        with pytest.warns(NoResultsWarning, match="1 of 2 objIDs have no measurements: 1234"):
            det = ps1.get_detections([KQ.objid, 1234])
        assert det.meta["missing_objIDs"] == [1234] and len(det) == 66


class TestLightCurves:
    def test_by_objid_is_one_request(self, ps1, requests_sent):
        lcs = ps1.get_lightcurves(KQ.objid)
        assert len(requests_sent) == 1
        assert [lc.meta["FILTER"] for lc in lcs] == list("grizy")
        assert lcs[0].time.scale == "tai"

    def test_by_position_is_one_request(self, ps1, requests_sent):
        lcs = ps1.get_lightcurves(SkyCoord(EB1.cone_ra, EB1.cone_dec, unit="deg"))
        assert len(requests_sent) == 1
        assert lcs[0].meta["TARGETID"] == EB1.objid


class TestRowLimits:
    def test_a_truncated_answer_is_never_silent(self, dbo):
        with pytest.warns(MaxResultsWarning, match="only the first 10 rows"):
            m87 = dbo.query_region((sample.M87_RA, sample.M87_DEC), 0.2, maxrec=10)
        assert len(m87) == 10

    def test_or_an_error_on_request(self, dbo):
        from astroquery_ps1tap.sources.tap.service import MaxResultsError

        with pytest.raises(MaxResultsError, match="incomplete"):
            dbo.query_tap("SELECT o.objID FROM dbo.MeanObjectView AS o", maxrec=5, on_truncation="raise")

    def test_the_service_limit_is_100000_like_mast(self, dbo):
        with pytest.warns(MaxResultsWarning, match="only the first 100000 rows, cut at the service's own limit"):
            rows = dbo.query_tap("SELECT d.objID FROM dbo.Detection AS d", maxrec=200000)
        assert len(rows) == 100000

    def test_batches_cut_at_the_limit_are_split_not_lost(self, dbo):
        with conf.set_temp("row_limit", 100):
            with warnings.catch_warnings():
                warnings.simplefilter("error", MaxResultsWarning)
                det = dbo.get_detections([KQ.objid, EB1.objid, EB2.objid], cache=False)
        assert len(det) == KQ.n_detections + EB1.n_detections + EB2.n_detections

    def test_top_is_not_truncation(self, dbo):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MaxResultsWarning)
            assert len(dbo.query_tap("SELECT TOP 5 f.filterID FROM dbo.Filter AS f", maxrec=5)) == 5


class TestCache:
    def test_second_call_sends_nothing(self, dbo, requests_sent):
        first = dbo.get_detections(KQ.objid)
        second = dbo.get_detections(KQ.objid)
        assert len(requests_sent) == 1 and (first["detectID"] == second["detectID"]).all()

    def test_cache_false_and_clear_cache(self, dbo, requests_sent):
        dbo.get_detections(KQ.objid)
        dbo.get_detections(KQ.objid, cache=False)
        dbo.clear_cache()
        dbo.get_detections(KQ.objid)
        assert len(requests_sent) == 3

    def test_astroquery_cache_setting_is_honoured(self, dbo, requests_sent):
        from astroquery import cache_conf

        dbo.get_detections(KQ.objid)
        with cache_conf.set_temp("cache_active", False):
            dbo.get_detections(KQ.objid)
        assert len(requests_sent) == 2

    def test_a_corrupt_entry_is_fetched_again(self, dbo, requests_sent):
        dbo.get_detections(KQ.objid)
        for entry in dbo.cache_location.glob("*.vot"):
            entry.write_bytes(entry.read_bytes()[:200])  # cut short, as by a crash mid-write
        det = dbo.get_detections(KQ.objid)
        assert len(det) == 66 and len(requests_sent) == 2


class TestServerErrors:
    def test_adql_errors_carry_the_servers_message(self, dbo):
        with pytest.raises(InvalidQueryError, match="rejected the query: .*nosuchcol"):
            dbo.query_tap("SELECT nosuchcol FROM dbo.Filter AS f")

    def test_async_adql_errors_too_and_the_job_is_deleted(self, dbo, requests_sent):
        with pytest.raises(InvalidQueryError, match="rejected the query"):
            dbo.query_tap("SELECT nosuchcol FROM dbo.Filter AS f", async_job=True)
        assert requests_sent[-1][0] == "DELETE"


class TestMetadata:
    def test_list_tables(self, ps1, requests_sent):
        tables = list(ps1.list_tables()["table_name"])
        if ps1.schema == "dbo":
            assert {"dbo.MeanObjectView", "dbo.Detection", "dbo.ForcedWarpMeasurement",
                    "dbo.Filter"} <= set(tables)
        else:  # as seen at MAST: snake_case names, no filter table
            assert tables == ["ps1_dr2.detection", "ps1_dr2.forced_mean_object", "ps1_dr2.mean_object",
                              "ps1_dr2.stack_object"]
        assert requests_sent == []  # known since the client learnt what the service publishes

    def test_list_columns_canonical_names_and_schema_units(self, ps1):
        columns = ps1.list_columns("Detection")
        names = list(columns["name"])
        assert "psfQfPerfect" in names and "objID" in names  # DaCHS lists them in lower case
        assert columns[names.index("psfFlux")]["unit"] == "Jy"
        assert len(names) == len(ps1.list_columns("ps1_dr2.detection")) == len(schema.columns("detection"))

    def test_the_forced_mean_table_has_positions_in_either_schema(self, ps1):
        names = list(ps1.list_columns("forced_mean")["name"])
        assert {"objID", "raMean", "decMean", "gFPSFFlux"} <= set(names)


class TestTwoSchemas:
    """The service's schema is learnt from the service, or chosen; both give the same tables."""

    def test_a_service_with_both_is_queried_in_dbo_after_one_metadata_query(
            self, ps1tap_server, tmp_path, requests_sent):
        client = PanstarrsTapClass(server=ps1tap_server)
        client.cache_location = tmp_path
        assert client.schema == "dbo"
        assert len(requests_sent) == 1  # the TAP_SCHEMA query
        client.query_region((KQ.cone_ra, KQ.cone_dec), 1 * u.arcsec)
        client.get_detections(KQ.objid)
        assert len(requests_sent) == 3  # what the service publishes is asked once
        again = PanstarrsTapClass(server=ps1tap_server)
        again.cache_location = tmp_path
        assert again.schema == "dbo" and len(requests_sent) == 3  # and kept in the cache

    def test_the_choice_is_explicit_or_in_conf(self, ps1tap_server, tmp_path):
        with conf.set_temp("schema", "ps1_dr2"):
            assert "FROM ps1_dr2.mean_object AS o" in client_of(ps1tap_server, tmp_path).query_region(
                (KQ.cone_ra, KQ.cone_dec), 1 * u.arcsec, get_query_payload=True)
            assert client_of(ps1tap_server, tmp_path, "dbo").schema == "dbo"  # explicit wins

    def test_the_same_canonical_tables_from_either_schema(self, ps1tap_server, tmp_path):
        old, new = (client_of(ps1tap_server, tmp_path / s, s) for s in ("dbo", "ps1_dr2"))

        def same(a, b):
            assert a.colnames == b.colnames and len(a) == len(b)
            for name in a.colnames:
                assert a[name].unit == b[name].unit and a[name].dtype == b[name].dtype, name
                assert (np.ma.getmaskarray(a[name]) == np.ma.getmaskarray(b[name])).all(), name
                assert (np.ma.filled(a[name], 0) == np.ma.filled(b[name], 0)).all(), name

        cone = (sample.M87_RA, sample.M87_DEC), sample.M87_RADIUS
        same(old.query_region(*cone), new.query_region(*cone))
        for table, column in (("stack", "gPSFMag"), ("forced_mean", "gFPSFFlux")):
            same(old.query_region(*cone, table=table, columns=["objID", column], min_detections=None),
                 new.query_region(*cone, table=table, columns=["objID", column], min_detections=None))
        ids = [KQ.objid, EB1.objid, EB2.objid]
        same(old.get_detections(ids), new.get_detections(ids))
        same(old.get_detections(EB1.objid, min_qf=0.9, bands="gi"),
             new.get_detections(EB1.objid, min_qf=0.9, bands="gi"))
        stars = SkyCoord([s.cone_ra for s in sample.STARS], [s.cone_dec for s in sample.STARS], unit="deg")
        same(old.match_positions(stars, upload=False), new.match_positions(stars, upload=False))
        for target in (KQ.objid, SkyCoord(EB2.cone_ra, EB2.cone_dec, unit="deg")):
            a, b = old.get_lightcurves(target), new.get_lightcurves(target)
            assert [lc.meta["FILTER"] for lc in a] == [lc.meta["FILTER"] for lc in b]
            for x, y in zip(a, b):
                for name in ("time", "flux", "flux_err", "mag", "dmag", "quality"):
                    assert np.array_equal(np.asarray(x[name].value), np.asarray(y[name].value),
                                          equal_nan=True), name

    def test_the_newer_schema_is_queried_as_seen_at_mast(self, ps1tap_server, tmp_path):
        new = client_of(ps1tap_server, tmp_path, "ps1_dr2")
        queries = [new.query_region((KQ.cone_ra, KQ.cone_dec), 1 * u.arcsec, get_query_payload=True),
                   new.get_lightcurves((KQ.cone_ra, KQ.cone_dec), get_query_payload=True),
                   new.get_detections([KQ.objid, EB1.objid], get_query_payload=True)]
        for query in queries:
            assert "dbo." not in query and "ICRS" not in query and "Filter" not in query
        assert "CONTAINS(POINT(o.raMean, o.decMean), CIRCLE(139.33446271609, 68.63508880829, " in queries[0]
        assert "FROM ps1_dr2.mean_object AS o\nJOIN ps1_dr2.detection AS d ON d.objID = o.objID" in queries[1]

    def test_what_the_service_does_not_publish_is_refused_before_it_is_asked(
            self, ps1tap_server, tmp_path, requests_sent):
        new = client_of(ps1tap_server, tmp_path, "ps1_dr2")
        requests_sent.clear()
        service = f"the TAP service at {ps1tap_server}"
        with pytest.raises(InvalidQueryError, match=f"{service} does not publish column pmra of table "
                                                    "ps1_dr2.mean_object"):
            new.query_region((KQ.cone_ra, KQ.cone_dec), 1 * u.arcsec, columns=["objID", "pmra"])
        with pytest.raises(InvalidQueryError, match=f"{service} does not publish column pmdec of "
                                                    "table ps1_dr2.mean_object"):
            new.query_region((KQ.cone_ra, KQ.cone_dec), 1 * u.arcsec, column_filters={"pmdec": (None, 5)})
        with pytest.raises(InvalidQueryError, match=f"{service} does not publish table "
                                                    "ps1_dr2.forced_warp_measurement"):
            new.get_detections(KQ.objid, photometry="forced")
        assert requests_sent == []


class TestManyObjects:
    def test_positions_to_objids_in_one_query(self, ps1, requests_sent):
        stars = SkyCoord([s.cone_ra for s in (KQ, EB1, EB2)] + [10.0],
                         [s.cone_dec for s in (KQ, EB1, EB2)] + [-10.0], unit="deg")
        for upload in (True, False):
            requests_sent.clear()
            matches = ps1.match_positions(stars, 1 * u.arcsec, upload=upload, cache=False)
            assert len(requests_sent) == 1
            assert matches["objID"][:3].tolist() == [KQ.objid, EB1.objid, EB2.objid]
            assert matches["objID"].mask.tolist() == [False, False, False, True]

    def test_uploads_and_in_lists_agree(self, ps1):
        ids = [KQ.objid, EB1.objid, EB2.objid]
        with_upload = ps1.get_detections(ids, chunk_size=1, upload=True, cache=False)
        listed = ps1.get_detections(ids, chunk_size=1, upload=False, cache=False)
        assert (with_upload["detectID"] == listed["detectID"]).all()

    def test_many_lightcurves(self, ps1):
        lcs = ps1.get_lightcurves([KQ.objid, EB1.objid])
        assert set(lcs) == {KQ.objid, EB1.objid}
        assert lcs[EB1.objid][0].meta["TARGETID"] == EB1.objid
