"""Answers a TAP service should not send, from a scripted HTTP server on loopback.

Each ends in a correct result or one astroquery exception that says what the service did, with
the service's own words (never raw XML, never an ``AttributeError``, ``ValueError`` or a
``requests`` exception from inside), and nothing is sent again without a back-off.  The cache is
exercised here too: whatever goes wrong with it, answers are still returned.
"""
import email.utils
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from astroquery.exceptions import InvalidQueryError, RemoteServiceError

from astroquery_ps1tap import PanstarrsTapClass
from astroquery_ps1tap.sources.tap.service import CacheWarning, ResultCache

QUERY = "SELECT f.filterID FROM dbo.Filter AS f"


def votable(rows=(1, 2, 3), status='<INFO name="QUERY_STATUS" value="OK"/>', trailer=""):
    data = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return (f'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
            f'<RESOURCE type="results">{status}<TABLE><FIELD name="filterID" datatype="int"/>'
            f'<DATA><TABLEDATA>{data}</TABLEDATA></DATA></TABLE>{trailer}</RESOURCE></VOTABLE>').encode()


OK = (200, {"Content-Type": "application/x-votable+xml"}, votable())


class Scripted:
    """HTTP on 127.0.0.1 answering ``"METHOD /path"`` from ``routes``: a list of answers
    ``(status, headers, body)`` used in turn (the last one repeats).  ``seen`` records
    ``(monotonic time, method, path)`` of every request."""

    def __init__(self, routes):
        self.routes = {key: list(value) for key, value in routes.items()}
        self.seen = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.split("?")[0]
                scripted.seen.append((time.monotonic(), self.command, path))
                answers = scripted.routes.get(f"{self.command} {path}") or [(404, {}, b"no such thing")]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                if callable(body):
                    body = body(scripted)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value.replace("{base}", scripted.url))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, method, path):
        return sum(1 for _, m, p in self.seen if (m, p) == (method, path))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    servers = []

    def serve(routes):
        servers.append(Scripted(routes))
        return servers[-1]
    yield serve
    for server in servers:
        server.close()


def client(server, tmp_path, **kwargs):
    ps1 = PanstarrsTapClass(server=server.url + "/tap", timeout=5, retries=2, deadline=20, **kwargs)
    ps1.cache_location = tmp_path / "cache"
    ps1.service.session.backoff = 0.2
    ps1.service.poll = 0.05
    return ps1


# ---- what the body says ----------------------------------------------------------------------
class TestOddVOTables:
    def test_an_answer_without_query_status_is_a_result(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [(200, {}, votable(status=""))]})
        assert client(server, tmp_path).query_tap(QUERY, cache=False)["filterID"].tolist() == [1, 2, 3]

    def test_a_status_that_is_not_a_tap_status_is_named(self, serve, tmp_path):
        maybe = votable(status='<INFO name="QUERY_STATUS" value="MAYBE"/>')
        server = serve({"POST /tap/sync": [(200, {}, maybe)]})
        with pytest.raises(RemoteServiceError, match="QUERY_STATUS 'MAYBE', which is not a TAP status"):
            client(server, tmp_path).query_tap(QUERY, cache=False)

    def test_an_error_after_the_rows_is_the_service_failing_not_the_query(self, serve, tmp_path):
        trailer = '<INFO name="QUERY_STATUS" value="ERROR">Query timed out after 1800 s</INFO>'
        server = serve({"POST /tap/sync": [(200, {}, votable(trailer=trailer))]})
        with pytest.raises(RemoteServiceError,
                           match="failed while sending the result: Query timed out") as error:
            client(server, tmp_path).query_tap(QUERY, cache=False)
        assert not isinstance(error.value, InvalidQueryError)

    def test_a_web_page_is_reported_by_its_words_and_asked_again_with_back_off(self, serve, tmp_path):
        page = (b"<html><head><style>p {}</style></head>"
                b"<body><p>Down for maintenance until 14:00</p></body></html>")
        server = serve({"POST /tap/sync": [(200, {"Content-Type": "text/html"}, page)]})
        with pytest.raises(RemoteServiceError,
                           match="sent a web page, not a VOTable: Down for maintenance until 14:00$"):
            client(server, tmp_path).query_tap(QUERY, cache=False)
        times = [t for t, _, _ in server.seen]
        assert len(times) == 3  # the first try and 2 retries
        assert min(b - a for a, b in zip(times, times[1:])) >= 0.1  # back-off (0.2 s, jitter >= half)


# ---- what the headers say --------------------------------------------------------------------
class TestRetryAfter:
    @pytest.mark.parametrize("value", ["soon", "-5", "1.5", "", "Tue, 99 Foo 2026 00:00:00 GMT",
                                       email.utils.formatdate(time.time() - 3600, usegmt=True)],
                             ids=["garbage", "negative", "not-whole", "empty", "bad-date", "past-date"])
    def test_an_unusable_value_means_our_own_back_off(self, serve, tmp_path, value):
        server = serve({"POST /tap/sync": [(503, {"Retry-After": value}, b""), OK]})
        assert len(client(server, tmp_path).query_tap(QUERY, cache=False)) == 3
        (first, _, _), (second, _, _) = server.seen
        assert second - first >= 0.1  # never sent again at once

    def test_a_date_is_waited_for(self, serve, tmp_path):
        when = email.utils.formatdate(time.time() + 2, usegmt=True)
        server = serve({"POST /tap/sync": [(429, {"Retry-After": when}, b""), OK]})
        assert len(client(server, tmp_path).query_tap(QUERY, cache=False)) == 3
        (first, _, _), (second, _, _) = server.seen
        assert second - first >= 0.9  # whole seconds of an HTTP date: at least one of the two

    def test_a_wait_longer_than_allowed_is_one_clear_error(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [(503, {"Retry-After": "86400"}, b"come back tomorrow")]})
        with pytest.raises(RemoteServiceError, match=r"HTTP 503.*come back tomorrow.*retry after '86400'"):
            client(server, tmp_path).query_tap(QUERY, cache=False)
        assert len(server.seen) == 1


class TestRedirects:
    def test_a_redirect_loop_is_one_clear_error(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [(307, {"Location": "{base}/tap/sync"}, b"")]})
        with pytest.raises(RemoteServiceError, match="redirects in a loop"):
            client(server, tmp_path).query_tap(QUERY, cache=False)

    def test_a_redirect_to_something_that_is_not_a_url(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [(307, {"Location": "http://[::1"}, b"")]})
        with pytest.raises(RemoteServiceError, match="could not be followed"):
            client(server, tmp_path).query_tap(QUERY, cache=False)


# ---- async jobs ------------------------------------------------------------------------------
JOB = """<?xml version="1.0" encoding="UTF-8"?>
<uws:job xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" \
xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1">
<uws:jobId>j1</uws:jobId><uws:phase>{phase}</uws:phase><uws:results/></uws:job>"""
LONG_REASON = ("Query Error: column 'gmeanpsfmg' could not be located in table metadata; "
               + "the rest of this message is long and must arrive whole " * 12 + "THE END")


def job_routes(phase, error_document, error_type="application/x-votable+xml"):
    return {
        "POST /tap/async": [(303, {"Location": "{base}/tap/async/j1"}, b"")],
        "GET /tap/async/j1/phase": [(200, {"Content-Type": "text/plain"}, phase.encode())],
        "POST /tap/async/j1/phase": [(303, {"Location": "{base}/tap/async/j1"}, b"")],
        "GET /tap/async/j1": [(200, {"Content-Type": "text/xml"}, JOB.format(phase="PENDING").encode()),
                              (200, {"Content-Type": "text/xml"}, JOB.format(phase=phase).encode())],
        "GET /tap/async/j1/error": [(200, {"Content-Type": error_type}, error_document)],
        "DELETE /tap/async/j1": [(303, {"Location": "{base}/tap/async"}, b"")],
    }


class TestAsyncAnswers:
    def test_an_error_document_gives_the_reason_whole_not_xml(self, serve, tmp_path):
        document = ('<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE type="results">'
                    f'<INFO name="QUERY_STATUS" value="ERROR">{LONG_REASON}</INFO></RESOURCE></VOTABLE>')
        server = serve(job_routes("ERROR", document.encode()))
        with pytest.raises(InvalidQueryError) as error:
            client(server, tmp_path).query_tap(QUERY, async_job=True, cache=False)
        message = str(error.value)
        assert "<" not in message and "QUERY_STATUS" not in message
        assert message.endswith("THE END") and "gmeanpsfmg" in message
        assert server.count("DELETE", "/tap/async/j1") == 1

    def test_an_html_error_page_gives_its_text(self, serve, tmp_path):
        server = serve(job_routes("ERROR", b"<html><body><h1>Error</h1><p>disk full</p></body></html>",
                                  "text/html"))
        with pytest.raises(InvalidQueryError, match="rejected the query: Error disk full$"):
            client(server, tmp_path).query_tap(QUERY, async_job=True, cache=False)

    def test_a_phase_that_is_not_a_uws_phase(self, serve, tmp_path):
        server = serve(job_routes("<html>Service Unavailable</html>", b""))
        with pytest.raises(RemoteServiceError, match="'Service Unavailable', which is not a UWS phase"):
            client(server, tmp_path).query_tap(QUERY, async_job=True, cache=False)
        assert server.count("DELETE", "/tap/async/j1") == 1


# ---- settings --------------------------------------------------------------------------------
class TestSettings:
    @pytest.mark.parametrize("option, value", [("timeout", -1), ("timeout", float("nan")),
                                               ("timeout", 0), ("deadline", float("inf")),
                                               ("deadline", -5), ("retries", -1), ("retries", 2.5),
                                               ("retries", True)])
    def test_constructor_values_that_cannot_work(self, option, value):
        with pytest.raises(ValueError, match=f"{option} must be .*got {value!r}"):
            PanstarrsTapClass(server="http://127.0.0.1:9/tap", **{option: value})

    @pytest.mark.parametrize("setting, value, call", [
        ("timeout", -1, "query_tap"), ("retries", -2, "query_tap"), ("deadline", float("nan"), "query_tap"),
        ("row_limit", 0, "query_tap"), ("sync_max_rows", -1, "query_tap"),
        ("objid_chunk_size", 0, "get_detections"), ("upload_chunk_size", 0, "get_detections"),
        ("max_workers", 0, "get_detections"),
    ])
    def test_conf_values_that_cannot_work_are_named_before_any_request(self, serve, tmp_path, setting,
                                                                       value, call):
        from astroquery_ps1tap import conf

        server = serve({})
        ps1 = PanstarrsTapClass(server=server.url + "/tap")
        with conf.set_temp(setting, value), pytest.raises(ValueError, match=f"conf.{setting} must be"):
            if call == "query_tap":
                ps1.query_tap(QUERY, cache=False)
            else:
                ps1.get_detections([1, 2, 3], cache=False)
        assert server.seen == []

    @pytest.mark.parametrize("option", ["chunk_size", "max_workers"])
    def test_zero_is_refused_not_taken_for_the_default(self, serve, option):
        server = serve({})
        with pytest.raises(ValueError, match=f"{option} must be a positive integer, got 0"):
            PanstarrsTapClass(server=server.url + "/tap").get_detections([1, 2], **{option: 0})
        assert server.seen == []

    @pytest.mark.parametrize("url", ["localhost:8080/tap", "ftp://example.org/tap", "http://"])
    def test_a_server_that_is_not_an_http_url(self, url):
        with pytest.raises(ValueError, match="server must be an http"):
            PanstarrsTapClass(server=url).query_tap(QUERY)


# ---- the cache never makes things worse ------------------------------------------------------
class TestCacheProblems:
    def run_twice(self, ps1, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = ps1.query_tap(QUERY, **kwargs)
            second = ps1.query_tap(QUERY + " WHERE f.filterID > 0", **kwargs)
        assert first["filterID"].tolist() == second["filterID"].tolist() == [1, 2, 3]
        return [w for w in caught if issubclass(w.category, CacheWarning)]

    @pytest.mark.parametrize("where", ["read-only", "not-a-directory", "under-a-file"])
    def test_an_unusable_location_means_not_cached_with_one_warning(self, serve, tmp_path, where):
        server = serve({"POST /tap/sync": [OK]})
        ps1 = client(server, tmp_path)
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        ps1.cache_location = {"read-only": "/sys/astroquery_ps1tap-cache", "not-a-directory": blocker,
                              "under-a-file": blocker / "cache"}[where]
        caught = self.run_twice(ps1)
        assert len(caught) == 1 and "answers are not cached" in str(caught[0].message)
        assert len(server.seen) == 2

    def test_cache_false_never_touches_the_cache(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [OK]})
        ps1 = client(server, tmp_path)
        ps1.cache_location = "/sys/astroquery_ps1tap-cache"
        assert self.run_twice(ps1, cache=False) == []

    def test_a_location_replaced_after_first_use(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [OK]})
        ps1 = client(server, tmp_path)
        ps1.query_tap(QUERY)
        for entry in ps1.cache_location.iterdir():
            entry.unlink()
        ps1.cache_location.rmdir()
        ps1.cache_location.write_text("now a file")
        assert len(self.run_twice(ps1)) == 1
        assert len(server.seen) == 3

    def test_a_full_disk(self, serve, tmp_path):
        """Writing fails part-way (here: a file size limit, as a full disk does): no cache, the
        answer all the same, one warning, no half-written entry left."""
        server = serve({"POST /tap/sync": [OK]})
        script = textwrap.dedent(f"""
            import resource, signal, warnings
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            from astroquery_ps1tap import PanstarrsTapClass
            ps1 = PanstarrsTapClass(server="{server.url}/tap", retries=0)
            ps1.cache_location = r"{tmp_path / 'cache'}"
            resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                rows = [len(ps1.query_tap("{QUERY}")), len(ps1.query_tap("{QUERY} WHERE 1=1"))]
            print(rows, sum("answers are not cached" in str(w.message) for w in caught))
        """)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert done.stdout.strip() == "[3, 3] 1", done.stderr
        assert [p.suffix for p in (tmp_path / "cache").iterdir()] == []

    def test_a_changed_location_is_used_and_cleared(self, serve, tmp_path):
        server = serve({"POST /tap/sync": [OK]})
        ps1 = client(server, tmp_path)
        ps1.query_tap(QUERY)
        ps1.cache_location = tmp_path / "elsewhere"
        ps1.query_tap(QUERY)
        assert len(server.seen) == 2  # the new location is the one used ...
        assert len(list((tmp_path / "elsewhere").glob("*.vot"))) == 1
        ps1.clear_cache()                   # ... and the one cleared
        assert list((tmp_path / "elsewhere").glob("*.vot")) == []
        ps1.query_tap(QUERY)
        assert len(server.seen) == 3

    @pytest.mark.parametrize("entry", [
        votable(status='<INFO name="QUERY_STATUS" value="ERROR">it broke</INFO>'),
        votable(status='<INFO name="QUERY_STATUS" value="OVERFLOW"/>'),
        votable(trailer='<INFO name="QUERY_STATUS" value="ERROR">died</INFO>'),
        b"<VOTABLE/>",
    ], ids=["error", "overflow", "error-after-rows", "no-table"])
    def test_an_entry_that_is_not_a_complete_answer_is_fetched_again(self, serve, tmp_path, entry):
        server = serve({"POST /tap/sync": [OK]})
        ps1 = client(server, tmp_path)
        cache = ResultCache(ps1.cache_location)
        key = ResultCache.key(ps1.server, QUERY, 100000)
        cache.put(key, entry)
        assert ps1.query_tap(QUERY, maxrec=100000)["filterID"].tolist() == [1, 2, 3]
        assert len(server.seen) == 1
        ps1.query_tap(QUERY, maxrec=100000)
        assert len(server.seen) == 1  # the good answer replaced it
