"""The query path through a bad network: every fault is survived or reported clearly, in time.

A `FaultProxy` sits between the client and the local DaCHS server and injects the failures users
have met at MAST: 5xx and 429 answers, connection resets, a server that hangs, cut-off and
dripping answers, async jobs that fail, are aborted or never finish.  For each, the client either
retries and returns the complete answer, or raises a clear astroquery error within its deadline —
never a hang, never partial data presented as complete, never a leaked async job.
"""
import time
import warnings

import numpy as np
import pytest
from astroquery.exceptions import (InvalidQueryError, MaxResultsWarning, NoResultsWarning,
                                   RemoteServiceError, TimeoutError)

from astroquery_ps1tap import PanstarrsTapClass, conf
from astroquery_ps1tap.batch import PartialResultError, PartialResultWarning
from astroquery_ps1tap.sources.tap.service import MaxResultsError, TapService
from faultproxy import (FaultProxy, drip, hang, http_error, job_aborted, job_error, job_stuck,
                        rate_limit, reset, truncate)
from localtap import sample

pytestmark = pytest.mark.server

KQ = sample.KQ_UMA
FILTER_QUERY = "SELECT f.filterID, f.filterType FROM dbo.Filter AS f ORDER BY f.filterID"


@pytest.fixture
def proxy(ps1tap_server):
    with FaultProxy(ps1tap_server.rsplit("/tap", 1)[0]) as proxy:
        yield proxy
        assert proxy.leaked_jobs == [], "an async job was left on the server"


@pytest.fixture
def ps1(proxy, tmp_path):
    """A client through the proxy: 1 s per request, 3 retries with short back-off, 30 s deadline
    (DaCHS runs each async job in a new process: a few seconds each on a busy machine)."""
    client = PanstarrsTapClass(server=proxy.url + "/tap", timeout=1, retries=3, deadline=30)
    client.cache_location = tmp_path
    client._session.backoff = 0.05
    client.service.poll = 0.05
    return client


def query(ps1, **kwargs):
    return ps1.query_tap(FILTER_QUERY, cache=False, **kwargs)


class TestSyncFaults:
    @pytest.mark.parametrize("fault", [http_error(500), http_error(502), http_error(503),
                                       http_error(504, body="gateway timeout"), reset(), hang(),
                                       truncate(0.5), truncate(0.3, mode="chunked"),
                                       truncate(0.5, mode="close")],
                             ids=lambda f: repr(f))
    def test_a_passing_fault_is_retried_and_the_answer_is_complete(self, ps1, proxy, fault):
        proxy.inject(fault, match="POST /tap/sync")
        rows = query(ps1)
        assert rows["filterID"].tolist() == [1, 2, 3, 4, 5]
        assert proxy.count_of("POST /tap/sync") == 2

    def test_429_waits_as_long_as_retry_after_says(self, ps1, proxy):
        proxy.inject(rate_limit(retry_after=1), match="POST /tap/sync")
        start = time.monotonic()
        assert len(query(ps1)) == 5
        assert time.monotonic() - start >= 0.9

    def test_a_lasting_server_error_is_reported_with_its_status(self, ps1, proxy):
        proxy.inject(http_error(500, body="database is down"), times=None, match="POST /tap/sync")
        with pytest.raises(RemoteServiceError, match="HTTP 500.*database is down"):
            query(ps1)
        assert proxy.count_of("POST /tap/sync") == 4  # the first try and 3 retries

    def test_a_server_error_without_a_message_still_says_what_happened(self, ps1, proxy):
        proxy.inject(http_error(502), times=None, match="POST /tap/sync")
        with pytest.raises(RemoteServiceError, match=r"HTTP 502 .*\(no message\)"):
            query(ps1)

    def test_a_hanging_server_is_a_timeout_not_a_hang(self, ps1, proxy):
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            query(ps1, deadline=5)
        assert time.monotonic() - start < 5 + 2  # bounded by the deadline

    def test_a_slow_drip_is_stopped_at_the_deadline(self, ps1, proxy):
        proxy.inject(drip(200), times=None, match="POST /tap/sync")
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="deadline"):
            ps1.query_tap("SELECT TOP 2000 o.objID FROM dbo.MeanObjectView AS o", cache=False,
                          deadline=2)
        assert time.monotonic() - start < 2 + 2

    def test_a_lasting_cut_off_answer_is_an_error_not_a_short_table(self, ps1, proxy):
        proxy.inject(truncate(0.5, mode="close"), times=None, match="POST /tap/sync")
        with pytest.raises(RemoteServiceError, match="not a readable VOTable"):
            query(ps1)

    def test_nothing_broken_is_cached(self, ps1, proxy):
        proxy.inject(truncate(0.5, mode="close"), times=None, match="POST /tap/sync")
        with pytest.raises(RemoteServiceError):
            ps1.query_tap(FILTER_QUERY)
        proxy.clear_faults()
        assert len(ps1.query_tap(FILTER_QUERY)) == 5
        assert not list(ps1.cache_location.glob("*.tmp"))


class TestAsyncFaults:
    def test_a_job_is_created_polled_read_and_deleted(self, ps1, proxy):
        assert len(query(ps1, async_job=True)) == 5
        assert len(proxy.jobs_created) == 1 and proxy.jobs_deleted == proxy.jobs_created

    def test_a_job_ending_in_error_carries_the_service_message(self, ps1, proxy):
        proxy.inject(job_error("Query Error: relation is on fire"))
        with pytest.raises(InvalidQueryError, match="relation is on fire"):
            query(ps1, async_job=True)

    def test_an_aborted_job_is_reported(self, ps1, proxy):
        proxy.inject(job_aborted())
        with pytest.raises(RemoteServiceError, match="ABORTED"):
            query(ps1, async_job=True)

    def test_a_job_that_never_finishes_ends_at_the_deadline(self, ps1, proxy):
        proxy.inject(job_stuck())
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="deadline of 2 s"):
            ps1.query_tap(FILTER_QUERY, async_job=True, cache=False, deadline=2)
        assert time.monotonic() - start < 2 + 2

    def test_job_creation_refused_with_503_is_sent_again(self, ps1, proxy):
        proxy.inject(http_error(503), match="POST /tap/async")
        assert len(query(ps1, async_job=True)) == 5

    def test_status_polls_survive_errors_and_resets(self, ps1, proxy):
        proxy.inject(http_error(500), times=2, match="GET /tap/async/*/phase")
        proxy.inject(reset(), times=1, match="GET /tap/async/*/phase")
        assert len(query(ps1, async_job=True)) == 5

    def test_a_cut_off_result_download_is_fetched_again(self, ps1, proxy):
        proxy.inject(truncate(0.5), match="GET /tap/async/*/results/*")
        assert len(query(ps1, async_job=True)) == 5


class TestManyObjects:
    @pytest.fixture
    def ps1(self, ps1, proxy):
        """Real detection queries take longer than the 1 s allowed for the fault tests' tiny one."""
        ps1._timeout = 20
        ps1.source.metadata()  # what the service publishes: asked once per client, not counted here
        proxy.reset()
        return ps1

    @pytest.fixture
    def bulk_ids(self, ps1tap_server):
        ids = PanstarrsTapClass(server=ps1tap_server).query_tap(
            "SELECT TOP 60 o.objID FROM dbo.MeanObjectView AS o WHERE o.nDetections > 10 ORDER BY o.objID")
        return np.asarray(ids["objID"], dtype=np.int64)

    def test_batches_concurrent_and_identical_to_one_by_one(self, ps1, bulk_ids):
        together = ps1.get_detections(bulk_ids, chunk_size=7, upload=False, max_workers=4, cache=False)
        one_by_one = [ps1.get_detections(i, cache=False) for i in bulk_ids[:5]]
        first_five = together[np.isin(together["objID"], bulk_ids[:5])]
        assert (first_five["detectID"] == np.concatenate([t["detectID"] for t in one_by_one])).all()
        assert set(together["objID"]) == set(bulk_ids.tolist())

    def test_failed_batches_are_reported_exactly_and_can_be_retried(self, ps1, proxy, bulk_ids):
        complete = ps1.get_detections(bulk_ids, chunk_size=10, upload=False, cache=False)
        # the first batch meets a lasting failure (first try + 3 retries); the others go through
        proxy.inject(http_error(500, body="overloaded"), times=4, match="POST /tap/sync")
        with pytest.raises(PartialResultError, match="1 of 6 batches failed") as failure:
            ps1.get_detections(bulk_ids, chunk_size=10, upload=False, max_workers=1, cache=False)
        error = failure.value
        assert error.failed == bulk_ids[:10].tolist()
        assert error.result.meta["complete"] is False
        assert set(error.result["objID"]) == set(bulk_ids[10:].tolist())
        retried = ps1.get_detections(error.failed, cache=False)
        assert len(retried) + len(error.result) == len(complete)

    def test_or_a_warning_and_the_partial_table_marked_incomplete(self, ps1, proxy, bulk_ids):
        proxy.inject(http_error(500), times=4, match="POST /tap/sync")
        with pytest.warns(PartialResultWarning, match="1 of 2 batches failed"):
            partial = ps1.get_detections(bulk_ids, chunk_size=30, upload=False, max_workers=1,
                                         on_error="warn", cache=False)
        assert partial.meta["complete"] is False and len(partial.meta["failed_objIDs"]) == 30

    def test_concurrent_batches_leave_the_warning_filters_alone(self, ps1, bulk_ids):
        """Worker threads must not use warnings.catch_warnings (it is not thread-safe and can
        leave an "ignore" filter behind that silences every later warning)."""
        before = list(warnings.filters)
        ps1.get_detections(bulk_ids, chunk_size=1, upload=False, max_workers=8, cache=False,
                           progress=False)
        assert warnings.filters == before

    def test_duplicates_unknown_and_invalid_ids_in_a_long_list(self, ps1, proxy, bulk_ids):
        messy = list(bulk_ids) + list(bulk_ids[:10]) + [1, 2, 3]
        with pytest.warns(NoResultsWarning, match="3 of 63 objIDs have no measurements: 1, 2, 3"):
            det = ps1.get_detections(messy, chunk_size=20, upload=False, cache=False)
        assert det.meta["missing_objIDs"] == [1, 2, 3]
        proxy.reset()
        with pytest.raises(ValueError, match="objID 'x17' is not a whole"):
            ps1.get_detections(list(bulk_ids) + ["x17"])
        assert proxy.count == 0  # refused before anything was sent

    def test_without_uploads_the_ids_go_in_the_adql(self, ps1, proxy, bulk_ids, monkeypatch):
        monkeypatch.setattr(TapService, "upload_supported", lambda self: False)  # as at MAST
        listed = ps1.get_detections(bulk_ids, chunk_size=25, cache=False)
        assert proxy.count_of("POST /tap/sync") == 3
        monkeypatch.undo()
        proxy.reset()
        uploaded = ps1.get_detections(bulk_ids, chunk_size=25, cache=False)
        assert proxy.count_of("GET /tap/capabilities") == 1 and proxy.count_of("POST /tap/sync") == 1
        assert (listed["detectID"] == uploaded["detectID"]).all()

    def test_many_light_curves_with_faults_on_the_way(self, ps1, proxy, bulk_ids):
        proxy.inject(http_error(503), times=2, match="POST /tap/sync")
        proxy.inject(reset(), times=1, match="POST /tap/sync")
        lcs = ps1.get_lightcurves(bulk_ids[:20], progress=False)
        assert set(lcs) == set(bulk_ids[:20].tolist())


class TestCacheAgainstTheServer:
    LIKE = "SELECT COUNT(*) AS n FROM TAP_SCHEMA.tables AS t WHERE t.description LIKE '%{}%'"

    def test_queries_differing_inside_a_string_literal_have_their_own_answers(self, ps1tap_server, tmp_path):
        ps1 = PanstarrsTapClass(server=ps1tap_server)
        ps1.cache_location = tmp_path
        two_spaces = int(ps1.query_tap(self.LIKE.format("  "))["n"][0])
        one_space = int(ps1.query_tap(self.LIKE.format(" "))["n"][0])
        assert (two_spaces, one_space) == (int(ps1.query_tap(self.LIKE.format("  "), cache=False)["n"][0]),
                                           int(ps1.query_tap(self.LIKE.format(" "), cache=False)["n"][0]))
        assert one_space > two_spaces


class TestTruncationReports:
    def test_query_tap_with_a_small_maxrec_advises_a_larger_one(self, ps1tap_server):
        with pytest.raises(MaxResultsError, match=r"query_tap: the service returned only the first 5 "
                                                  r"rows.*Ask for more rows with maxrec="):
            PanstarrsTapClass(server=ps1tap_server).query_tap(
                "SELECT o.objID FROM dbo.MeanObjectView AS o", maxrec=5, cache=False, on_truncation="raise")

    def test_one_object_cut_names_it_and_offers_only_what_the_call_did_not_do(self, ps1tap_server):
        ps1 = PanstarrsTapClass(server=ps1tap_server)
        with conf.set_temp("row_limit", 3), pytest.raises(PartialResultError) as cut:
            ps1.get_detections(KQ.objid, bands="g", min_qf=0.5, cache=False, on_truncation="raise")
        assert isinstance(cut.value.errors[0], MaxResultsError)
        message = str(cut.value)
        assert f"the detection measurements of objID {KQ.objid} in bands 'g'" in message
        assert "larger conf.row_limit" in message
        assert "bands=" not in message.split("incomplete.")[1] and "min_qf" not in message
        with conf.set_temp("row_limit", 3), \
                pytest.warns(MaxResultsWarning, match="one filter at a time.*min_qf=0.9"):
            ps1.get_detections(KQ.objid, cache=False)

    def test_light_curves_at_a_position_warn_or_raise_as_asked(self, ps1tap_server):
        ps1 = PanstarrsTapClass(server=ps1tap_server)
        position = f"{KQ.cone_ra} {KQ.cone_dec}"
        with conf.set_temp("row_limit", 3), pytest.raises(
                MaxResultsError, match=r"get_lightcurves: the service returned only the first 3 rows"
                                       r".*Use a smaller radius"):
            ps1.get_lightcurves(position, cache=False, on_truncation="raise")
        with conf.set_temp("row_limit", 3), pytest.warns(MaxResultsWarning, match="get_lightcurves"):
            ps1.get_lightcurves(position, cache=False)
        with pytest.raises(ValueError, match="on_truncation must be 'warn' or 'raise'"):
            ps1.get_lightcurves(position, on_truncation="ignore")


class TestFailuresOfOneObject:
    def test_one_objects_failure_is_that_objects(self, ps1, proxy):
        ps1.source.metadata()  # the service's schema is learnt once, before the faults
        proxy.inject(http_error(500, body="overloaded"), times=None, match="POST /tap/sync")
        with pytest.raises(PartialResultError,
                           match=rf"^objID {KQ.objid} could not be fetched: .*overloaded"):
            ps1.get_detections(KQ.objid, cache=False)
        with pytest.raises(PartialResultError, match=rf"^objID {KQ.objid} could not be fetched"):
            ps1.get_lightcurves(KQ.objid, cache=False)

    def test_when_every_batch_fails_nothing_is_called_complete(self, ps1, proxy):
        ps1.source.metadata()  # the service's schema is learnt once, before the faults
        proxy.inject(http_error(500, body="overloaded"), times=None, match="POST /tap/sync")
        with pytest.raises(PartialResultError) as failure:
            ps1.get_detections([KQ.objid, 153102917444859851], chunk_size=1, upload=False, cache=False)
        assert "Nothing was fetched" in str(failure.value) and "complete" not in str(failure.value)

    def test_no_measurements_after_a_cut_names_the_cut(self, ps1tap_server):
        ps1 = PanstarrsTapClass(server=ps1tap_server)
        with pytest.warns(NoResultsWarning, match=r"no measurements that pass the cut min_qf=1\.0"):
            ps1.get_detections(KQ.objid, min_qf=1.0, cache=False)
        with pytest.raises(InvalidQueryError, match=r"pass the cuts min_qf=1\.0 and bands='gr'"):
            ps1.get_lightcurves(KQ.objid, min_qf=1.0, bands="gr", cache=False)


class TestArgumentsBeforeAnyRequest:
    @pytest.mark.parametrize("call, message", [
        (lambda ps1: ps1.get_lightcurves(KQ.objid, flux="aperture"), "flux must be one of"),
        (lambda ps1: ps1.get_lightcurves(KQ.objid, quality_bitmask="strict"), "quality_bitmask"),
        (lambda ps1: ps1.get_lightcurves([KQ.objid, 1], quality_bitmask=-3), "quality_bitmask"),
        (lambda ps1: ps1.get_detections(KQ.objid, bands=3), "bands must be filter names"),
        (lambda ps1: ps1.get_lightcurves("١٢٣"), "could not read coordinates"),
        (lambda ps1: ps1.get_detections(["١٢٣"]), "not a whole non-negative number"),
        (lambda ps1: ps1.query_region("12.5 +12 23 28", "1 arcsec"), "two readings"),
    ])
    def test_refused_with_nothing_sent(self, ps1, proxy, call, message):
        with pytest.raises((ValueError, InvalidQueryError), match=message):
            call(ps1)
        assert proxy.count == 0

    def test_one_column_name_as_text(self, ps1, proxy):
        det = ps1.get_detections(KQ.objid, columns="psfFlux", cache=False)
        assert "psfFlux" in det.colnames and "apFlux" not in det.colnames


def test_truncated_objects_do_not_trip_the_circuit_breaker(ps1tap_server):
    """A result cut at the row limit says nothing about the service being down: every object is
    tried, and each reports its own truncation."""
    ps1 = PanstarrsTapClass(server=ps1tap_server)
    ids = ps1.query_tap("SELECT TOP 6 o.objID FROM dbo.MeanObjectView AS o WHERE o.nDetections > 10 "
                        "ORDER BY o.objID")["objID"]
    with conf.set_temp("row_limit", 3), pytest.raises(PartialResultError) as cut:
        ps1.get_detections(ids, chunk_size=1, upload=False, max_workers=1, cache=False,
                           on_truncation="raise")
    assert len(cut.value.errors) == 6
    assert all(isinstance(error, MaxResultsError) for error in cut.value.errors)
