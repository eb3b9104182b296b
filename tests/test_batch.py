"""Many batches: bounded, stoppable work.

A many-batch call stops within seconds on Ctrl-C (queued batches cancelled, requests under way
broken off, async jobs deleted), stops sending after a few batches in a row have failed (circuit
breaker), and ends at its deadline as a whole.  The first tests use plain functions as batches;
the others run real queries against the local DaCHS through a fault-injecting proxy.
"""
import os
import signal
import threading
import time

import numpy as np
import pytest
from astroquery.exceptions import TimeoutError

from astroquery_ps1tap import PanstarrsTapClass
from astroquery_ps1tap.batch import (BREAKER_FAILURES, BatchNotRun, PartialResultError, current_scope,
                                     run_batches)
from faultproxy import FaultProxy, hang, job_stuck


def always_failing(calls):
    def fetch(batch):
        calls.append(batch)
        raise OSError("connection refused")
    return fetch


class TestWithoutAService:
    def test_after_some_failures_in_a_row_the_rest_is_not_sent(self):
        calls = []
        results, failures = run_batches(list(range(20)), always_failing(calls), max_workers=1,
                                        progress=False)
        assert calls == list(range(BREAKER_FAILURES))
        assert [index for index, _ in failures] == list(range(20))  # every batch accounted for
        not_run = [error for _, error in failures[BREAKER_FAILURES:]]
        assert all(isinstance(error, BatchNotRun) for error in not_run)
        assert "3 batches in a row had failed" in str(not_run[0])
        assert "connection refused" in str(not_run[0])

    def test_a_success_resets_the_count(self):
        calls = []

        def fetch(batch):
            calls.append(batch)
            if batch % 3:
                raise OSError("flaky")
            return batch
        results, failures = run_batches(list(range(12)), fetch, max_workers=1, progress=False)
        assert calls == list(range(12)) and results[::3] == [0, 3, 6, 9]

    def test_the_deadline_covers_the_whole_call(self):
        def fetch(batch):
            current_scope().wait(30)  # a batch that would take long; wakes when the call stops
        start = time.monotonic()
        results, failures = run_batches(list(range(8)), fetch, max_workers=2, deadline=1,
                                        progress=False)
        assert time.monotonic() - start < 1 + 5
        assert len(failures) == 8
        assert all(isinstance(error, TimeoutError) for _, error in failures)
        assert "deadline of 1 s for the whole call" in str(failures[0][1])

    @pytest.mark.parametrize("option, value", [("max_workers", 0), ("max_workers", 1.5),
                                               ("deadline", -1), ("deadline", float("nan"))])
    def test_settings_that_cannot_work(self, option, value):
        with pytest.raises(ValueError, match=f"{option} must be"):
            run_batches([1], lambda b: b, **{option: value})


@pytest.fixture
def proxy(ps1tap_server):
    with FaultProxy(ps1tap_server.rsplit("/tap", 1)[0]) as proxy:
        yield proxy
        proxy.cleanup_jobs()


@pytest.fixture
def bulk_ids(ps1tap_server):
    ids = PanstarrsTapClass(server=ps1tap_server).query_tap(
        "SELECT TOP 40 o.objID FROM dbo.MeanObjectView AS o ORDER BY o.objID")
    return np.asarray(ids["objID"], dtype=np.int64)


def interrupt_after(seconds):
    """Ctrl-C for this process after ``seconds`` (as a terminal sends it)."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.server
class TestADownService:
    def test_a_hanging_service_fails_twenty_batches_without_trying_them_all(self, proxy, bulk_ids):
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        ps1 = PanstarrsTapClass(server=proxy.tap_url, timeout=1, retries=1, deadline=60)
        proxy.clear_faults()
        ps1.source.metadata()  # the service's schema is learnt once, before the service goes down
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        with pytest.raises(PartialResultError) as failure:
            ps1.get_detections(bulk_ids, chunk_size=2, upload=False, max_workers=4, cache=False,
                               progress=False)
        assert sorted(failure.value.failed) == sorted(bulk_ids.tolist())
        assert proxy.count_of("POST /tap/sync") < 20 * 2  # not every batch tried, and retried
        assert any(isinstance(error, BatchNotRun) for error in failure.value.errors)
        assert "batches in a row had failed" in str(failure.value)

    def test_the_deadline_applies_to_the_whole_call(self, proxy, bulk_ids):
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        ps1 = PanstarrsTapClass(server=proxy.tap_url, timeout=30, retries=0, deadline=3)
        proxy.clear_faults()
        ps1.source.metadata()  # the service's schema is learnt once, before the service hangs
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        start = time.monotonic()
        with pytest.raises(PartialResultError) as failure:
            ps1.get_detections(bulk_ids, chunk_size=2, upload=False, max_workers=4, cache=False,
                               progress=False)
        assert time.monotonic() - start < 3 * 2  # not one deadline per wave of batches
        assert sorted(failure.value.failed) == sorted(bulk_ids.tolist())


@pytest.mark.server
class TestCtrlC:
    @pytest.mark.parametrize("fault, async_job", [(hang(), False), (job_stuck(), True)],
                             ids=["hanging-sync-queries", "async-jobs-that-never-finish"])
    def test_stops_within_seconds_and_leaves_no_job(self, proxy, bulk_ids, fault, async_job):
        proxy.inject(fault, times=None, match="POST /tap/sync" if not async_job else "*/async*")
        ps1 = PanstarrsTapClass(server=proxy.tap_url, timeout=30, retries=3, deadline=25)
        ps1.service.poll = 0.1
        proxy.clear_faults()
        ps1.source.metadata()  # the service's schema is learnt once, before the faults
        proxy.inject(fault, times=None, match="POST /tap/sync" if not async_job else "*/async*")
        timer = interrupt_after(2)
        start = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                ps1.get_detections(bulk_ids, chunk_size=2, upload=False, max_workers=4, cache=False,
                                   async_job=async_job, progress=False)
        finally:
            timer.cancel()
        stopped = time.monotonic() - start
        sent = proxy.count
        time.sleep(1)
        assert proxy.count == sent  # nothing is sent after the call returned
        assert stopped < 2 + 5      # seconds, not the 25 s deadline of every queued batch
        assert proxy.leaked_jobs == []
        if async_job:
            assert 1 <= len(proxy.jobs_created) <= 4 + 4  # the queued batches never started
