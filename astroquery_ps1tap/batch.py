"""Many queries at once: bounded concurrency, a progress bar, and an exact account of failures.

Long lists of objIDs or positions are split into batches (by each source); this module runs those
batches through a small thread pool, shows progress on long work, keeps results in batch
order (so the result is identical to fetching one by one), and, when some batches still fail after
the query path's own retries, raises `PartialResultError` carrying what succeeded, exactly which
inputs failed and why — never a partial result that looks complete.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from astroquery.exceptions import NoResultsWarning, RemoteServiceError

__all__ = ["PartialResultError", "PartialResultWarning", "Batches", "run_batches", "run_id_batches"]


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


def run_id_batches(ids, size, fetch, *, max_workers=4, progress=None, description="PS1 queries"):
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
                                    description=description)
    failed = {index for index, _ in failures}
    tables = [t for index, parts in enumerate(results) if index not in failed for t in parts]
    done = [b for index, b in enumerate(batches) if index not in failed]
    return Batches(tables, np.concatenate(done) if done else np.zeros(0, np.int64),
                   [(batches[index], error) for index, error in failures], len(batches))


def run_batches(batches, fetch, *, max_workers=4, progress=None, description="PS1 queries"):
    """Run ``fetch(batch)`` for every batch, at most ``max_workers`` at a time.

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

    Returns
    -------
    results : list
        ``fetch``'s results in batch order, None for failed batches.
    failures : list of (int, Exception)
        Index and error of each failed batch.

    Examples
    --------
    >>> results, failures = run_batches([1, 2, 3], lambda n: n * n, progress=False)
    >>> results, failures
    ([1, 4, 9], [])
    """
    if max_workers is None or int(max_workers) < 1:
        raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
    results = [None] * len(batches)
    failures = []
    bar = _progress_bar(len(batches), description, progress)
    try:
        with ThreadPoolExecutor(max_workers=min(int(max_workers), max(1, len(batches)))) as pool:
            futures = [pool.submit(fetch, batch) for batch in batches]
            for index, future in enumerate(futures):
                try:
                    results[index] = future.result()
                except Exception as exc:  # reported to the caller with the batch it belongs to
                    failures.append((index, exc))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return results, failures


def _progress_bar(total, description, progress):
    if progress is None:
        progress = total > 1
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="batch", leave=False)
