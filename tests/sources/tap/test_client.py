"""PanstarrsTapClass without a network: payloads, configuration, and input refused up front.

Behaviour against a real TAP service is in ``test_core_server.py``.
"""
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap import PanstarrsTap, PanstarrsTapClass, conf
from astroquery_ps1tap.sources.tap.service import TapService

KQ_UMA_ID = 190361393344112894


@pytest.fixture
def offline(monkeypatch):
    """A client whose every attempt to send a query fails the test."""
    def no_network(*args, **kwargs):
        raise AssertionError("a query was sent although the input is invalid or only the ADQL was asked for")
    monkeypatch.setattr(TapService, "run", no_network)
    return PanstarrsTapClass(server="http://127.0.0.1:9/tap")


class TestConfiguration:
    def test_default_server_is_mast(self, monkeypatch):
        monkeypatch.delenv("PS1TAP_SERVER", raising=False)
        assert PanstarrsTapClass().server == "https://mast.stsci.edu/vo-tap/api/v0.1/ps1dr2"

    def test_environment_overrides_conf(self, monkeypatch):
        monkeypatch.setenv("PS1TAP_SERVER", "http://localhost:8080/tap/")
        assert PanstarrsTap.server == "http://localhost:8080/tap"

    def test_explicit_server_wins(self, monkeypatch):
        monkeypatch.setenv("PS1TAP_SERVER", "http://elsewhere/tap")
        assert PanstarrsTapClass(server="http://here/tap").server == "http://here/tap"

    def test_conf_server_is_read_at_query_time(self, monkeypatch):
        monkeypatch.delenv("PS1TAP_SERVER", raising=False)
        assert conf.row_limit == 100000 and conf.timeout > 0
        with conf.set_temp("server", "http://temp/tap"):
            assert PanstarrsTap.server == "http://temp/tap"

    def test_session_has_a_timeout_and_astroquery_user_agent(self):
        client = PanstarrsTapClass(server="http://x/tap", timeout=7, retries=1)
        service = client.service
        assert service.session.timeout == 7 and service.session.retries == 1
        assert "astroquery" in service.session.headers["User-Agent"]


class TestPayloads:
    def test_query_region(self, offline):
        query = offline.query_region(SkyCoord(187.706, 12.391, unit="deg"), 0.2 * u.deg,
                                     get_query_payload=True)
        assert "CIRCLE('ICRS', 187.706, 12.391, 0.2)" in query and "nDetections >= 2" in query

    def test_get_detections_single_and_chunked(self, offline):
        assert "d.objID = 190361393344112894" in offline.get_detections(KQ_UMA_ID, get_query_payload=True)
        queries = offline.get_detections(list(range(1, 12)), chunk_size=5, get_query_payload=True)
        assert len(queries) == 3 and "d.objID IN (11)" not in queries[2] and "d.objID = 11" in queries[2]

    def test_raw_and_metadata_queries(self, offline):
        assert offline.query_tap("SELECT 1", get_query_payload=True) == "SELECT 1"
        assert "TAP_SCHEMA.tables" in offline.list_tables(get_query_payload=True)
        assert "TAP_SCHEMA.columns" in offline.list_columns("mean", get_query_payload=True)

    def test_many_positions_are_matched_with_or_ed_cones(self, offline):
        positions = SkyCoord([10, 20, 30], [1, 2, 3], unit="deg")
        query = offline.match_positions(positions, 2 * u.arcsec, upload=False, get_query_payload=True)
        assert query.count("CONTAINS(") == 3 and " OR " in query

    def test_get_lightcurves_is_one_query(self, offline):
        by_id = offline.get_lightcurves(KQ_UMA_ID, get_query_payload=True)
        by_position = offline.get_lightcurves((139.33446271609, 68.63508880829), get_query_payload=True)
        for query in (by_id, by_position):
            assert "JOIN dbo.Detection AS d ON d.objID = o.objID" in query


class TestRefusedBeforeAnyNetworkCall:
    @pytest.mark.parametrize("call, error, message", [
        (lambda c: c.query_region("nowhere", 1 * u.arcsec), InvalidQueryError, "could not read coordinates"),
        (lambda c: c.query_region((10, 10), 0), InvalidQueryError, "must be positive"),
        (lambda c: c.query_region((10, 10), 3 * u.deg), InvalidQueryError, "larger than"),
        (lambda c: c.query_region((10, 10), 1 * u.arcsec, table="meen"), InvalidQueryError, "did you mean 'mean'"),
        (lambda c: c.query_region((10, 10), 1 * u.arcsec, columns=["raMaen"]), InvalidQueryError,
         "did you mean 'raMean'"),
        (lambda c: c.query_region((10, 10), 1 * u.arcsec, on_truncation="ignore"), ValueError, "on_truncation"),
        (lambda c: c.get_detections([1.5]), ValueError, "not an integer"),
        (lambda c: c.get_detections([-1]), ValueError, "out of range"),
        (lambda c: c.get_detections("1); DELETE"), ValueError, "not a whole"),
        (lambda c: c.get_detections(1, photometry="warp"), InvalidQueryError, "photometry must be"),
        (lambda c: c.get_detections(1, chunk_size=-3), ValueError, "chunk_size"),
        (lambda c: c.query_tap(""), InvalidQueryError, "non-empty ADQL"),
        (lambda c: c.query_tap("SELECT 1", maxrec=0), ValueError, "maxrec must be a positive integer"),
        (lambda c: c.get_detections(1, on_error="ignore"), ValueError, "on_error"),
        (lambda c: c.match_positions((1, 2)), InvalidQueryError, "SkyCoord array"),
        (lambda c: c.query_object(""), InvalidQueryError, "non-empty string"),
        (lambda c: c.list_columns("nosuch"), InvalidQueryError, "unknown table"),
    ])
    def test_refused(self, offline, call, error, message):
        with pytest.raises(error, match=message):
            call(offline)


def test_unknown_name_is_a_clear_error(offline, monkeypatch):
    from astropy.coordinates import SkyCoord
    from astropy.coordinates.name_resolve import NameResolveError

    def unknown(name, *args, **kwargs):
        raise NameResolveError(f"Unable to find coordinates for name '{name}'")
    monkeypatch.setattr(SkyCoord, "from_name", unknown)
    with pytest.raises(InvalidQueryError, match="could not resolve the name 'Not A Star'"):
        offline.query_object("Not A Star")
