"""Talking to the TAP service: the one path every query takes.

`TapService.run` sends ADQL to a TAP service synchronously (one HTTP request) or as a UWS async job,
and returns the parsed result.  It makes the service dependable:

* every HTTP request has a timeout (pyvo sends none by default);
* failed requests are retried with exponential back-off, honouring ``Retry-After``: connection
  failures, truncated bodies and 5xx/429 answers are retried for idempotent requests (GET, DELETE,
  and synchronous queries, which only read), while a job-creation POST is retried only when the
  service says it did no work (429, 503);
* one overall deadline covers a whole query: retries, async waiting and the download;
* async jobs are deleted after use, whatever happened;
* a result the service truncated at its row limit is never passed on silently;
* results are cached on disk (see `ResultCache`).

The HTTP traffic itself goes through a `requests.Session` subclass, `RetryingSession`, so that pyvo
objects built with it (e.g. ``TAPService.tables``) share its timeout and retries.  Parsing and status
handling of the VOTable reuse pyvo (`pyvo.dal.TAPResults`).
"""
import email.utils
import functools
import hashlib
import io
import os
import random
import tempfile
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urljoin

import requests
import urllib3
from astroquery import cache_conf, log
from astroquery.exceptions import (InvalidQueryError, MaxResultsWarning, RemoteServiceError,
                                   TimeoutError)

__all__ = ["RetryingSession", "TapService", "ResultCache", "QueryResult"]

_RETRY_STATUS = {429, 500, 502, 503, 504}
_NOT_PROCESSED_STATUS = {429, 503}


class _Deadline:
    """The time left for one whole operation."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def remaining(self):
        return None if self.end is None else self.end - time.monotonic()

    def check(self, what):
        if self.end is not None and time.monotonic() >= self.end:
            raise TimeoutError(
                f"{what} did not finish within the deadline of {self.seconds:g} s; narrow the query "
                "(smaller radius, fewer objIDs, fewer columns) or allow more time with deadline=...")


class RetryingSession(requests.Session):
    """A `requests.Session` with a default timeout, retries with back-off, and whole-body reads.

    Parameters
    ----------
    timeout : float
        Seconds allowed to connect and between bytes of an answer, for every request.
    retries : int
        How many times a failed request is tried again.
    backoff : float
        First wait between tries in seconds; doubles each time (with jitter), at most 30 s.
    """

    def __init__(self, timeout=60.0, retries=3, backoff=0.5):
        super().__init__()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._local = threading.local()

    @property
    def deadline(self):
        """The `_Deadline` of the operation under way in this thread (set by `TapService`)."""
        return getattr(self._local, "deadline", None)

    @deadline.setter
    def deadline(self, value):
        self._local.deadline = value

    @staticmethod
    def _idempotent(method, url):
        return method.upper() in ("GET", "HEAD", "DELETE", "OPTIONS") or (
            method.upper() == "POST" and url.rstrip("/").endswith("/sync"))

    def _wait(self, attempt, response=None):
        delay = min(30.0, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)
        if response is not None and "Retry-After" in response.headers:
            value = response.headers["Retry-After"].strip()
            try:
                delay = float(value)
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(value)
                delay = parsed.timestamp() - time.time() if parsed else delay
            delay = max(0.0, delay)
        remaining = self.deadline.remaining() if self.deadline else None
        if remaining is not None and delay >= remaining:
            return False
        time.sleep(delay)
        return True

    def request(self, method, url, *args, stream=False, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        idempotent = self._idempotent(method, url)
        what = f"{method} {url}"
        attempt = 0
        while True:
            limit = self.deadline
            if limit is not None and limit.end is not None:
                limit.check(what)
                kwargs["timeout"] = min(kwargs["timeout"] or limit.remaining(), limit.remaining())
            try:
                response = super().request(method, url, *args, stream=True, **kwargs)
                if not stream:
                    _read_body(response, limit, what)  # whole body here: cut-off answers are retried
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError, urllib3.exceptions.HTTPError) as exc:
                connect_failed = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError) and "Connection refused" in str(exc))
                if attempt < self.retries and (idempotent or connect_failed) and self._wait(attempt):
                    log.debug(f"retrying {what} after {exc!r}")
                    attempt += 1
                    continue
                if limit is not None:
                    limit.check(what)
                if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError)) or "timed out" in str(exc):
                    raise TimeoutError(f"{what}: no answer within {kwargs['timeout']:g} s "
                                       f"(after {attempt + 1} tries): {exc}") from exc
                raise RemoteServiceError(f"{what} failed after {attempt + 1} tries: {exc}") from exc
            if (response.status_code in _RETRY_STATUS and attempt < self.retries
                    and (idempotent or response.status_code in _NOT_PROCESSED_STATUS)
                    and self._wait(attempt, response)):
                log.debug(f"retrying {what} after HTTP {response.status_code}")
                attempt += 1
                continue
            return response


def _read_body(response, limit, what):
    """Read the whole body, giving up when the operation's deadline passes (a slow drip).

    ``read1`` returns whatever has arrived, so the deadline is checked as the bytes come in.
    """
    raw = response.raw
    chunks = []
    while True:
        chunk = raw.read1(1 << 16, decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        if limit is not None and limit.end is not None and limit.remaining() <= 0:
            response.close()
            limit.check(f"{what} (downloading, {sum(map(len, chunks))} bytes so far)")
    response._content = b"".join(chunks)


def _raise_for_status(response, what):
    if response.status_code >= 400:
        text = " ".join(response.text.split())[:500] if response.content else "(no message)"
        raise RemoteServiceError(f"{what}: HTTP {response.status_code} {response.reason} from "
                                 f"{response.url}: {text}")


class UnreadableAnswerError(RemoteServiceError):
    """The service's answer could not be parsed (e.g. cut off without the transport noticing)."""


class QueryResult:
    """A parsed TAP result: the table as the service sent it, and whether it was truncated."""

    def __init__(self, table, overflow, row_limit, adql):
        self.table = table
        self.overflow = overflow
        self.row_limit = row_limit
        self.adql = adql


def parse_votable(content, url, maxrec=None):
    """Parse a VOTable answer with pyvo; map service errors to astroquery exceptions.

    Runs in worker threads too, so it must not touch the process-wide warning filters
    (``warnings.catch_warnings`` is not thread-safe: concurrent uses can leave filters behind
    that silence the user's warnings).  The VOTable parser is told to ignore the service's
    spec deviations and wrong unit strings instead (units come from the schema), and the overflow
    status is reported by the caller, not as pyvo's warning.
    """
    from astropy.io.votable import parse as votableparse
    from pyvo.dal import DALFormatError, DALQueryError

    try:
        votable = votableparse(io.BytesIO(content), verify="ignore")
    except Exception as exc:
        raise UnreadableAnswerError(f"the service's answer from {url} is not a readable VOTable "
                                    f"({len(content)} bytes; cut off?): {exc}") from exc
    try:
        results = _quiet_results_class()(votable, url=url)
    except DALQueryError as exc:
        raise InvalidQueryError(f"the TAP service rejected the query: {exc.reason}") from None
    except DALFormatError as exc:
        raise RemoteServiceError(f"unexpected answer from {url}: {exc.reason}") from None
    return results.to_table(), results.query_status.lower() == "overflow"


@functools.lru_cache(maxsize=None)
def _quiet_results_class():
    from pyvo.dal import TAPResults

    class QuietTAPResults(TAPResults):
        """`pyvo.dal.TAPResults` that leaves overflow reporting to `warn_or_raise_truncated`."""

        def _handle_overflow_warning(self, client_set_maxrec=None):
            pass

    return QuietTAPResults


class ResultCache:
    """Raw service answers on disk, keyed by server, ADQL and row limit.

    Honours astroquery's cache settings (``astroquery.cache_conf.cache_active`` and
    ``cache_timeout``); writes are atomic (temporary file + rename); an unreadable entry is
    treated as absent.
    """

    suffix = ".vot"

    def __init__(self, location):
        self.location = Path(location)

    @staticmethod
    def key(server, adql, maxrec):
        text = "\n".join([server.rstrip("/"), " ".join(adql.split()), str(maxrec)])
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, key):
        return self.location / (key + self.suffix)

    def get(self, key):
        path = self.path(key)
        try:
            timeout = cache_conf.cache_timeout
            if timeout is not None and time.time() - path.stat().st_mtime > timeout:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def put(self, key, content):
        self.location.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.location, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def discard(self, key):
        self.path(key).unlink(missing_ok=True)

    def clear(self):
        for path in self.location.glob("*" + self.suffix):
            path.unlink(missing_ok=True)


class TapService:
    """Run ADQL at one TAP service, sync or async, with retries, a deadline, caching.

    Parameters
    ----------
    url : str
        The service's base URL (``.../sync`` and ``.../async`` are below it).
    session : `RetryingSession`
        The HTTP session (timeouts and retries).
    cache : `ResultCache` or None
        Where answers are cached.
    poll : float
        First interval between async status polls in seconds (grows 1.5× to 10 s).
    """

    def __init__(self, url, session, cache=None, poll=0.3):
        self.url = url.rstrip("/")
        self.session = session
        self.cache = cache
        self.poll = poll
        self._capabilities = None

    # ---- the one path ----------------------------------------------------------------------------
    def run(self, adql, *, maxrec, async_job=False, deadline=None, cache=True, uploads=None):
        """Run ``adql`` and return a `QueryResult`.

        Parameters
        ----------
        adql : str
            The query.
        maxrec : int
            Row limit sent as MAXREC; a result cut there has ``overflow`` set.
        async_job : bool
            Run as a UWS job (queued; for long queries) instead of one synchronous request.
        deadline : float or None
            Seconds allowed for the whole query, retries and waiting included.
        cache : bool
            Use and fill the on-disk cache (also subject to astroquery's ``cache_conf``).
        uploads : dict or None
            ``{name: astropy Table}`` sent as ``TAP_UPLOAD.name`` (only where the service allows it).
        """
        use_cache = cache and self.cache is not None and cache_conf.cache_active
        key = None
        if use_cache:
            key = ResultCache.key(self.url, adql + _uploads_key(uploads), maxrec)
            content = self.cache.get(key)
            if content is not None:
                try:
                    table, overflow = parse_votable(content, self.url, maxrec)
                    log.debug(f"cache hit {key}")
                    return QueryResult(table, overflow, maxrec, adql)
                except (RemoteServiceError, InvalidQueryError):
                    log.debug(f"discarding unreadable cache entry {key}")
                    self.cache.discard(key)
        limit = _Deadline(deadline)
        fetch = self._run_async if async_job else self._run_sync
        for attempt in range(self.session.retries + 1):  # queries only read: sending again is safe
            self.session.deadline = limit
            try:
                content, url = fetch(adql, maxrec, limit, uploads)
            finally:
                self.session.deadline = None
            try:
                table, overflow = parse_votable(content, url, maxrec)
                break
            except UnreadableAnswerError:
                if attempt == self.session.retries:
                    raise
                limit.check("the query")
                log.debug(f"answer from {url} unreadable; asking again")
        if use_cache:
            self.cache.put(key, content)
        return QueryResult(table, overflow, maxrec, adql)

    @staticmethod
    def _form(adql, maxrec, uploads):
        """The TAP request parameters, and the uploaded tables as multipart files."""
        data = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": adql,
                "MAXREC": str(maxrec)}
        files = {}
        for name, table in (uploads or {}).items():
            buffer = io.BytesIO()
            table.write(buffer, format="votable")
            files[name] = (name + ".xml", buffer.getvalue(), "application/x-votable+xml")
        if files:
            data["UPLOAD"] = ";".join(f"{name},param:{name}" for name in files)
        return data, files or None

    def _run_sync(self, adql, maxrec, limit, uploads):
        data, files = self._form(adql, maxrec, uploads)
        url = self.url + "/sync"
        response = self.session.post(url, data=data, files=files)
        _raise_for_status(response, "TAP sync query")
        return response.content, url

    def _run_async(self, adql, maxrec, limit, uploads):
        data, files = self._form(adql, maxrec, uploads)
        response = self.session.post(self.url + "/async", data=data, files=files,
                                     allow_redirects=False)
        if response.status_code not in (200, 201, 303):
            _raise_for_status(response, "TAP async job creation")
            raise RemoteServiceError(f"TAP async job creation: unexpected HTTP {response.status_code}")
        job = response.headers.get("Location") or response.url
        job = urljoin(self.url + "/async/", job)
        try:
            self._start(job)
            phase = self._wait(job, limit)
            if phase != "COMPLETED":
                raise self._job_failure(job, phase)
            result_url = self._result_url(job)
            response = self.session.get(result_url)
            _raise_for_status(response, "TAP async result download")
            return response.content, result_url
        finally:
            self._delete(job)

    def _start(self, job):
        phase = self._phase(job)
        if phase == "PENDING":
            response = self.session.post(job + "/phase", data={"PHASE": "RUN"}, allow_redirects=False)
            if response.status_code >= 400:
                _raise_for_status(response, "starting the TAP async job")

    def _phase(self, job):
        response = self.session.get(job + "/phase")
        _raise_for_status(response, "TAP async job status")
        return response.text.strip().upper()

    def _wait(self, job, limit):
        interval = self.poll
        while True:
            phase = self._phase(job)
            if phase in ("COMPLETED", "ERROR", "ABORTED"):
                return phase
            remaining = limit.remaining()
            if remaining is not None and remaining <= 0:
                limit.check(f"TAP async job {job} (still {phase})")
            time.sleep(interval if remaining is None else max(0.0, min(interval, remaining)))
            interval = min(10.0, interval * 1.5)

    def _job_document(self, job):
        from pyvo.io.uws import parse_job

        response = self.session.get(job)
        _raise_for_status(response, "TAP async job document")
        return parse_job(io.BytesIO(response.content))

    def _result_url(self, job):
        try:
            results = self._job_document(job).results
            for result in results:
                if result.id_ == "result":
                    return urljoin(job + "/", result.href)
            if results:
                return urljoin(job + "/", results[0].href)
        except Exception as exc:  # a job document we cannot read: fall back on the standard place
            log.debug(f"job document of {job} unreadable: {exc!r}")
        return job + "/results/result"

    def _job_failure(self, job, phase):
        message = ""
        try:
            summary = self._job_document(job).errorsummary
            if summary is not None and summary.message:
                message = summary.message.strip()
        except Exception as exc:
            log.debug(f"no error summary for {job}: {exc!r}")
        if not message and phase == "ERROR":
            try:
                response = self.session.get(job + "/error")
                if response.ok:
                    message = " ".join(response.text.split())[:500]
            except (RemoteServiceError, TimeoutError):
                pass
        if phase == "ERROR" and message:
            # DaCHS says "Query Error: ..."; MAST reports ADQL mistakes the same way
            text = message.split(":", 1)[1].strip() if message.lower().startswith("query error") else message
            return InvalidQueryError(f"the TAP service rejected the query: {text}")
        return RemoteServiceError(f"TAP async job {job} ended in phase {phase}"
                                  + (f": {message}" if message else " with no message from the service"))

    def _delete(self, job):
        self.session.deadline = None  # cleaning up is allowed past the deadline (with its own timeout)
        try:
            self.session.delete(job, allow_redirects=False)
        except (RemoteServiceError, TimeoutError) as exc:
            warnings.warn(f"could not delete the TAP async job {job}: {exc}; the service will "
                          "remove it at its end of life", RuntimeWarning)

    # ---- capabilities (only asked for where a choice depends on them) ----------------------------
    def upload_supported(self):
        """Whether the service declares a table upload method (asked once, then remembered)."""
        if self._capabilities is None:
            from pyvo.io.vosi import parse_capabilities

            response = self.session.get(self.url + "/capabilities")
            _raise_for_status(response, "TAP capabilities")
            self._capabilities = parse_capabilities(io.BytesIO(response.content))
        for capability in self._capabilities:
            if getattr(capability, "uploadmethods", None):
                return True
        return False


def _uploads_key(uploads):
    if not uploads:
        return ""
    digest = hashlib.sha256()
    for name, table in sorted(uploads.items()):
        digest.update(name.encode())
        for column in table.itercols():
            digest.update(column.name.encode())
            digest.update(bytes(memoryview(column.data.astype(column.dtype))))
    return "\n-- uploads " + digest.hexdigest()


def warn_or_raise_truncated(result, *, what, advice, on_truncation="warn"):
    """Never let a truncated result pass silently."""
    if not result.overflow:
        return
    limit = (f"the row limit {result.row_limit}" if len(result.table) >= result.row_limit
             else f"the service's own limit (maxrec={result.row_limit} was asked for)")
    message = (f"{what}: the service returned only the first {len(result.table)} rows, cut at "
               f"{limit}; the result is incomplete. {advice}")
    if on_truncation == "raise":
        raise MaxResultsError(message)
    warnings.warn(message, MaxResultsWarning)


class MaxResultsError(RemoteServiceError):
    """A result was cut at the row limit and the caller asked for an error instead of a warning."""
