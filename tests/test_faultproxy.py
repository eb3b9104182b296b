"""FaultProxy: a bad network on loopback, demonstrated fault by fault.

Every test reads as documentation: what the fault looks like to plain
``requests`` and how pyvo 1.9.1 reacts to it *without any client-side
protection*.  Those pyvo reactions are what astroquery_ps1tap has to handle.

The tests named ``test_pyvo_1_9_...`` record pyvo 1.9.1's own gaps (no HTTP
timeout, no overall deadline for async jobs, jobs not deleted after some
failures, transport errors not wrapped): they are why
``astroquery_ps1tap/sources/tap/service.py`` has its own session and job
handling.  If one of them fails after a pyvo upgrade, pyvo has closed that
gap: read its message, and use pyvo's behaviour in service.py instead of ours.

The stand-in upstream (`FakeTap`) is a tiny TAP server in this file: sync
queries answer a fixed VOTable; async is UWS 1.1 with jobs that complete as
soon as they are run.  Like DaCHS, it writes its own base URL
(``http://localhost:<port>``) into Location headers and job documents.

The tests marked ``server`` do the same through the local DaCHS
(``ps1tap_server`` fixture, tests/conftest.py).
"""

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import pyvo
from pyvo.dal import DALFormatError, DALQueryError, DALRateLimitError, DALServiceError

try:
    from faultproxy import (FaultProxy, drip, hang, http_error, job_aborted, job_error,
                            job_stuck, rate_limit, reset, truncate, votable_error)
except ModuleNotFoundError:      # tests/ made a package
    from tests.faultproxy import (FaultProxy, drip, hang, http_error, job_aborted, job_error,
                                  job_stuck, rate_limit, reset, truncate, votable_error)

QUERY = "SELECT TOP 3 objID, raMean FROM dbo.ObjectThin"

VOTABLE = b"""<?xml version="1.0" encoding="utf-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results">
<INFO name="QUERY_STATUS" value="OK"/>
<TABLE>
<FIELD name="objID" datatype="long"/>
<FIELD name="raMean" datatype="double" unit="deg"/>
<DATA><TABLEDATA>
<TR><TD>190361393344112894</TD><TD>139.33446271609</TD></TR>
<TR><TD>153102917444859851</TD><TD>291.744461</TD></TR>
<TR><TD>160802869044447231</TD><TD>286.90445</TD></TR>
</TABLEDATA></DATA>
</TABLE>
</RESOURCE>
</VOTABLE>
"""

JOB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<uws:job xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.1">
<uws:jobId>{id}</uws:jobId>
<uws:runId/>
<uws:ownerId xsi:nil="true"/>
<uws:phase>{phase}</uws:phase>
<uws:quote xsi:nil="true"/>
<uws:creationTime>2026-11-24T06:00:00Z</uws:creationTime>
<uws:startTime xsi:nil="true"/>
<uws:endTime xsi:nil="true"/>
<uws:executionDuration>3600</uws:executionDuration>
<uws:destruction>2026-12-01T06:00:00Z</uws:destruction>
<uws:parameters><uws:parameter id="query">{query}</uws:parameter></uws:parameters>
<uws:results>{results}</uws:results>
</uws:job>
"""

JOB_LIST = """<?xml version="1.0" encoding="UTF-8"?>
<uws:jobs xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink" \
version="1.1">{refs}</uws:jobs>
"""


class FakeTap:
    """Stand-in TAP server: ``<url>/tap/sync``, ``<url>/tap/async`` (UWS), ``<url>/big``."""

    def __init__(self):
        self.jobs = {}
        self.seen = []
        self.big = bytes(range(256)) * 800          # 204,800 bytes

    def __enter__(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", ctype="text/xml", headers=()):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def see_other(self, where):
                self.reply(303, b"", "text/plain", [("Location", fake.base + where)])

            def route(self):
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                form = {k.upper(): v[0] for k, v in
                        parse_qs(self.rfile.read(length).decode()).items()}
                fake.seen.append((self.command, path))
                parts = path.strip("/").split("/")
                if path == "/big":
                    return self.reply(200, fake.big, "application/octet-stream")
                if path == "/tap/sync":
                    return self.reply(200, VOTABLE, "application/x-votable+xml")
                if path == "/tap/async":
                    if self.command == "POST":
                        job = uuid.uuid4().hex[:10]
                        fake.jobs[job] = {"phase": "PENDING", "query": form.get("QUERY", "")}
                        return self.see_other(f"/tap/async/{job}")
                    refs = "".join(
                        f'<uws:jobref id="{j}" xlink:href="{fake.base}/tap/async/{j}">'
                        f'<uws:phase>{d["phase"]}</uws:phase></uws:jobref>'
                        for j, d in fake.jobs.items())
                    return self.reply(200, JOB_LIST.format(refs=refs).encode())
                if len(parts) < 3 or parts[:2] != ["tap", "async"] or parts[2] not in fake.jobs:
                    return self.reply(404, b"not found", "text/plain")
                job, rest, d = parts[2], parts[3:], fake.jobs[parts[2]]
                url = f"{fake.base}/tap/async/{job}"
                if not rest:
                    if self.command == "DELETE" or form.get("ACTION", "").upper() == "DELETE":
                        del fake.jobs[job]
                        return self.see_other("/tap/async")
                    results = (f'<uws:result id="result" xlink:href="{url}/results/result"/>'
                               if d["phase"] == "COMPLETED" else "")
                    doc = JOB_XML.format(id=job, phase=d["phase"], query=d["query"],
                                         results=results)
                    return self.reply(200, doc.encode())
                if rest == ["phase"]:
                    if self.command == "POST":
                        new = form.get("PHASE", "").upper()
                        d["phase"] = {"RUN": "COMPLETED", "ABORT": "ABORTED"}.get(new, d["phase"])
                        return self.see_other(f"/tap/async/{job}")
                    return self.reply(200, d["phase"].encode(), "text/plain")
                if rest == ["results", "result"] and d["phase"] == "COMPLETED":
                    return self.reply(200, VOTABLE, "application/x-votable+xml")
                return self.reply(404, b"not found", "text/plain")

            do_GET = do_POST = do_DELETE = do_HEAD = route

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://localhost:{self.port}"      # its own "serverURL", as DaCHS does
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def fake():
    with FakeTap() as fake:
        yield fake


@pytest.fixture
def proxy(fake):
    # upstream spelled 127.0.0.1 while the server calls itself localhost: both get rewritten
    with FaultProxy(f"http://127.0.0.1:{fake.port}") as proxy:
        yield proxy


@pytest.fixture
def service(proxy):
    return pyvo.dal.TAPService(proxy.url + "/tap")


def run_in_thread(func):
    """Run ``func`` in a daemon thread; returns (thread, box) where box gets 'result'/'error'."""
    box = {}

    def target():
        try:
            box["result"] = func()
        except BaseException as exc:  # noqa: B902 - we want to see everything
            box["error"] = exc
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


# ----------------------------------------------------------------- forwarding, counting, latency

def test_forwards_and_counts_round_trips(fake, proxy, service):
    direct = pyvo.dal.TAPService(fake.base + "/tap").run_sync(QUERY).to_table()
    proxied = service.run_sync(QUERY).to_table()
    assert proxied.colnames == direct.colnames
    assert list(proxied["objID"]) == list(direct["objID"])

    # one sync query = one HTTP round trip
    assert proxy.count == 1
    assert proxy.requests[0][:3] == ("POST", "/tap/sync", 200)

    proxy.reset()
    assert proxy.count == 0 and proxy.requests == []


def test_latency_is_added_to_every_request(proxy):
    proxy.latency = 0.05
    with requests.Session() as s:
        t0 = time.perf_counter()
        for _ in range(4):
            assert s.get(proxy.url + "/big").status_code == 200
        elapsed = time.perf_counter() - t0
    assert elapsed >= 4 * 0.05
    assert proxy.count == 4
    assert proxy.count_of("GET /big") == 4


def test_async_traffic_stays_on_the_proxy(fake, proxy, service):
    # The upstream writes http://localhost:<port>/... into Location and job documents;
    # the proxy rewrites them to its own URL, so every async request comes back through it.
    r = requests.post(proxy.url + "/tap/async", data={"QUERY": QUERY}, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].startswith(proxy.url + "/tap/async/")
    job_doc = requests.get(r.headers["Location"]).text
    assert fake.base not in job_doc
    requests.delete(r.headers["Location"], allow_redirects=False)

    proxy.reset()
    fake.seen.clear()
    result = service.run_async(QUERY).to_table()
    assert len(result) == 3
    methods_paths = [r[:2] for r in proxy.requests]
    job = "/tap/async/" + proxy.jobs_created[0]
    assert methods_paths == [
        ("POST", "/tap/async"), ("GET", job),          # create, follow the 303
        ("GET", job),                                  # AsyncTAPJob() reads the job
        ("POST", job + "/phase"), ("GET", job),        # PHASE=RUN, follow the 303
        ("GET", job),                                  # wait(): GET ?WAIT=-1 until final
        ("GET", job + "/results/result"),              # fetch_result()
        ("DELETE", job),                               # delete
    ]
    assert proxy.count == len(fake.seen) == 8          # nothing bypassed the proxy
    assert proxy.jobs_created == proxy.jobs_deleted and proxy.leaked_jobs == []


def test_match_patterns_and_times(proxy):
    get = lambda path: requests.get(proxy.url + path).status_code  # noqa: E731
    proxy.inject(http_error(500), match="GET /tap/async/*/phase", times=2)
    proxy.inject(http_error(502), match=lambda method, path: path.endswith("/result"))
    bad = proxy.inject(http_error(504), match="DELETE")            # method only
    assert get("/tap/async/x/phase") == 500
    assert get("/tap/async/x/phase") == 500
    assert get("/tap/async/x/phase") == 404                        # used up: forwarded
    assert get("/tap/async/x/results/result") == 502
    assert bad.fired == 0
    always = proxy.inject(http_error(503), times=None)             # every request, forever
    assert [get("/big") for _ in range(3)] == [503, 503, 503]
    assert always.fired == 3
    assert [r.fault for r in proxy.requests] == [
        "http_error", "http_error", None, "http_error", "http_error", "http_error", "http_error"]
    assert proxy.count_of("GET /tap/async/*") == 4


def test_concurrent_clients_are_counted_exactly(fake, proxy):
    from concurrent.futures import ThreadPoolExecutor
    proxy.inject(http_error(503), times=5)
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: requests.get(proxy.url + "/tap/sync").status_code,
                                 range(40)))
    assert statuses.count(503) == 5 and statuses.count(200) == 35
    assert proxy.count == 40 == len(fake.seen) + 5     # faulted requests never reach upstream


def test_upstream_down_gives_502():
    with FaultProxy("http://127.0.0.1:9") as proxy:       # nothing listens on port 9
        r = requests.get(proxy.url + "/tap/availability")
    assert r.status_code == 502 and "upstream" in r.text


# ----------------------------------------------------------------- HTTP-level faults

def test_http_error_without_and_with_body(proxy, service):
    proxy.inject(http_error(503))                       # no body: Content-Length: 0
    r = requests.get(proxy.url + "/big")
    assert r.status_code == 503 and r.content == b""
    assert r.headers["Content-Length"] == "0"

    proxy.inject(http_error(502, "<html>Bad Gateway</html>", content_type="text/html"))
    r = requests.get(proxy.url + "/big")
    assert r.status_code == 502 and b"Bad Gateway" in r.content

    # pyvo: DALServiceError carrying the status code, both without and with a body
    proxy.inject(http_error(503), match="POST /tap/sync")
    with pytest.raises(DALServiceError) as err:
        service.run_sync(QUERY)
    assert err.value.code == 503
    proxy.inject(http_error(500, "database on fire"), match="POST /tap/sync")
    with pytest.raises(DALServiceError) as err:
        service.run_sync(QUERY)
    assert err.value.code == 500 and "database on fire" in str(err.value)   # text/plain body shown

    assert len(service.run_sync(QUERY)) == 3            # faults used up


def test_rate_limit(proxy, service):
    proxy.inject(rate_limit(retry_after=7))
    r = requests.get(proxy.url + "/big")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"

    proxy.inject(rate_limit(retry_after=7), match="POST /tap/sync")
    with pytest.raises(DALRateLimitError) as err:       # a DALServiceError subclass
        service.run_sync(QUERY)
    assert err.value.retry_after_seconds == 7


def test_votable_error(proxy, service):
    # how TAP services reject a query: HTTP 200 + QUERY_STATUS=ERROR
    proxy.inject(votable_error("Query execution timeout"), match="POST /tap/sync")
    r = requests.post(proxy.url + "/tap/sync", data={"QUERY": QUERY})
    assert r.status_code == 200 and 'value="ERROR"' in r.text
    proxy.inject(votable_error("Query execution timeout"), match="POST /tap/sync")
    with pytest.raises(DALQueryError, match="Query execution timeout"):
        service.run_sync(QUERY)


def test_pyvo_1_9_reset_is_a_format_error_and_leaks_the_job(proxy, service):
    """pyvo 1.9 reports a reset sync query as DALFormatError and leaves the async job behind:
    this is why service.py retries resets itself and always deletes its jobs."""
    proxy.inject(reset)
    with pytest.raises(requests.ConnectionError) as err:
        requests.get(proxy.url + "/big")
    assert "reset" in str(err.value).lower()
    assert proxy.requests[-1].status is None and proxy.requests[-1].fault == "reset"

    # pyvo run_sync: the ConnectionError happens inside execute_votable's
    # "except Exception" and comes out as DALFormatError (not DALServiceError)
    proxy.inject(reset(), match="POST /tap/sync")
    with pytest.raises(DALFormatError) as err:
        service.run_sync(QUERY)
    assert isinstance(err.value.cause, requests.ConnectionError)

    # async steps after job creation wrap it as DALServiceError (here: PHASE=RUN)
    proxy.inject(reset(), match="POST /tap/async/*/phase")
    with pytest.raises(DALServiceError):
        service.run_async(QUERY)
    assert len(proxy.leaked_jobs) == 1, (
        "pyvo's run_async now deletes its job after a failure: service.py's own deletion could "
        "rely on pyvo")


def test_pyvo_1_9_job_creation_lets_connection_errors_escape(fake, proxy, service):
    """pyvo 1.9's job creation lets a bare requests.ConnectionError escape, and a naive retry
    of the POST creates a second job: this is why service.py retries a job-creation POST only when
    the service says it did no work (429, 503)."""
    # forward=True: the upstream created the job, the client never heard of it.
    proxy.inject(reset(forward=True), match="POST /tap/async")
    # pyvo 1.9.1: job creation does not wrap connection errors: a bare
    # requests.ConnectionError escapes run_async / submit_job
    with pytest.raises(requests.ConnectionError):  # if pyvo wraps it now, service.py may rely on that
        service.run_async(QUERY)
    assert len(proxy.jobs_created) == 1
    assert proxy.leaked_jobs == proxy.jobs_created      # nobody will ever delete it
    # a naive retry of the POST creates a second job
    service.run_async(QUERY)
    assert len(proxy.jobs_created) == 2 and len(proxy.leaked_jobs) == 1
    # cleanup_jobs() deletes leaked jobs upstream, bypassing the proxy
    assert proxy.cleanup_jobs() == proxy.leaked_jobs and fake.jobs == {}


def test_pyvo_1_9_sends_no_timeout_so_a_hang_blocks_it(fake):
    """pyvo 1.9 sends sync queries without an HTTP timeout: a hung server blocks the caller until
    the connection closes.  This is why service.py's RetryingSession gives every request one."""
    with FaultProxy(f"http://127.0.0.1:{fake.port}") as proxy:
        proxy.inject(hang)
        with pytest.raises(requests.ReadTimeout):       # only a client timeout saves requests
            requests.get(proxy.url + "/big", timeout=0.3)

        proxy.inject(hang(), match="POST /tap/sync")
        service = pyvo.dal.TAPService(proxy.url + "/tap")
        thread, box = run_in_thread(lambda: service.run_sync(QUERY))
        thread.join(1.5)
        assert thread.is_alive(), ("pyvo now gives up on a hung sync query by itself: service.py's "
                                   "default timeout could rely on pyvo's")
        t0 = time.perf_counter()
    # leaving the with block stopped the proxy: it woke the hung request and closed it
    assert time.perf_counter() - t0 < 3
    thread.join(5)
    assert not thread.is_alive()
    # connection closed without an answer: DALFormatError(cause=ConnectionError), as for reset
    assert isinstance(box["error"], DALFormatError)
    assert isinstance(box["error"].cause, requests.ConnectionError)


def test_hang_for_a_while_then_close_without_answer(proxy):
    proxy.inject(hang(0.3))
    t0 = time.perf_counter()
    with pytest.raises(requests.ConnectionError, match="without response"):
        requests.get(proxy.url + "/big")
    assert time.perf_counter() - t0 >= 0.3


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
def test_truncate_with_requests(fake, proxy, mode):
    proxy.inject(truncate(0.5, mode=mode))
    if mode == "close":
        # no Content-Length, no chunking: the body just ends; HTTP cannot tell
        r = requests.get(proxy.url + "/big")
        assert r.status_code == 200 and len(r.content) == len(fake.big) // 2
    else:
        # real Content-Length (or a missing last chunk): the client can tell
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(proxy.url + "/big").content
    assert proxy.requests[-1][:3] == ("GET", "/big", 200)


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
def test_truncate_with_pyvo(proxy, service, mode):
    proxy.inject(truncate(0.5, mode=mode), match="POST /tap/sync")
    # pyvo parses while it reads: every cut VOTable surfaces as DALFormatError
    # (not DALServiceError), whether or not HTTP could tell
    with pytest.raises(DALFormatError):
        service.run_sync(QUERY)


def test_pyvo_1_9_cut_async_result_escapes_unwrapped(proxy, service):
    """pyvo 1.9's fetch_result lets urllib3's error for a cut-off result escape and leaves the
    job: this is why service.py downloads async results itself (whole body, retried)."""
    # fetch_result() parses response.raw outside any try: the urllib3 error escapes as is
    proxy.inject(truncate(0.5), match="GET /tap/async/*/results/result")
    with pytest.raises(Exception) as err:
        service.run_async(QUERY)
    assert not isinstance(err.value, pyvo.dal.DALAccessError), (
        "pyvo now wraps a cut-off async result as its own error: service.py could use fetch_result")
    assert type(err.value).__module__.startswith("urllib3")
    assert len(proxy.leaked_jobs) == 1                  # and the job is not deleted


def test_drip(fake, proxy):
    proxy.inject(drip(400_000))                          # 204,800 bytes at 400 kB/s
    t0 = time.perf_counter()
    r = requests.get(proxy.url + "/big")
    elapsed = time.perf_counter() - t0
    assert r.content == fake.big
    assert 0.45 < elapsed < 3


# ----------------------------------------------------------------- async (UWS) job faults

def test_job_error(proxy, service):
    proxy.inject(job_error("Query Error: injected disk full"))
    job = service.submit_job(QUERY)
    assert job.phase == "PENDING"                       # untouched until it runs
    job.run()
    # job document, /phase and /error all agree
    assert job.phase == "ERROR"
    assert requests.get(job.url + "/phase").text == "ERROR"
    assert requests.get(job.url + "/error").text == "Query Error: injected disk full"
    assert job.result_uri is None
    job.delete()

    # pyvo: run_async raises DALQueryError with the errorSummary message, deletes the job
    proxy.reset()
    proxy.inject(job_error("injected disk full"))
    with pytest.raises(DALQueryError, match="injected disk full"):
        service.run_async(QUERY)
    assert proxy.leaked_jobs == []
    assert all(r.fault == "job_error" for r in proxy.requests if r.path.startswith("/tap/async/"))


def test_pyvo_1_9_aborted_job_is_not_deleted(proxy, service):
    """pyvo 1.9's wait() does not treat ABORTED as final and run_async leaves the job: this is
    why service.py waits on UWS phases itself and deletes every job it created."""
    proxy.inject(job_aborted())
    # pyvo 1.9.1's wait() does not count ABORTED as active: DALServiceError, and
    # run_async never deletes the job
    with pytest.raises(DALServiceError, match="not active"):
        service.run_async(QUERY)
    assert len(proxy.leaked_jobs) == 1, "pyvo now deletes aborted jobs: service.py could rely on it"
    job_url = f"{proxy.url}/tap/async/{proxy.leaked_jobs[0]}"
    assert requests.get(job_url + "/phase").text == "ABORTED"
    assert "<uws:phase>ABORTED</uws:phase>" in requests.get(proxy.url + "/tap/async").text


def test_pyvo_1_9_has_no_overall_deadline(fake):
    """pyvo 1.9 has no overall deadline for an async job: ``timeout`` bounds each poll, not the
    wait, so a job that never finishes is waited for forever.  This is why service.py has its own
    job handling, with one deadline for the whole query (conf.deadline)."""
    with FaultProxy(f"http://127.0.0.1:{fake.port}") as proxy:
        proxy.inject(job_stuck())
        service = pyvo.dal.TAPService(proxy.url + "/tap")
        # run_async(timeout=...) bounds each poll, not the wait: no overall deadline
        thread, box = run_in_thread(lambda: service.run_async(QUERY, timeout=1))
        thread.join(3)
        assert thread.is_alive(), ("pyvo's run_async now ends at its timeout: service.py's own "
                                   "async job handling could use pyvo's")
        job = proxy.jobs_created[0]
        assert fake.jobs[job]["phase"] == "COMPLETED"          # really done upstream...
        assert requests.get(f"{proxy.url}/tap/async/{job}/phase").text == "EXECUTING"  # ...not here
        polls = proxy.count_of(f"GET /tap/async/{job}")
        assert polls >= 2
    thread.join(10)                                  # proxy gone: the next poll fails
    assert isinstance(box["error"], DALServiceError)
    assert proxy.leaked_jobs == [job]


# ----------------------------------------------------------------- shutdown

def test_clean_shutdown_with_open_and_hung_connections(fake):
    before = set(threading.enumerate())
    proxy = FaultProxy(f"http://127.0.0.1:{fake.port}").start()
    session = requests.Session()                      # keeps an idle keep-alive connection open
    assert session.get(proxy.url + "/big").status_code == 200
    proxy.inject(hang)
    thread, box = run_in_thread(lambda: requests.get(proxy.url + "/big"))
    assert proxy.wait_for(2)
    t0 = time.perf_counter()
    proxy.stop()
    assert time.perf_counter() - t0 < 2
    thread.join(5)
    assert isinstance(box["error"], requests.ConnectionError)
    session.close()
    lingering = [t for t in set(threading.enumerate()) - before if t is not thread and t.is_alive()]
    assert lingering == []


# ----------------------------------------------------------------- through the real DaCHS

DACHS_QUERY = "SELECT TOP 5 table_name FROM TAP_SCHEMA.tables ORDER BY table_name"


@pytest.fixture
def dachs(ps1tap_server):
    """The local DaCHS TAP URL (the repository's ``ps1tap_server`` fixture)."""
    return ps1tap_server.rstrip("/")


@pytest.fixture
def dachs_proxy(dachs):
    base = dachs[:-len("/tap")] if dachs.endswith("/tap") else dachs
    with FaultProxy(base) as proxy:
        yield proxy
        proxy.cleanup_jobs()          # leave no job behind on the shared server


@pytest.mark.server
def test_dachs_sync_through_proxy_equals_direct(dachs, dachs_proxy):
    direct = pyvo.dal.TAPService(dachs).run_sync(DACHS_QUERY).to_table()
    proxied = pyvo.dal.TAPService(dachs_proxy.url + "/tap").run_sync(DACHS_QUERY).to_table()
    assert list(proxied["table_name"]) == list(direct["table_name"])
    assert dachs_proxy.count == 1 and dachs_proxy.requests[0][:3] == ("POST", "/tap/sync", 200)


@pytest.mark.server
def test_dachs_async_stays_on_proxy(dachs, dachs_proxy):
    service = pyvo.dal.TAPService(dachs_proxy.url + "/tap")
    table = service.run_async(DACHS_QUERY).to_table()
    assert len(table) == 5
    # all of it went through the proxy: create, run, polls, result, delete.
    # DaCHS's job URLs are <server>/__system__/tap/run/async/<jobid>, hence "*/async/*"
    assert dachs_proxy.count_of("POST /tap/async") == 1
    assert dachs_proxy.count_of("GET */async/*/results/*") == 1
    assert dachs_proxy.count_of("DELETE */async/*") == 1
    assert len(dachs_proxy.jobs_created) == 1 and dachs_proxy.leaked_jobs == []
    r = requests.post(dachs_proxy.url + "/tap/async", data={"QUERY": DACHS_QUERY, "LANG": "ADQL"},
                      allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith(dachs_proxy.url + "/")
    requests.post(r.headers["Location"] + "/phase", data={"PHASE": "RUN"})
    deadline = time.monotonic() + 60
    while True:       # WAIT returns at each phase change (QUEUED, EXECUTING, COMPLETED)
        doc = requests.get(r.headers["Location"], params={"WAIT": "10"}, timeout=30).text
        if "<uws:phase>COMPLETED</uws:phase>" in doc or time.monotonic() > deadline:
            break
    assert "<uws:phase>COMPLETED</uws:phase>" in doc
    assert f'xlink:href="{dachs_proxy.url}/' in doc and dachs.split("/tap")[0] not in doc
    requests.delete(r.headers["Location"], allow_redirects=False)
    assert dachs_proxy.leaked_jobs == []


@pytest.mark.server
def test_dachs_injected_job_error_is_a_pyvo_error(dachs_proxy):
    service = pyvo.dal.TAPService(dachs_proxy.url + "/tap")
    dachs_proxy.inject(job_error("injected: worker died"))
    with pytest.raises(DALQueryError, match="injected: worker died"):
        service.run_async(DACHS_QUERY)
    assert dachs_proxy.leaked_jobs == []


@pytest.mark.server
def test_dachs_sync_faults(dachs_proxy):
    service = pyvo.dal.TAPService(dachs_proxy.url + "/tap")
    dachs_proxy.inject(http_error(503), match="POST /tap/sync")
    with pytest.raises(DALServiceError):
        service.run_sync(DACHS_QUERY)
    dachs_proxy.inject(truncate(0.6), match="POST /tap/sync")
    with pytest.raises(DALFormatError):
        service.run_sync(DACHS_QUERY)
    assert len(service.run_sync(DACHS_QUERY)) == 5
