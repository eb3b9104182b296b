"""A bad network on loopback: a fault-injecting reverse proxy for TAP tests.

``FaultProxy`` sits between a TAP client (pyvo, requests) and a TAP server
(the local DaCHS, or a stand-in) and forwards every request, optionally
adding latency and replacing chosen requests with faults.  Standard library
only (``http.server`` + ``http.client``); one thread per client connection.

Example::

    with FaultProxy("http://localhost:8080", latency=0.05) as proxy:
        service = pyvo.dal.TAPService(proxy.url + "/tap")
        proxy.inject(http_error(503), match="POST /tap/sync")
        with pytest.raises(pyvo.dal.DALServiceError):
            service.run_sync("SELECT TOP 1 * FROM dbo.Filter")
        service.run_sync("SELECT TOP 1 * FROM dbo.Filter")   # fault used up
        assert proxy.count == 2

Faults (factories; pass the result to `FaultProxy.inject`)
----------------------------------------------------------
Per-request faults replace the answer to one matching request:

``http_error(status=503, body=None, *, content_type="text/plain", headers=None, forward=False)``
    answer ``status`` with that body (``None``: no body, Content-Length 0).
``rate_limit(retry_after=1, body=None)``
    429 with ``Retry-After: <retry_after>``.
``votable_error(message="...", *, status=200)``
    how TAP services (DaCHS, MAST) reject a query: HTTP 200 and a VOTable
    with ``<INFO name="QUERY_STATUS" value="ERROR">message</INFO>``.
``reset(*, forward=False)``
    read the request, then close the socket with SO_LINGER 0: the client gets
    a TCP RST (ECONNRESET) instead of an answer.
``hang(seconds=None, *, forward=False)``
    read the request and never answer (until the proxy stops, or ``seconds``
    elapse); then close the connection without a response.
``truncate(fraction=0.5, *, mode="length")``
    forward, then send only ``fraction`` of the real body and close.  ``mode``:
    ``"length"`` keeps the real Content-Length (client can tell);
    ``"chunked"`` sends Transfer-Encoding: chunked without the final 0-chunk
    (client can tell); ``"close"`` sends neither, the body ends at connection
    close (HTTP cannot tell: only the parser can).
``drip(bytes_per_second, *, chunk=None)``
    forward, then send the real body slowly (Content-Length kept).

``forward=True`` sends the request upstream first (and throws the answer
away), which models "the server did the work but the client never heard",
e.g. a job created by a POST whose answer was lost.

Async-job faults mark a UWS job; from then on, every answer about that job
is rewritten consistently (job document ``<uws:phase>``, ``/phase`` text,
job list, ``/error``, ``/results``):

``job_error(message="...")``
    once the job has left PENDING, its phase reads ERROR and the job document
    carries ``<uws:errorSummary type="fatal"><uws:message>message</...>``;
    its result list is empty and result URLs answer 404.
``job_aborted()``
    same with phase ABORTED and no errorSummary.
``job_stuck(phase="EXECUTING")``
    once out of PENDING the job reads ``phase`` forever (EXECUTING or QUEUED),
    with no results.

A job fault is taken by the first matching request (default match: anything
under ``*/async*``) whose job can be identified: the job-creating
``POST .../async`` (from the Location of its answer) or a request to
``.../async/<jobid>[/...]``.

Matching
--------
``match`` is ``None`` (every request), a string ``"[METHOD ]PATH-PATTERN"``
or a callable ``(method, path) -> bool``.  The pattern is an ``fnmatch``
glob on the path without its query string; without wildcards it must equal
the path.  Examples: ``"POST /tap/sync"``, ``"POST /tap/async"`` (job
creation), ``"GET */async/*/phase"``, ``"*/async/*"`` (all traffic about
jobs), ``"GET */results/result"`` (result downloads), ``"DELETE"`` (every
DELETE).  DaCHS's job URLs are ``/__system__/tap/run/async/<jobid>`` (not
under ``/tap/async/``): use ``*/async/*`` to cover any server.

Bookkeeping
-----------
``proxy.count`` (requests received), ``proxy.requests`` (list of
`Request` records: method, path, status, query, fault), ``proxy.count_of(match)``,
``proxy.jobs_created`` / ``proxy.jobs_deleted`` / ``proxy.leaked_jobs``
(job ids; DELETE and ``POST ACTION=DELETE`` both count as deletion),
``proxy.reset()`` (clear records, pending faults and job faults),
``proxy.cleanup_jobs()`` (delete leaked jobs upstream, bypassing the proxy).
``status`` is ``None`` when no answer was sent (reset, hang).
``proxy.inject(...)`` returns an ``Injection`` whose ``fired`` counts its uses;
``proxy.wait_for(n, timeout)`` blocks until ``n`` requests have arrived (e.g.
until a hung request is in); ``proxy.latency`` can be changed at any time.
An unreachable upstream gives the client a 502, as any reverse proxy would.

URL rewriting
-------------
DaCHS writes its own serverURL into Location headers, job documents and
capabilities.  The proxy replaces the upstream base URL (and its loopback
spellings: localhost, 127.0.0.1, [::1]) with its own in every Location /
Content-Location header and in every textual body (XML, text, HTML, JSON),
so async traffic stays on the proxy.  Requests are forwarded with
``Accept-Encoding: identity`` so that bodies can be rewritten.
"""

import fnmatch
import html
import re
import socket
import struct
import threading
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple, Optional
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FaultProxy", "Request", "Fault",
    "http_error", "rate_limit", "votable_error", "reset", "hang", "truncate", "drip",
    "job_error", "job_aborted", "job_stuck",
]

_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "content-length",
}
_TEXTUAL = ("xml", "text/", "json", "html", "javascript")
_JOB_PATH = re.compile(r"^(?P<base>.*/async)(?:/(?P<job>[^/]+)(?P<rest>/.*)?)?$")


class Request(NamedTuple):
    """One HTTP round trip seen by the proxy (``r[:3]`` is method, path, status)."""

    method: str
    path: str                    #: path without the query string
    status: Optional[int]        #: status sent to the client; None: no answer (reset, hang)
    query: str = ""              #: query string, without "?"
    fault: Optional[str] = None  #: name of the fault applied, if any


# --------------------------------------------------------------------------- faults

class Fault:
    """Base class of all faults; ``name`` shows in `Request.fault`."""

    name = "fault"
    job_fault = False
    default_match = None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{self.name}({args})"

    def serve(self, ex):  # pragma: no cover - overridden
        raise NotImplementedError


_VOTABLE_ERROR = """<?xml version="1.0" encoding="utf-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results">
<INFO name="QUERY_STATUS" value="ERROR">%s</INFO>
</RESOURCE>
</VOTABLE>
"""


class _HttpError(Fault):
    name = "http_error"

    def __init__(self, status, body, content_type, headers, forward, name=None):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers, self.forward = dict(headers or {}), forward
        if name:
            self.name = name

    def serve(self, ex):
        if self.forward:
            ex.forward()
        body = self.body
        if isinstance(body, str):
            body = body.encode()
        headers = dict(self.headers)
        if body:
            headers.setdefault("Content-Type", self.content_type)
        ex.send(self.status, headers, body or b"")


class _Reset(Fault):
    name = "reset"

    def __init__(self, forward):
        self.forward = forward

    def serve(self, ex):
        if self.forward:
            ex.forward()
        ex.abort_with_rst()


class _Hang(Fault):
    name = "hang"

    def __init__(self, seconds, forward):
        self.seconds, self.forward = seconds, forward

    def serve(self, ex):
        if self.forward:
            ex.forward()
        ex.proxy._stopping.wait(self.seconds)
        ex.drop()


class _Truncate(Fault):
    name = "truncate"

    def __init__(self, fraction, mode):
        if not 0 <= fraction < 1:
            raise ValueError("fraction must be in [0, 1)")
        if mode not in ("length", "chunked", "close"):
            raise ValueError("mode must be 'length', 'chunked' or 'close'")
        self.fraction, self.mode = fraction, mode

    def serve(self, ex):
        resp = ex.forward()
        cut = resp.body[:int(len(resp.body) * self.fraction)]
        headers = dict(resp.headers)
        if self.mode == "length":
            headers["Content-Length"] = str(len(resp.body))
            ex.send_head(resp.status, headers, reason=resp.reason)
            ex.write(cut)
        elif self.mode == "chunked":
            headers["Transfer-Encoding"] = "chunked"
            ex.send_head(resp.status, headers, reason=resp.reason)
            if cut:
                ex.write(b"%x\r\n%s\r\n" % (len(cut), cut))
        else:
            headers["Connection"] = "close"
            ex.send_head(resp.status, headers, reason=resp.reason)
            ex.write(cut)
        ex.drop()


class _Drip(Fault):
    name = "drip"

    def __init__(self, bytes_per_second, chunk):
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be > 0")
        self.bytes_per_second = bytes_per_second
        self.chunk = chunk or max(1, int(bytes_per_second / 20))

    def serve(self, ex):
        resp = ex.forward()
        headers = dict(resp.headers)
        headers["Content-Length"] = str(len(resp.body))
        ex.send_head(resp.status, headers, reason=resp.reason)
        pause = self.chunk / self.bytes_per_second
        for i in range(0, len(resp.body), self.chunk):
            if ex.proxy._stopping.wait(pause):
                ex.drop()
                return
            ex.write(resp.body[i:i + self.chunk])


class _JobFault(Fault):
    job_fault = True
    default_match = "*/async*"
    phase = None

    def job_phase(self, real_phase):
        """The phase shown for a faulted job whose real phase is ``real_phase``."""
        return real_phase if real_phase == "PENDING" else self.phase

    def error_message(self):
        return None


class _JobError(_JobFault):
    name = "job_error"
    phase = "ERROR"

    def __init__(self, message):
        self.message = message

    def error_message(self):
        return self.message


class _JobAborted(_JobFault):
    name = "job_aborted"
    phase = "ABORTED"

    def __init__(self):
        pass


class _JobStuck(_JobFault):
    name = "job_stuck"

    def __init__(self, phase):
        if phase not in ("EXECUTING", "QUEUED"):
            raise ValueError("phase must be EXECUTING or QUEUED")
        self.phase = phase


def http_error(status=503, body=None, *, content_type="text/plain", headers=None, forward=False):
    """Answer ``status`` (default 503) with ``body`` (None: empty body)."""
    return _HttpError(status, body, content_type, headers, forward)


def rate_limit(retry_after=1, body=None):
    """Answer 429 Too Many Requests with ``Retry-After: retry_after``."""
    return _HttpError(429, body, "text/plain", {"Retry-After": str(retry_after)}, False,
                      name="rate_limit")


def votable_error(message="injected query failure", *, status=200):
    """Answer like a TAP service rejecting a query: a VOTable with QUERY_STATUS=ERROR."""
    body = _VOTABLE_ERROR % html.escape(message, quote=True)
    return _HttpError(status, body, "application/x-votable+xml", None, False, name="votable_error")


def reset(*, forward=False):
    """Close the connection with a TCP RST instead of answering."""
    return _Reset(forward)


def hang(seconds=None, *, forward=False):
    """Never answer (until the proxy stops or ``seconds`` pass), then close without answer."""
    return _Hang(seconds, forward)


def truncate(fraction=0.5, *, mode="length"):
    """Send only ``fraction`` of the real body, then close (mode: length, chunked, close)."""
    return _Truncate(fraction, mode)


def drip(bytes_per_second, *, chunk=None):
    """Send the real body at ``bytes_per_second``."""
    return _Drip(bytes_per_second, chunk)


def job_error(message="injected by FaultProxy"):
    """Make one UWS job end in phase ERROR with this errorSummary message."""
    return _JobError(message)


def job_aborted():
    """Make one UWS job end in phase ABORTED."""
    return _JobAborted()


def job_stuck(phase="EXECUTING"):
    """Make one UWS job never finish: its phase stays EXECUTING (or QUEUED)."""
    return _JobStuck(phase)


# --------------------------------------------------------------------------- schedule

def _matcher(match):
    if match is None:
        return lambda method, path: True
    if callable(match):
        return match
    text = match.strip()
    method, _, pattern = text.partition(" ")
    if not _:
        method, pattern = (None, text) if text.startswith(("/", "*")) else (text, "*")
    method = method.upper() if method else None
    pattern = pattern.strip()
    return lambda m, p: (method is None or m == method) and fnmatch.fnmatchcase(p, pattern)


class Injection:
    """A scheduled fault, as returned by `FaultProxy.inject`."""

    def __init__(self, fault, times, match):
        self.fault, self.times, self.match = fault, times, match
        self.fired = 0
        self._test = _matcher(match)

    @property
    def exhausted(self):
        return self.times is not None and self.fired >= self.times

    def __repr__(self):
        return f"<Injection {self.fault!r} match={self.match!r} fired={self.fired}/{self.times}>"


class _UpstreamError(Exception):
    """The upstream server could not be reached or broke off its answer."""


class _Upstream(NamedTuple):
    status: int
    reason: str
    headers: list
    body: bytes


# --------------------------------------------------------------------------- exchange

class _Exchange:
    """One request in flight: forwarding, rewriting and answering."""

    def __init__(self, proxy, handler, entry):
        self.proxy, self.h, self.entry = proxy, handler, entry
        self.method = handler.command
        parts = urlsplit(handler.path)
        self.path, self.query = parts.path, parts.query
        self.body = handler._read_body()
        self._upstream = None

    # -- upstream
    def forward(self):
        """Send the request upstream once; returns the (rewritten) answer."""
        if self._upstream is None:
            try:
                self._upstream = self.proxy._forward(self)
            except (OSError, http.client.HTTPException) as exc:
                raise _UpstreamError(f"{type(exc).__name__}: {exc}") from exc
        return self._upstream

    # -- answering
    def send_head(self, status, headers, reason=None):
        h = self.h
        h.send_response_only(status, reason)
        for k, v in headers.items() if isinstance(headers, dict) else headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.flush()
        self.proxy._set_status(self.entry, status)

    def write(self, data):
        if data:
            self.h.wfile.write(data)
            self.h.wfile.flush()

    def send(self, status, headers, body, reason=None):
        headers = [(k, v) for k, v in (headers.items() if isinstance(headers, dict) else headers)
                   if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        if not (self.method == "HEAD" or status in (204, 304) or 100 <= status < 200):
            headers.append(("Content-Length", str(len(body))))
        if self.h.close_connection:
            headers.append(("Connection", "close"))
        self.send_head(status, headers, reason)
        if self.method != "HEAD":
            self.write(body)

    def drop(self):
        """Close the client connection (FIN) without (further) answer."""
        self.h.close_connection = True
        try:
            self.h.wfile.flush()
            self.h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def abort_with_rst(self):
        """Close the client connection with a TCP RST."""
        self.h.close_connection = True
        sock = self.h.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FaultProxy/1.0"
    proxy = None  # set per server subclass

    def setup(self):
        super().setup()
        self.proxy._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        finally:
            self.proxy._track(self.connection, False)

    def handle(self):
        try:
            super().handle()
        except (OSError, ValueError):
            pass   # the client reset or closed its connection (or the proxy is stopping)

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def _dispatch(self):
        try:
            self.proxy._handle(self)
        except (OSError, http.client.HTTPException, ValueError):
            # client or upstream went away (or the proxy is stopping)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not self.proxy._stopping.is_set():
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------- proxy

class FaultProxy:
    """Reverse proxy on 127.0.0.1 (OS-chosen port) that can add latency and faults.

    Parameters
    ----------
    upstream : str
        Base URL of the real server, e.g. ``"http://localhost:8080"`` (a path
        in it, e.g. ``.../tap``, is kept: the proxy maps its ``/`` onto it).
    latency : float
        Seconds added before each request is handled (settable later).
    rewrite_urls : bool
        Rewrite the upstream base URL in Location headers and textual bodies.
    upstream_timeout : float
        Socket timeout for the proxy's own upstream connections.

    Use as a context manager, or call `start` / `stop`.
    """

    def __init__(self, upstream="http://localhost:8080", *, latency=0.0, rewrite_urls=True,
                 upstream_timeout=120.0):
        parts = urlsplit(upstream)
        if parts.scheme != "http":
            raise ValueError("only http:// upstreams are supported")
        self.upstream = upstream.rstrip("/")
        self._up_host, self._up_port = parts.hostname, parts.port or 80
        self._up_prefix = parts.path.rstrip("/")
        self.latency = latency
        self.rewrite_urls = rewrite_urls
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._conns = set()
        self._upconns = set()
        self._entries = []
        self._injections = []
        self._job_faults = {}       # job id -> fault
        self._jobs_created = []
        self._jobs_deleted = []
        self._job_paths = {}        # job id -> path of the job (through the proxy)
        self.url = None

    # -- lifecycle
    def start(self):
        handler = type("Handler", (_Handler,), {"proxy": self})
        server = type("Server", (_Server,), {"proxy": self})
        self._stopping.clear()
        self._server = server(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._rewrite_from = self._url_pattern()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"FaultProxy:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving: wakes hung requests, closes all connections, joins all threads."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            socks = list(self._conns) + list(self._upconns)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass
        self._server.server_close()   # joins the handler threads
        self._thread.join()
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def tap_url(self):
        """``self.url + "/tap"``."""
        return self.url + "/tap"

    # -- faults
    def inject(self, fault, *, times=1, match=None):
        """Schedule ``fault`` for the next ``times`` matching requests (None: all of them).

        Returns an `Injection` whose ``fired`` attribute counts uses.  Faults
        are tried in injection order; the first matching one not used up wins.
        A bare factory (``proxy.inject(reset)``) is called without arguments.
        """
        if not isinstance(fault, Fault):
            fault = fault()
        if match is None:
            match = fault.default_match
        inj = Injection(fault, times, match)
        with self._lock:
            self._injections.append(inj)
        return inj

    def clear_faults(self):
        """Forget pending faults and job faults (records are kept)."""
        with self._lock:
            self._injections.clear()
            self._job_faults.clear()

    def reset(self):
        """Clear the request records, job records, pending faults and job faults."""
        with self._lock:
            self._entries.clear()
            self._injections.clear()
            self._job_faults.clear()
            self._jobs_created.clear()
            self._jobs_deleted.clear()
            self._job_paths.clear()

    # -- bookkeeping
    @property
    def count(self):
        """Number of requests received (every HTTP round trip, faulted or not)."""
        with self._lock:
            return len(self._entries)

    @property
    def requests(self):
        """List of `Request` records, in arrival order."""
        with self._lock:
            return [Request(*e) for e in self._entries]

    def count_of(self, match):
        """Number of requests received that ``match`` (same syntax as `inject`)."""
        test = _matcher(match)
        return sum(1 for r in self.requests if test(r.method, r.path))

    def wait_for(self, count, timeout=10.0):
        """Block until at least ``count`` requests have arrived; returns True if so."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._entries) >= count, timeout)

    @property
    def jobs_created(self):
        """Ids of the UWS jobs created through the proxy."""
        with self._lock:
            return list(self._jobs_created)

    @property
    def jobs_deleted(self):
        """Ids of the jobs deleted through the proxy (DELETE or POST ACTION=DELETE, status < 400)."""
        with self._lock:
            return list(self._jobs_deleted)

    @property
    def leaked_jobs(self):
        """Jobs created through the proxy and never deleted through it."""
        with self._lock:
            return [j for j in self._jobs_created if j not in self._jobs_deleted]

    def cleanup_jobs(self):
        """Delete the leaked jobs on the upstream directly (not through the proxy, not recorded).

        For tests against a shared server, so that demonstrating a leak does not leave
        jobs behind.  Returns the ids it tried to delete.
        """
        done = []
        for job in self.leaked_jobs:
            path = self._job_paths.get(job)
            if path is None:
                continue
            conn = http.client.HTTPConnection(self._up_host, self._up_port, timeout=10)
            try:
                conn.request("DELETE", self._up_prefix + path)
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            done.append(job)
        return done

    @property
    def faulted_jobs(self):
        """Mapping job id -> job fault applied to it."""
        with self._lock:
            return dict(self._job_faults)

    # -- internals
    def _track(self, sock, add, upstream=False):
        with self._lock:
            bag = self._upconns if upstream else self._conns
            (bag.add if add else bag.discard)(sock)

    def _set_status(self, entry, status):
        with self._lock:
            entry[2] = status

    def _url_pattern(self):
        hosts = [self._up_host]
        if self._up_host in ("localhost", "127.0.0.1", "::1"):
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        ports = [f":{self._up_port}"] + ([""] if self._up_port == 80 else [])
        alts = [re.escape(f"http://{h}{p}{self._up_prefix}") for h in hosts for p in ports]
        return re.compile(("(?:%s)(?![0-9])" % "|".join(alts)).encode())

    def _rewrite(self, data):
        return self._rewrite_from.sub(self.url.encode(), data)

    def _handle(self, h):
        parts = urlsplit(h.path)
        entry = [h.command, parts.path, None, parts.query, None]
        with self._lock:
            self._entries.append(entry)
            self._lock.notify_all()
        ex = _Exchange(self, h, entry)
        if self.latency:
            self._stopping.wait(self.latency)
        fault = self._take(ex.method, ex.path, job_faults=False)
        try:
            if fault is not None:
                entry[4] = fault.name
                fault.serve(ex)
                return
            resp = ex.forward()
        except _UpstreamError as exc:
            # like any reverse proxy: 502 (unless an answer is already under way)
            if entry[2] is None and not self._stopping.is_set():
                h.close_connection = True
                ex.send(502, {"Content-Type": "text/plain"},
                        f"FaultProxy: upstream {self.upstream} failed: {exc}".encode())
            else:
                h.close_connection = True
            return
        if h.headers.get("Connection", "").lower() == "close":
            h.close_connection = True
        ex.send(resp.status, resp.headers, resp.body, reason=resp.reason)

    def _take(self, method, path, job_faults):
        with self._lock:
            for inj in self._injections:
                if inj.fault.job_fault == job_faults and not inj.exhausted \
                        and inj._test(method, path):
                    inj.fired += 1
                    return inj.fault
        return None

    def _forward(self, ex):
        h = ex.h
        conn = http.client.HTTPConnection(self._up_host, self._up_port,
                                          timeout=self.upstream_timeout)
        try:
            conn.connect()
            self._track(conn.sock, True, upstream=True)
            headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{self._up_host}:{self._up_port}"
            headers["Accept-Encoding"] = "identity"
            if ex.body or ex.method in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(ex.body))
            target = self._up_prefix + h.path
            conn.request(ex.method, target, body=ex.body or None, headers=headers)
            r = conn.getresponse()
            body = r.read()
            status, reason = r.status, r.reason
            rheaders = [(k, v) for k, v in r.getheaders() if k.lower() not in _HOP_BY_HOP]
        finally:
            if conn.sock is not None:
                self._track(conn.sock, False, upstream=True)
            conn.close()
        if self.rewrite_urls:
            rheaders = [(k, self._rewrite(v.encode("latin-1")).decode("latin-1"))
                        if k.lower() in ("location", "content-location") else (k, v)
                        for k, v in rheaders]
            ctype = dict((k.lower(), v) for k, v in rheaders).get("content-type", "")
            if any(t in ctype.lower() for t in _TEXTUAL):
                body = self._rewrite(body)
        status, reason, rheaders, body = self._jobs(ex, status, reason, rheaders, body)
        return _Upstream(status, reason, rheaders, body)

    # -- UWS job bookkeeping and job faults
    def _jobs(self, ex, status, reason, headers, body):
        m = _JOB_PATH.match(ex.path)
        if not m:
            return status, reason, headers, body
        job, rest = m.group("job"), m.group("rest")
        if job is None and ex.method == "POST":
            loc = dict((k.lower(), v) for k, v in headers).get("location", "")
            lm = _JOB_PATH.match(urlsplit(loc).path)
            if status < 400 and lm and lm.group("job") and not lm.group("rest"):
                job = lm.group("job")
                with self._lock:
                    self._jobs_created.append(job)
                    self._job_paths[job] = urlsplit(loc).path
        elif job is not None and rest is None and status < 400 and (
                ex.method == "DELETE" or (ex.method == "POST" and _is_delete(ex.body))):
            with self._lock:
                if job not in self._jobs_deleted:
                    self._jobs_deleted.append(job)
        if job is not None:
            with self._lock:
                known = job in self._job_faults
            if not known:
                fault = self._take(ex.method, ex.path, job_faults=True)
                if fault is not None:
                    with self._lock:
                        self._job_faults[job] = fault
                    ex.entry[4] = fault.name
        with self._lock:
            faults = dict(self._job_faults)
        fault = faults.get(job)
        if fault is not None:
            ex.entry[4] = ex.entry[4] or fault.name
        if ex.method != "GET":
            return status, reason, headers, body
        if fault is not None and rest == "/error" and fault.error_message():
            return 200, "OK", _set_ctype(headers, "text/plain"), fault.error_message().encode()
        if not faults or status >= 400:
            return status, reason, headers, body
        if m.group("job") is None:            # job list
            return status, reason, headers, _rewrite_job_list(body, faults)
        if fault is None:
            return status, reason, headers, body
        if rest is None:
            return status, reason, headers, _rewrite_job(body, fault)
        if rest == "/phase":
            phase = fault.job_phase(body.decode("ascii", "replace").strip())
            return status, reason, _set_ctype(headers, "text/plain"), phase.encode()
        if rest == "/results":
            return status, reason, headers, _rewrite_results(body)
        if rest.startswith("/results/"):
            return 404, "Not Found", _set_ctype(headers, "text/plain"), b"No such result"
        return status, reason, headers, body


def _is_delete(body):
    try:
        form = parse_qs(body.decode("utf-8", "replace"))
    except ValueError:
        return False
    return any(k.upper() == "ACTION" and v and v[0].upper() == "DELETE" for k, v in form.items())


def _set_ctype(headers, ctype):
    return [(k, v) for k, v in headers if k.lower() != "content-type"] + [("Content-Type", ctype)]


_PHASE = re.compile(rb"(<(?:[\w.-]+:)?phase\b[^>]*>)\s*([A-Za-z]+)\s*(</(?:[\w.-]+:)?phase>)")
_RESULTS = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)results\b[^>]*?(?:/>|>.*?</(?P=p)results>)", re.S)
_ERRSUM = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)errorSummary\b[^>]*?(?:/>|>.*?</(?P=p)errorSummary>)",
                     re.S)
_JOB_END = re.compile(rb"</(?P<p>(?:[\w.-]+:)?)job>")
_JOBREF = re.compile(rb"<(?:[\w.-]+:)?jobref\b[^>]*\bid=\"(?P<id>[^\"]+)\".*?</(?:[\w.-]+:)?jobref>",
                     re.S)


def _rewrite_results(doc):
    return _RESULTS.sub(lambda m: b"<%sresults/>" % m.group("p"), doc)


def _rewrite_job(doc, fault):
    """Rewrite a UWS job document for a faulted job."""
    m = _PHASE.search(doc)
    if not m:
        return doc
    real = m.group(2).decode()
    shown = fault.job_phase(real)
    if shown == real:
        return doc
    doc = doc[:m.start(2)] + shown.encode() + doc[m.end(2):]
    doc = _ERRSUM.sub(b"", doc)
    doc = _rewrite_results(doc)
    message = fault.error_message()
    if message:
        prefix = m.group(1)[1:m.group(1).index(b"phase")]
        summary = (b'<%serrorSummary type="fatal" hasDetail="false"><%smessage>%s</%smessage>'
                   b'</%serrorSummary>' % (prefix, prefix, html.escape(message, quote=False).encode(),
                                           prefix, prefix))
        rm = _RESULTS.search(doc)
        if rm:
            doc = doc[:rm.end()] + summary + doc[rm.end():]
        else:
            em = _JOB_END.search(doc)
            at = em.start() if em else len(doc)
            doc = doc[:at] + summary + doc[at:]
    return doc


def _rewrite_job_list(doc, faults):
    def fix(m):
        fault = faults.get(m.group("id").decode())
        if fault is None:
            return m.group(0)
        ref = m.group(0)
        pm = _PHASE.search(ref)
        if not pm:
            return ref
        shown = fault.job_phase(pm.group(2).decode())
        return ref[:pm.start(2)] + shown.encode() + ref[pm.end(2):]
    return _JOBREF.sub(fix, doc)
