"""The query path's own pieces: the on-disk cache and the retrying session, without a TAP server.

The whole path (sync, async, retries, deadlines, truncation) is exercised against the local DaCHS
server, directly and through a fault-injecting proxy, in ``test_service_server.py``.
"""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from astroquery import cache_conf
from astroquery.exceptions import RemoteServiceError

from astroquery_ps1tap.sources.tap.service import ResultCache, RetryingSession


class TestResultCache:
    def test_key_depends_on_server_query_and_limit(self):
        key = ResultCache.key("http://a/tap", "SELECT 1", 10)
        assert key == ResultCache.key("http://a/tap/", "SELECT 1\n", 10)  # the same query
        assert key != ResultCache.key("http://b/tap", "SELECT 1", 10)
        assert key != ResultCache.key("http://a/tap", "SELECT 2", 10)
        assert key != ResultCache.key("http://a/tap", "SELECT 1", 11)

    def test_whitespace_inside_the_query_is_meaning(self):
        # inside a string literal, two spaces are not one: these are different queries
        like = "SELECT COUNT(*) FROM TAP_SCHEMA.tables AS t WHERE t.description LIKE '%{}%'"
        assert ResultCache.key("http://a/tap", like.format("  "), 10) != \
            ResultCache.key("http://a/tap", like.format(" "), 10)
        assert ResultCache.key("http://a/tap", "SELECT 'a\tb'", 10) != \
            ResultCache.key("http://a/tap", "SELECT 'a b'", 10)

    def test_round_trip_atomic_and_clear(self, tmp_path):
        cache = ResultCache(tmp_path)
        cache.put("k", b"<VOTABLE/>")
        assert cache.get("k") == b"<VOTABLE/>"
        assert not list(tmp_path.glob("*.tmp"))  # written to a temporary file, then renamed
        cache.clear()
        assert cache.get("k") is None

    @pytest.mark.parametrize("damage", [
        lambda data: data[:-3],                                   # cut short
        lambda data: data.replace(b"VOTABLE", b"VOTABLX"),        # altered
        lambda data: data.split(b"\n", 1)[1],                     # no header: not ours
        lambda data: b"",
    ], ids=["cut", "altered", "foreign", "empty"])
    def test_a_damaged_entry_is_discarded(self, tmp_path, damage):
        cache = ResultCache(tmp_path)
        cache.put("k", b"<VOTABLE>answer</VOTABLE>")
        path = cache.path("k")
        path.write_bytes(damage(path.read_bytes()))
        assert cache.get("k") is None
        assert not path.exists()

    def test_expired_entries_are_absent(self, tmp_path):
        cache = ResultCache(tmp_path)
        cache.put("k", b"data")
        with cache_conf.set_temp("cache_timeout", 0):
            time.sleep(0.01)
            assert cache.get("k") is None
        assert cache.get("k") == b"data"


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 (with Retry-After) the first ``failures`` times, then 200."""

    failures = 2
    seen = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append(time.monotonic())
        if len(type(self).seen) <= type(self).failures:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"fine"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    _Flaky.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class TestRetryingSession:
    def test_get_is_retried_through_503s(self, flaky_server):
        session = RetryingSession(timeout=5, retries=3, backoff=0.01)
        assert session.get(flaky_server + "/x").text == "fine"
        assert len(_Flaky.seen) == 3

    def test_gives_up_after_its_retries(self, flaky_server):
        _Flaky.failures = 10
        try:
            response = RetryingSession(timeout=5, retries=1, backoff=0.01).get(flaky_server + "/x")
        finally:
            _Flaky.failures = 2
        assert response.status_code == 503 and len(_Flaky.seen) == 2

    def test_job_creation_post_is_retried_only_when_the_service_did_no_work(self, flaky_server):
        # 503 means "not processed", so even a non-idempotent POST may be sent again
        session = RetryingSession(timeout=5, retries=3, backoff=0.01)
        assert session.post(flaky_server + "/tap/async", data={}).text == "fine"

    def test_refused_connection_is_a_remote_service_error(self):
        session = RetryingSession(timeout=1, retries=1, backoff=0.01)
        with pytest.raises(RemoteServiceError, match="failed after 2 tries"):
            session.get("http://127.0.0.1:9/tap/sync")

    def test_timeout_is_always_set(self, flaky_server, monkeypatch):
        seen = {}
        original = RetryingSession.send

        def spy(self, request, **kwargs):
            seen["timeout"] = kwargs.get("timeout")
            return original(self, request, **kwargs)
        monkeypatch.setattr(RetryingSession, "send", spy)
        _Flaky.failures = 0
        try:
            RetryingSession(timeout=4.5).get(flaky_server + "/x")
        finally:
            _Flaky.failures = 2
        assert seen["timeout"] == 4.5
