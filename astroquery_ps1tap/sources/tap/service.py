"""Talking to the TAP service: the one path every query takes.

`TapService.run` sends ADQL to a TAP service synchronously (one HTTP request) or as a UWS async job,
and returns the parsed result.  It makes the service dependable:

* every HTTP request has a timeout (pyvo sends none by default);
* failed requests are retried with exponential back-off, honouring ``Retry-After`` (read with
  pyvo's own `~pyvo.dal.DALRateLimitError` parser; a value that is not a usable number of seconds
  or a future date means "use the back-off", never "send again at once"): connection failures,
  truncated bodies and 5xx/429 answers are retried for idempotent requests (GET, DELETE, and
  synchronous queries, which only read), while a job-creation POST is retried only when the
  service says it did no work (429, 503);
* one overall deadline covers a whole query: retries, async waiting and the download;
* inside a many-batch call (`astroquery_ps1tap.batch.run_batches`) a stop (Ctrl-C, the circuit
  breaker, the call's deadline) is honoured within moments: waits wake up and requests under way
  are broken off;
* async jobs are deleted after use, whatever happened;
* a result the service truncated at its row limit is never passed on silently;
* whatever the service sends — an answer without ``QUERY_STATUS``, an error document, an HTML
  page, a redirect loop — ends in a result or one astroquery exception carrying the service's
  own words;
* results are cached on disk (see `ResultCache`); a cache that cannot be used only means
  answers are not cached.

The HTTP traffic itself goes through a `requests.Session` subclass, `RetryingSession`, so that pyvo
objects built with it (e.g. ``TAPService.tables``) share its timeout and retries.  Parsing and status
handling of the VOTable reuse pyvo (`pyvo.dal.TAPResults`).
"""
import functools
import hashlib
import html
import io
import math
import numbers
import os
import random
import re
import socket
import tempfile
import threading
import time
import warnings
import weakref
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from astropy.utils.exceptions import AstropyUserWarning
from astroquery import cache_conf, log
from astroquery.exceptions import (InvalidQueryError, MaxResultsWarning, RemoteServiceError,
                                   TimeoutError)
from requests.adapters import HTTPAdapter

from ...batch import add_stop_hook, check_positive_int, check_seconds, current_scope

__all__ = ["RetryingSession", "TapService", "ResultCache", "QueryResult", "CacheWarning",
           "check_settings", "check_server", "count_option", "seconds_option"]

_RETRY_STATUS = {429, 500, 502, 503, 504}
_NOT_PROCESSED_STATUS = {429, 503}
#: Longest ``Retry-After`` waited for (seconds); a service asking for more is reported instead.
_MAX_RETRY_AFTER = 300.0
#: Seconds allowed to delete an async job after a failure or a stop (no retries).
_CLEANUP_TIMEOUT = 5.0
#: UWS 1.1 phases; anything else in a job's phase is not an answer a TAP service should send.
_FINAL_PHASES = {"COMPLETED", "ERROR", "ABORTED", "ARCHIVED"}
_ACTIVE_PHASES = {"PENDING", "QUEUED", "EXECUTING", "HELD", "SUSPENDED", "UNKNOWN"}


class CacheWarning(AstropyUserWarning):
    """The answer cache cannot be used (answers are still returned, just not cached)."""


# ---- settings ------------------------------------------------------------------------------------
def check_retries(value, what="retries"):
    """``value`` as an int if it is a whole number >= 0, else a `ValueError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a whole number >= 0, got {value!r}")
    return int(value)


def check_settings(*, timeout=None, retries=None, deadline=None, where=""):
    """Refuse timeouts, retries and deadlines that cannot work, naming the setting and its value.

    None values are not checked (they mean "the configured default").  Returns the checked
    values as ``(timeout, retries, deadline)``.

    Examples
    --------
    >>> check_settings(timeout=30, retries=0, deadline=600)
    (30.0, 0, 600.0)
    >>> check_settings(timeout=-1)
    Traceback (most recent call last):
    ...
    ValueError: timeout must be a finite positive number of seconds, got -1
    """
    return (None if timeout is None else check_seconds(timeout, where + "timeout"),
            None if retries is None else check_retries(retries, where + "retries"),
            None if deadline is None else check_seconds(deadline, where + "deadline"))


def count_option(value, conf_name, what):
    """A positive whole-number option: ``value`` checked under its own name, or, when None,
    ``conf.<conf_name>`` checked under that name (never silently replaced by another value)."""
    from ... import conf

    if value is None:
        return check_positive_int(getattr(conf, conf_name), f"conf.{conf_name}")
    return check_positive_int(value, what)


def seconds_option(value, what, default=None):
    """Seconds: ``value`` checked under its own name, else ``conf.deadline`` (or ``default``)."""
    from ... import conf

    if value is not None:
        return check_seconds(value, what)
    if default is not None:
        return check_seconds(default, what)
    return check_seconds(conf.deadline, "conf.deadline")


def check_server(url):
    """Refuse a TAP URL requests could not send to (no http(s) scheme, no host)."""
    if not isinstance(url, str):
        raise ValueError(f"server must be a URL (text), got {url!r}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server must be an http:// or https:// URL of a TAP service, got {url!r}")
    return url.strip()


class _Deadline:
    """The time left for one whole operation (and no later than ``end``, a monotonic time)."""

    def __init__(self, seconds, end=None):
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds
        if end is not None and (self.end is None or end < self.end):
            self.end = end

    def remaining(self):
        return None if self.end is None else self.end - time.monotonic()

    def check(self, what):
        if self.end is not None and time.monotonic() >= self.end:
            raise TimeoutError(
                f"{what} did not finish within the deadline" +
                (f" of {self.seconds:g} s" if self.seconds is not None else "") +
                "; narrow the query (smaller radius, fewer objIDs, fewer columns) or allow more time "
                "with deadline=...")


# ---- connections that a stop can break off -------------------------------------------------------
_ACTIVE = weakref.WeakValueDictionary()  # thread id -> the connection it last sent a request on


class _TrackedHTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args, **kwargs):
        _ACTIVE[threading.get_ident()] = self
        return super().request(*args, **kwargs)


class _TrackedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args, **kwargs):
        _ACTIVE[threading.get_ident()] = self
        return super().request(*args, **kwargs)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _TrackedAdapter(HTTPAdapter):
    """requests' adapter with connections that remember which thread uses them."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def _break_off(threads):
    """Shut down the sockets that ``threads`` are waiting on (a blocked read returns at once)."""
    for thread in threads:
        sock = getattr(_ACTIVE.get(thread), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


add_stop_hook(_break_off)


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

    Raises
    ------
    ValueError
        For a timeout that is not a finite positive number, or retries that are not a whole
        number >= 0.
    """

    def __init__(self, timeout=60.0, retries=3, backoff=0.5):
        super().__init__()
        self.timeout, self.retries, _ = check_settings(timeout=timeout, retries=retries)
        if isinstance(backoff, bool) or not isinstance(backoff, numbers.Real) \
                or not math.isfinite(backoff) or backoff < 0:
            raise ValueError(f"backoff must be a finite number of seconds >= 0, got {backoff!r}")
        self.backoff = float(backoff)
        self._local = threading.local()
        for prefix in ("http://", "https://"):
            self.mount(prefix, _TrackedAdapter())

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

    def pause(self, attempt, response=None):
        """Wait before try ``attempt + 1``; False if there is no time left for it (deadline,
        or a ``Retry-After`` longer than `_MAX_RETRY_AFTER`)."""
        delay = min(30.0, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)
        asked = _retry_after(response)
        if asked is not None:
            if asked > _MAX_RETRY_AFTER:
                return False
            delay = max(delay, asked)  # never sooner than our own back-off
        remaining = self.deadline.remaining() if self.deadline else None
        if remaining is not None and delay >= remaining:
            return False
        scope = current_scope()
        if scope is not None:
            scope.wait(delay)
        else:
            time.sleep(delay)
        return True

    def request(self, method, url, *args, stream=False, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        idempotent = self._idempotent(method, url)
        what = f"{method} {url}"
        cleanup = getattr(self._local, "cleanup", False)
        scope = None if cleanup else current_scope()
        attempt = 0
        while True:
            if scope is not None:
                scope.check()
            limit = self.deadline
            if limit is not None and limit.end is not None:
                limit.check(what)
                kwargs["timeout"] = min(kwargs["timeout"] or limit.remaining(), limit.remaining())
            try:
                response = super().request(method, url, *args, stream=True, **kwargs)
                if not stream:
                    _read_body(response, limit, what)  # whole body here: cut-off answers are retried
                    _ACTIVE.pop(threading.get_ident(), None)  # idle now: a stop leaves it alone
            except requests.TooManyRedirects as exc:
                raise RemoteServiceError(f"{what}: the service sent redirects in a loop ({exc}); "
                                         "check the server URL") from None
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError, urllib3.exceptions.HTTPError) as exc:
                if scope is not None:
                    scope.check()  # broken off by a stop: say why, not "connection reset"
                connect_failed = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError) and "Connection refused" in str(exc))
                if (attempt < self.retries and not cleanup and (idempotent or connect_failed)
                        and self.pause(attempt)):
                    log.debug(f"retrying {what} after {exc!r}")
                    attempt += 1
                    continue
                if limit is not None:
                    limit.check(what)
                if (isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError))
                        or "timed out" in str(exc)):
                    raise TimeoutError(f"{what}: no answer within {kwargs['timeout']:g} s "
                                       f"(after {attempt + 1} tries): {exc}") from exc
                raise RemoteServiceError(f"{what} failed after {attempt + 1} tries: {exc}") from exc
            except (requests.RequestException, ValueError) as exc:  # e.g. a Location that is not a URL
                raise RemoteServiceError(f"{what}: the service's answer could not be followed "
                                         f"({type(exc).__name__}: {exc})") from None
            if (response.status_code in _RETRY_STATUS and attempt < self.retries and not cleanup
                    and (idempotent or response.status_code in _NOT_PROCESSED_STATUS)
                    and self.pause(attempt, response)):
                log.debug(f"retrying {what} after HTTP {response.status_code}")
                attempt += 1
                continue
            return response

    def cleanup(self, method, url, **kwargs):
        """One request that must be tried even after a stop (deleting an async job): a short
        timeout, no deadline, tried twice at most; errors are returned, not raised."""
        self._local.cleanup, deadline = True, self.deadline
        self.deadline = None
        try:
            for attempt in range(2):  # once more on a connection a stop broke off
                try:
                    return self.request(method, url, timeout=min(self.timeout, _CLEANUP_TIMEOUT),
                                        **kwargs)
                except TimeoutError as exc:
                    return exc
                except RemoteServiceError as exc:
                    outcome = exc
            return outcome
        finally:
            self._local.cleanup, self.deadline = False, deadline


def _retry_after(response):
    """Seconds a ``Retry-After`` header asks for (pyvo's parser: seconds or an HTTP date), or
    None when there is none or it is unusable (garbage, not a whole number)."""
    if response is None or "Retry-After" not in response.headers:
        return None
    from pyvo.dal import DALRateLimitError

    return DALRateLimitError.from_response(response).retry_after_seconds


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
        text = _readable_text(response.content) or "(no message)"
        retry = response.headers.get("Retry-After")
        raise RemoteServiceError(f"{what}: HTTP {response.status_code} {response.reason} from "
                                 f"{response.url}: {text}"
                                 + (f" (the service asked to retry after {retry!r})" if retry else ""))


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def _readable_text(content, limit=2000):
    """The words of an answer meant for people: a VOTable's error message, an HTML page's text,
    or plain text, whitespace collapsed (the whole message, up to ``limit`` characters)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else (content or "")
    if "QUERY_STATUS" in text:
        found = re.search(r'<INFO[^>]*name="QUERY_STATUS"[^>]*value="ERROR"[^>]*>(.*?)</INFO>', text, re.S)
        if found:
            text = found.group(1)
    if "<" in text:
        text = _TAGS.sub(" ", text)
    text = " ".join(html.unescape(text).split())
    return text if len(text) <= limit else text[:limit] + " ..."


class UnreadableAnswerError(RemoteServiceError):
    """The service's answer could not be parsed (e.g. cut off without the transport noticing)."""


class QueryResult:
    """A parsed TAP result: the table as the service sent it, and whether it was truncated."""

    def __init__(self, table, overflow, row_limit, adql=None):
        self.table = table
        self.overflow = overflow
        self.row_limit = row_limit
        self.adql = adql


def parse_votable(content, url):
    """Parse a VOTable answer with pyvo; map service errors to astroquery exceptions.

    Runs in worker threads too, so it must not touch the process-wide warning filters
    (``warnings.catch_warnings`` is not thread-safe: concurrent uses can leave filters behind
    that silence the user's warnings).  The VOTable parser is told to ignore the service's
    spec deviations and wrong unit strings instead (units come from the schema), and the overflow
    status is reported by the caller, not as pyvo's warning.

    Returns ``(table, overflow)``.  An answer without ``QUERY_STATUS`` (some services omit it)
    is taken as complete as far as the service says; `TapSource.run` still marks a result with
    as many rows as MAXREC truncated.
    """
    from astropy.io.votable import parse as votableparse
    from pyvo.dal import DALFormatError, DALQueryError

    try:
        votable = votableparse(io.BytesIO(content), verify="ignore")
    except Exception as exc:
        stripped = content.lstrip()[:200].lower()
        if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped:
            raise UnreadableAnswerError(f"the service at {url} sent a web page, not a VOTable: "
                                        f"{_readable_text(content, 500)}") from None
        raise UnreadableAnswerError(f"the service's answer from {url} is not a readable VOTable "
                                    f"({len(content)} bytes; cut off?): {exc}") from exc
    statuses = [((info.value or "").upper(), " ".join(str(info.content or "").split()))
                for info in votable.iter_info() if info.name == "QUERY_STATUS"]
    try:
        results = _quiet_results_class()(votable, url=url)
    except DALQueryError as exc:
        errors = [text for status, text in statuses if status == "ERROR"]
        if not errors:
            raise RemoteServiceError(f"unexpected answer from {url}: QUERY_STATUS "
                                     f"{statuses[0][0] if statuses else None!r}, which is not a TAP "
                                     "status (OK, OVERFLOW or ERROR)") from None
        if statuses[0][0] in ("OK", "OVERFLOW"):
            raise RemoteServiceError(f"the service at {url} failed while sending the result: "
                                     f"{errors[0] or exc.reason}") from None
        raise InvalidQueryError(f"the TAP service rejected the query: {errors[0] or exc.reason}") from None
    except DALFormatError as exc:
        raise RemoteServiceError(f"unexpected answer from {url}: {exc.reason}") from None
    return results.to_table(), (results.query_status or "OK").upper() == "OVERFLOW"


@functools.lru_cache(maxsize=None)
def _quiet_results_class():
    from pyvo.dal import TAPResults

    class QuietTAPResults(TAPResults):
        """`pyvo.dal.TAPResults` that leaves overflow reporting to `warn_or_raise_truncated`."""

        def _handle_overflow_warning(self, client_set_maxrec=None):
            pass

    return QuietTAPResults


class ResultCache:
    """Raw service answers on disk, keyed by server, ADQL (exactly as sent) and row limit.

    Honours astroquery's cache settings (``astroquery.cache_conf.cache_active`` and
    ``cache_timeout``).  Never makes things worse than no cache:

    * writes are atomic (temporary file + rename), and each entry carries the length and SHA-256
      of the answer, so an entry that is cut short, altered or not ours is discarded, never used;
    * a location that cannot be created, read or written (read-only, full, not a directory,
      removed or replaced after first use) means "not cached": one `CacheWarning` per location,
      and the answer is still returned.

    Parameters
    ----------
    location : str or `~pathlib.Path`
        The directory (created when the first answer is written).
    """

    suffix = ".vot"
    _MAGIC = b"astroquery_ps1tap-cache-1"

    def __init__(self, location):
        self.location = Path(location)
        self._warned = set()
        self._lock = threading.Lock()

    @staticmethod
    def key(server, adql, maxrec):
        """The entry name: whitespace is kept as sent (inside string literals it is meaning)."""
        text = "\n".join([server.rstrip("/"), adql.strip(), str(maxrec)])
        return hashlib.sha256(text.encode()).hexdigest()

    def path(self, key):
        return self.location / (key + self.suffix)

    def _warn(self, doing, exc):
        with self._lock:  # one warning per location: the user needs to hear it once
            if str(self.location) in self._warned:
                return
            self._warned.add(str(self.location))
        warnings.warn(f"the answer cache at {self.location} cannot be used ({doing}: {exc}); "
                      "answers are not cached. Set cache_location to a writable directory, or "
                      "pass cache=False", CacheWarning, stacklevel=2)

    def get(self, key):
        """The cached answer, or None (absent, expired, damaged, or the cache unusable)."""
        path = self.path(key)
        try:
            timeout = cache_conf.cache_timeout
            if timeout is not None and time.time() - path.stat().st_mtime > timeout:
                return None
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._warn("reading", exc)
            return None
        header, _, content = data.partition(b"\n")
        fields = header.split()
        if (len(fields) != 3 or fields[0] != self._MAGIC or fields[2] != str(len(content)).encode()
                or fields[1] != hashlib.sha256(content).hexdigest().encode()):
            log.debug(f"discarding damaged cache entry {path}")
            self.discard(key)
            return None
        return content

    def put(self, key, content):
        """Store an answer; a cache that cannot be written is reported once, never raised."""
        tmp = None
        try:
            self.location.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.location, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(b"%s %s %d\n" % (self._MAGIC, hashlib.sha256(content).hexdigest().encode(),
                                              len(content)))
                handle.write(content)
            os.replace(tmp, self.path(key))
        except OSError as exc:
            self._warn("writing", exc)
            if tmp is not None:
                try:
                    Path(tmp).unlink(missing_ok=True)
                except OSError:
                    pass

    def discard(self, key):
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            self._warn("removing a damaged entry", exc)

    def clear(self):
        """Remove every entry (and left-over temporary files) of this location."""
        try:
            if not self.location.is_dir():
                return
            for path in list(self.location.glob("*" + self.suffix)) + list(self.location.glob("*.tmp")):
                path.unlink(missing_ok=True)
        except OSError as exc:
            self._warn("clearing", exc)


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
            Seconds allowed for the whole query, retries and waiting included (and never past
            the deadline of the many-batch call it is part of).
        cache : bool
            Use and fill the on-disk cache (also subject to astroquery's ``cache_conf``).
            ``False`` never touches the cache.
        uploads : dict or None
            ``{name: astropy Table}`` sent as ``TAP_UPLOAD.name`` (only where the service allows it).
        """
        scope = current_scope()
        if scope is not None:
            scope.check()
        use_cache = cache and self.cache is not None and cache_conf.cache_active
        key = None
        if use_cache:
            key = ResultCache.key(self.url, adql + _uploads_key(uploads), maxrec)
            content = self.cache.get(key)
            if content is not None:
                try:
                    table, overflow = parse_votable(content, self.url)
                    if not overflow:
                        log.debug(f"cache hit {key}")
                        return QueryResult(table, overflow, maxrec, adql)
                except Exception as exc:  # whatever makes an entry unusable: fetch again
                    log.debug(f"discarding unusable cache entry {key}: {exc!r}")
                self.cache.discard(key)
        limit = _Deadline(deadline, end=scope.end if scope is not None else None)
        fetch = self._run_async if async_job else self._run_sync
        for attempt in range(self.session.retries + 1):  # queries only read: sending again is safe
            self.session.deadline = limit
            try:
                content, url = fetch(adql, maxrec, uploads)
                table, overflow = parse_votable(content, url)
                break
            except UnreadableAnswerError:
                if attempt == self.session.retries:
                    raise
                limit.check("the query")
                log.debug(f"answer from {self.url} unreadable; asking again")
                if not self.session.pause(attempt):  # back off before asking again
                    raise
            finally:
                self.session.deadline = None
        if use_cache and not overflow:  # only complete answers are kept
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

    def _run_sync(self, adql, maxrec, uploads):
        data, files = self._form(adql, maxrec, uploads)
        url = self.url + "/sync"
        response = self.session.post(url, data=data, files=files)
        _raise_for_status(response, "TAP sync query")
        return response.content, url

    def _run_async(self, adql, maxrec, uploads):
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
            phase = self._wait(job)
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
        phase = response.text.strip().upper()
        if phase not in _FINAL_PHASES | _ACTIVE_PHASES:
            raise RemoteServiceError(f"TAP async job {job}: the service gave the phase "
                                     f"{_readable_text(response.content, 200)!r}, which is not a UWS "
                                     "phase")
        return phase

    def _wait(self, job):
        limit = self.session.deadline
        scope = current_scope()
        interval = self.poll
        while True:
            phase = self._phase(job)
            if phase in _FINAL_PHASES:
                return phase
            remaining = limit.remaining() if limit is not None else None
            if remaining is not None and remaining <= 0:
                limit.check(f"TAP async job {job} (still {phase})")
            pause = interval if remaining is None else max(0.0, min(interval, remaining))
            if scope is not None:
                scope.wait(pause)
            else:
                time.sleep(pause)
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
        """The exception for a job that ended in ``phase``, with the service's message whole:
        from the job's errorSummary, else its ``/error`` document (a VOTable, HTML or text)."""
        message = ""
        try:
            summary = self._job_document(job).errorsummary
            if summary is not None and summary.message:
                message = " ".join(summary.message.split())
        except Exception as exc:
            log.debug(f"no error summary for {job}: {exc!r}")
        if not message and phase == "ERROR":
            try:
                response = self.session.get(job + "/error")
                if response.ok:
                    message = _readable_text(response.content)
            except (RemoteServiceError, TimeoutError):
                pass
        if phase == "ERROR" and message:
            # DaCHS says "Query Error: ..."; MAST reports ADQL mistakes the same way
            text = message.split(":", 1)[1].strip() if message.lower().startswith("query error") else message
            return InvalidQueryError(f"the TAP service rejected the query: {text}")
        return RemoteServiceError(f"TAP async job {job} ended in phase {phase}"
                                  + (f": {message}" if message else " with no message from the service"))

    def _delete(self, job):
        """Delete the job: tried even after a stop or past the deadline (short timeout)."""
        outcome = self.session.cleanup("DELETE", job, allow_redirects=False)
        if isinstance(outcome, Exception):
            warnings.warn(f"could not delete the TAP async job {job}: {outcome}; the service will "
                          "remove it at its end of life", RuntimeWarning)

    # ---- capabilities (only asked for where a choice depends on them) ----------------------------
    def upload_supported(self):
        """Whether the service declares a table upload method (asked once, then remembered)."""
        if self._capabilities is None:
            from pyvo.io.vosi import parse_capabilities

            response = self.session.get(self.url + "/capabilities")
            _raise_for_status(response, "TAP capabilities")
            try:
                self._capabilities = parse_capabilities(io.BytesIO(response.content))
            except Exception as exc:
                raise RemoteServiceError(f"unreadable capabilities from {self.url}: "
                                         f"{_readable_text(response.content, 300)} ({exc})") from None
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


def truncation_report(objid, photometry, bands, min_qf):
    """``what`` and ``advice`` for one object's measurements cut at the row limit: the advice
    offers only what the call has not already done.

    Examples
    --------
    >>> truncation_report(190361393344112894, "detection", "g", 0.9)["advice"]
    'Fetch it with a larger conf.row_limit (if the service allows more rows).'
    """
    from ...targets import parse_bands

    ways = []
    if len(parse_bands(bands)) > 1:
        ways.append("one filter at a time (bands='g', then 'r', ...)")
    if min_qf is None:
        ways.append("with a quality cut (min_qf=0.9)")
    ways.append("with a larger conf.row_limit (if the service allows more rows)")
    shown = "" if bands is None else f" in bands {bands!r}"
    return {"what": f"the {photometry or 'detection'} measurements of objID {objid}{shown}",
            "advice": "Fetch it " + ", or ".join(ways) + "."}


def warn_or_raise_truncated(result, *, what, advice, on_truncation="warn"):
    """Never let a truncated result pass silently: a `MaxResultsWarning`, or `MaxResultsError`
    with ``on_truncation="raise"``, naming ``what`` was cut, where, and ``advice``."""
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

    #: Not a sign that the service is down (the circuit breaker of many-batch calls ignores it).
    service_is_fine = True
