"""Many queries at once: bounded concurrency, a progress bar, and an exact account of failures.

Long lists of objIDs or positions are split into batches (by each source); this module runs those
batches through a small thread pool, shows progress on long work, keeps results in batch
order (so the result is identical to fetching one by one), and, when some batches still fail after
the query path's own retries, raises `PartialResultError` carrying what succeeded, exactly which
inputs failed and why — never a partial result that looks complete.
"""
import math
import numbers
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from astroquery.exceptions import InvalidQueryError, NoResultsWarning, RemoteServiceError, TimeoutError

__all__ = ["PartialResultError", "PartialResultWarning", "Batches", "run_batches", "run_id_batches",
           "BatchNotRun", "CallScope", "current_scope", "add_stop_hook", "BREAKER_FAILURES"]


#: Consecutive failed batches after which a many-batch call stops sending (circuit breaker).
BREAKER_FAILURES = 3
#: Seconds a stopped call waits for the batches under way to clean up (delete async jobs).
_GRACE = 10.0
_STOP_HOOKS = []
_local = threading.local()


class PartialResultError(RemoteServiceError):
    """Some batches of a multi-object request failed after retries.

    Attributes
    ----------
    result : `~astropy.table.Table`
        What succeeded, complete for every objID not in ``failed``.
    failed : list
        The inputs (objIDs or positions) whose batches failed; pass them to the same method again
        to retry just those.
    errors : list of Exception
        One error per failed batch, in batch order.
    """

    def __init__(self, message, result, failed, errors):
        super().__init__(message)
        self.result = result
        self.failed = failed
        self.errors = errors


class PartialResultWarning(NoResultsWarning):
    """Some batches failed; the table returned holds only the others (``on_error="warn"``)."""


class Batches:
    """What a source fetched for many objIDs: the tables that came, and exactly what did not.

    Attributes
    ----------
    tables : list of `~astropy.table.Table`
        The answers of the batches that succeeded (raw, as the source sent them).
    done : `numpy.ndarray` of int64
        The objIDs whose measurements are all in ``tables`` (whether or not they have any).
    failures : list of (`numpy.ndarray`, Exception)
        The objIDs of each failed batch, with its error.
    n_batches : int
        How many batches (requests, partitions) the work was split into.
    """

    def __init__(self, tables, done, failures, n_batches=1):
        self.tables = list(tables)
        self.done = np.asarray(done, dtype=np.int64)
        self.failures = list(failures)
        self.n_batches = n_batches

    def __repr__(self):
        return (f"<Batches: {len(self.tables)} tables, {len(self.done)} objIDs done, "
                f"{len(self.failures)} failed batches>")


def run_id_batches(ids, size, fetch, *, max_workers=4, progress=None, description="PS1 queries",
                   deadline=None):
    """Split objIDs ``ids`` into batches of ``size``, run ``fetch(batch)`` (which returns a list of
    tables) for each with `run_batches`, and account for every objID in a `Batches`.

    Examples
    --------
    >>> import numpy as np
    >>> def fetch(batch):
    ...     if 3 in batch:
    ...         raise OSError("service down")
    ...     return [batch * 10]
    >>> out = run_id_batches(np.arange(1, 6), 2, fetch, progress=False)
    >>> out.done.tolist(), [f[0].tolist() for f in out.failures]
    ([1, 2, 5], [[3, 4]])
    """
    batches = [ids[i:i + size] for i in range(0, len(ids), size)]
    results, failures = run_batches(batches, fetch, max_workers=max_workers, progress=progress,
                                    description=description, deadline=deadline)
    failed = {index for index, _ in failures}
    tables = [t for index, parts in enumerate(results) if index not in failed for t in parts]
    done = [b for index, b in enumerate(batches) if index not in failed]
    return Batches(tables, np.concatenate(done) if done else np.zeros(0, np.int64),
                   [(batches[index], error) for index, error in failures], len(batches))


def run_batches(batches, fetch, *, max_workers=4, progress=None, description="PS1 queries",
                deadline=None, breaker=BREAKER_FAILURES):
    """Run ``fetch(batch)`` for every batch, at most ``max_workers`` at a time.

    The work is bounded and can be stopped:

    * **Ctrl-C** (`KeyboardInterrupt`) stops it within seconds: queued batches are cancelled,
      requests under way are broken off (the query path checks `current_scope` and aborts its
      connections), async jobs already started are deleted, then the interrupt is raised again.
    * **A circuit breaker**: after ``breaker`` batches in a row have failed (a service that hangs,
      refuses or keeps failing), the batches not yet run are not sent; they are reported as failed
      with `BatchNotRun` naming the last error.
    * **A deadline** for the whole call (``deadline`` seconds): batches still running or queued
      then are stopped and reported failed with a `~astroquery.exceptions.TimeoutError`.

    Parameters
    ----------
    batches : list
        The batches (any objects ``fetch`` understands).
    fetch : callable
        Returns the result of one batch; raising marks the batch failed.
    max_workers : int
        Concurrent requests (keep it small: the service is shared).
    progress : bool or None
        Show a progress bar (on stderr); None shows one when there is more than one batch.
    description : str
        Label of the progress bar.
    deadline : float or None
        Seconds allowed for the whole call (None: no limit here).
    breaker : int
        Consecutive failed batches after which the rest are not sent.

    Returns
    -------
    results : list
        ``fetch``'s results in batch order, None for failed batches.
    failures : list of (int, Exception)
        Index and error of each failed batch, in batch order.

    Examples
    --------
    >>> results, failures = run_batches([1, 2, 3], lambda n: n * n, progress=False)
    >>> results, failures
    ([1, 4, 9], [])
    """
    max_workers = check_positive_int(max_workers, "max_workers")
    breaker = check_positive_int(breaker, "breaker")
    if deadline is not None:
        deadline = check_seconds(deadline, "deadline")
    results = [None] * len(batches)
    errors = {}
    if not batches:
        return results, []
    scope = CallScope(deadline, breaker)
    bar = _progress_bar(len(batches), description, progress)
    pool = ThreadPoolExecutor(max_workers=min(max_workers, len(batches)),
                              thread_name_prefix="ps1tap-batch")
    futures = {pool.submit(scope.run, fetch, batch): index for index, batch in enumerate(batches)}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=scope.remaining(), return_when=FIRST_COMPLETED)
            for future in done:
                index = futures[future]
                try:
                    results[index] = future.result()
                except Exception as exc:  # reported to the caller with the batch it belongs to
                    errors[index] = exc
                if bar is not None:
                    bar.update(1)
            if pending and not done:  # the call's deadline passed
                scope.stop(TimeoutError(
                    f"not finished within the deadline of {deadline:g} s for the whole call; "
                    "fetch fewer objects per call or allow more time with deadline=..."))
            if pending and scope.stopped:
                _cancel(pending, futures, errors, scope.reason)
                pending = _settle(pending, futures, results, errors, scope)
    except BaseException:  # KeyboardInterrupt (Ctrl-C), SystemExit: stop now, clean up, re-raise
        scope.stop(BatchNotRun("interrupted"))
        pool.shutdown(wait=False, cancel_futures=True)
        # the batches under way delete their async jobs (cancelled ones never count as done)
        wait({future for future in pending if not future.cancelled()}, timeout=_GRACE)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if bar is not None:
            bar.close()
    return results, sorted(errors.items())


class BatchNotRun(RemoteServiceError):
    """A batch that was not sent, or was broken off: the call was stopped (circuit breaker,
    deadline, Ctrl-C) before or while it ran."""


class CallScope:
    """One many-batch call as its workers see it: a stop event, the reason, the call's deadline.

    The query path (`astroquery_ps1tap.sources.tap.service`) asks `current_scope` before each
    request, waits with `wait` (which wakes at a stop) and registers a stop hook that breaks off
    the connections of the scope's threads.
    """

    def __init__(self, deadline=None, breaker=None):
        self.event = threading.Event()
        self.reason = None
        self.end = None if deadline is None else time.monotonic() + deadline
        self.threads = set()
        self.breaker = breaker
        self._in_a_row = 0
        self._lock = threading.Lock()

    @property
    def stopped(self):
        return self.event.is_set()

    def remaining(self):
        """Seconds left before the call's deadline (None: no deadline)."""
        return None if self.end is None else max(0.0, self.end - time.monotonic())

    def stop(self, reason):
        """Stop the call: ``reason`` (an exception) is what the batches not finished report."""
        with self._lock:
            if self.event.is_set():
                return
            self.reason = reason
            self.event.set()
            threads = set(self.threads)
        for hook in list(_STOP_HOOKS):
            try:
                hook(threads)
            except Exception:  # a hook that fails must not keep the others from running
                pass

    def check(self):
        """Raise the stop reason if the call was stopped."""
        if self.event.is_set():
            raise self.reason

    def wait(self, seconds):
        """Sleep ``seconds``, waking early (and raising the reason) if the call is stopped."""
        if self.event.wait(max(0.0, seconds)):
            raise self.reason

    def run(self, fetch, batch):
        """Run ``fetch(batch)`` in this scope (in a worker thread)."""
        self.check()
        thread = threading.get_ident()
        with self._lock:
            self.threads.add(thread)
        _local.scope = self
        try:
            result = fetch(batch)
        except Exception as exc:
            self.check()  # broken off by a stop: report the reason, not the broken connection
            self._failed(exc)
            raise
        else:
            with self._lock:
                self._in_a_row = 0
            return result
        finally:
            _local.scope = None
            with self._lock:
                self.threads.discard(thread)

    def _failed(self, error):
        """Count a failed batch; trip the circuit breaker after ``breaker`` in a row.

        Failures that say nothing about the service being down (a query the service rejected, a
        result cut at the row limit: ``service_is_fine = True`` on the error) are not counted.
        """
        if isinstance(error, InvalidQueryError) or getattr(error, "service_is_fine", False):
            return
        with self._lock:
            self._in_a_row += 1
            trip = self.breaker is not None and self._in_a_row >= self.breaker
        if trip:
            self.stop(BatchNotRun(
                f"not sent: {self.breaker} batches in a row had failed (the service seems to be "
                f"down; last error: {error})"))


def current_scope():
    """The `CallScope` of the many-batch call this thread works for, or None."""
    return getattr(_local, "scope", None)


def add_stop_hook(hook):
    """Call ``hook(thread_ids)`` whenever a call is stopped (the query path breaks off the
    connections of those threads)."""
    if hook not in _STOP_HOOKS:
        _STOP_HOOKS.append(hook)


def _cancel(pending, futures, errors, reason):
    for future in list(pending):
        if future.cancel():
            errors[futures[future]] = reason
            pending.discard(future)


def _settle(pending, futures, results, errors, scope):
    """Collect the batches that were under way when the call stopped (they end quickly)."""
    done, still = wait(pending, timeout=_GRACE)
    for future in done:
        index = futures[future]
        try:
            results[index] = future.result()
        except Exception as exc:
            errors[index] = exc
    for future in still:
        errors[futures[future]] = scope.reason
    return set()


def check_positive_int(value, what):
    """``value`` as an int if it is a positive integer, else a `ValueError` naming ``what``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_seconds(value, what):
    """``value`` as a float if it is a finite positive number of seconds, else a `ValueError`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a finite positive number of seconds, got {value!r}")
    return float(value)


def _progress_bar(total, description, progress):
    if progress is None:
        progress = total > 1
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="batch", leave=False)
