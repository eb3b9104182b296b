"""PanstarrsTapClass without a network: payloads, configuration, and input refused up front.

Behaviour against a real TAP service is in ``test_core_server.py``.
"""
from pathlib import Path

import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap import PanstarrsTap, PanstarrsTapClass, conf
from astroquery_ps1tap.sources.tap.service import TapService

KQ_UMA_ID = 190361393344112894
DATA = Path(__file__).resolve().parents[3] / "localtap" / "realrows"


@pytest.fixture
def offline(monkeypatch):
    """A client whose every attempt to send a query fails the test."""
    def no_network(*args, **kwargs):
        raise AssertionError("a query was sent although the input is invalid or only the ADQL was asked for")
    monkeypatch.setattr(TapService, "run", no_network)
    return PanstarrsTapClass(server="http://127.0.0.1:9/tap", schema="dbo")


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

    def test_mast_service_names_stand_for_their_urls(self, monkeypatch):
        monkeypatch.delenv("PS1TAP_SERVER", raising=False)
        assert PanstarrsTapClass(server="mast_catalogs").server == \
            "https://mast.stsci.edu/vo-tap/api/v0.1/mast_catalogs"
        with conf.set_temp("server", "ps1dr2"):
            assert PanstarrsTapClass().server == "https://mast.stsci.edu/vo-tap/api/v0.1/ps1dr2"

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
        (lambda c: c.get_detections(1, with_means=True), InvalidQueryError,
         "'with_means' is not an option of get_detections: get_lightcurves fetches"),
        (lambda c: c.get_lightcurves(1, columns=["apFlux"]), InvalidQueryError,
         r"'columns' is not an option of get_lightcurves: .*get_detections\(columns=...\)"),
        (lambda c: c.get_detections(1, colour="g"), InvalidQueryError,
         "'colour' is not an option of the TAP source; its other options here are: chunk_size, "
         "upload, max_workers, async_job, cache, on_truncation, get_query_payload$"),
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


class TestTheServicesSchema:
    """The schema is learnt from what the service publishes; what it lacks is refused before asking."""

    @pytest.fixture
    def serving(self, monkeypatch):
        """A client of a service publishing these tables (each with the columns the PS1 schema
        gives it, minus ``without``), which answers its TAP_SCHEMA query, and every other query
        with ``answer`` if given."""
        from astropy.table import Table

        from astroquery_ps1tap import schema
        from astroquery_ps1tap.sources.tap.service import QueryResult

        def make(*tables, without=(), answer=None, **options):
            rows = [(t.split(".")[0], t, "", c.name.lower(), "double", c.unit, "")
                    for t in tables for c in schema.columns(t) if c.name not in without]
            published = Table(rows=rows or None, names=["schema_name", "table_name", "table_description",
                                                        "column_name", "datatype", "unit", "description"],
                              dtype=[str] * 7)

            def run(self, query, **kwargs):
                if "TAP_SCHEMA" in query:
                    return QueryResult(published, False, kwargs["maxrec"], query)
                if answer is None:
                    raise AssertionError(f"a query was sent that should have been refused: {query}")
                return QueryResult(answer.copy(), False, kwargs["maxrec"], query)
            monkeypatch.setattr(TapService, "run", run)
            return PanstarrsTapClass(server="http://127.0.0.1:9/tap", **options)
        return make

    def test_a_service_with_only_the_newer_schema_is_queried_in_it(self, serving):
        ps1 = serving("ps1_dr2.mean_object", "ps1_dr2.detection")
        assert ps1.schema == "ps1_dr2"
        query = ps1.query_region((10, 10), 1 * u.arcsec, get_query_payload=True)
        assert "FROM ps1_dr2.mean_object AS o" in query
        assert list(ps1.list_tables()["table_name"]) == ["ps1_dr2.detection", "ps1_dr2.mean_object"]

    def test_a_service_with_both_is_queried_in_dbo(self, serving):
        assert serving("dbo.MeanObjectView", "ps1_dr2.mean_object").schema == "dbo"

    def test_asking_for_a_schema_the_service_lacks(self, serving):
        ps1 = serving("dbo.MeanObjectView", "dbo.Detection", schema="ps1_dr2")
        with pytest.raises(InvalidQueryError, match="at http://127.0.0.1:9/tap does not publish schema "
                                                    "'ps1_dr2' \\(it has 'dbo'\\)"):
            ps1.get_detections(KQ_UMA_ID)

    def test_a_service_with_neither(self, serving):
        with pytest.raises(InvalidQueryError, match=r"publishes neither PS1 DR2 schema \(dbo nor ps1_dr2\)"):
            serving().query_region((10, 10), 1 * u.arcsec)

    @pytest.mark.parametrize("call, message", [
        (lambda c: c.query_region((10, 10), 1 * u.arcsec),
         "does not publish column nDetections of table ps1_dr2.mean_object"),
        (lambda c: c.get_detections(KQ_UMA_ID),
         "does not publish column psfQfPerfect of table ps1_dr2.detection"),
        (lambda c: c.get_lightcurves((10, 10)),
         "does not publish column nDetections of table ps1_dr2.mean_object"),
        (lambda c: c.match_positions(SkyCoord([1, 2], [3, 4], unit="deg"), upload=False),
         "does not publish column nDetections"),
        (lambda c: c.query_region((10, 10), 1 * u.arcsec, table="stack"),
         r"does not publish table ps1_dr2.stack_object \(its ps1_dr2 tables: ps1_dr2.detection, "
         r"ps1_dr2.mean_object\)"),
    ])
    def test_a_column_or_table_the_service_lacks_is_named_before_the_query_is_sent(
            self, serving, call, message):
        ps1 = serving("ps1_dr2.mean_object", "ps1_dr2.detection",
                      without=("nDetections", "psfQfPerfect"))
        with pytest.raises(InvalidQueryError, match="the TAP service at http://127.0.0.1:9/tap " + message):
            call(ps1)

    @pytest.mark.parametrize("call, message", [
        (lambda c: c.query_region((10, 10), 1 * u.arcsec, columns=["raMaen"]), "did you mean 'raMean'"),
        (lambda c: c.query_region((10, 10), 1 * u.arcsec, table="meen"), "did you mean 'mean'"),
        (lambda c: c.get_detections(1, bands="gq"), "unknown PS1 filter 'q'"),
        (lambda c: c.list_columns("nosuch"), "unknown table"),
    ])
    def test_bad_input_is_refused_before_even_the_schema_is_asked(self, offline, call, message):
        ps1 = PanstarrsTapClass(server=offline.server)  # schema to be learnt: nothing may be sent
        with pytest.raises(InvalidQueryError, match=message):
            call(ps1)

    def test_lower_case_answers_as_the_newer_service_gives_them(self, serving):
        """MAST's ps1_dr2 service returns every column name in lower case: the client's tables
        are the same as from canonical names (the tutorial's real rows, as that service names them)."""
        from astropy.table import Table, hstack

        from astroquery_ps1tap import tables

        def rows(name):
            return Table.read(DATA / f"nb_votap_2024-02_{name}_shown_rows.csv", format="ascii.csv",
                              comment="#", converters={"objID": [int], "detectID": [int]})

        def lower(table):
            return Table({n.lower(): table[n] for n in table.colnames if n != "filterType"})

        detections, mean = rows("kq_uma_detections"), rows("kq_uma_meanobjectview")
        served = ("ps1_dr2.mean_object", "ps1_dr2.detection")
        det = serving(*served, answer=lower(detections)).get_detections(KQ_UMA_ID)
        canonical = tables.shape_detections(detections)
        assert det.colnames == canonical.colnames and (det["psfFlux"] == canonical["psfFlux"]).all()
        kq = serving(*served, answer=lower(mean)).query_region(
            (139.33446271609, 68.63508880829), 1 * u.arcsec)
        assert kq["objID"].tolist() == [KQ_UMA_ID] and kq["separation"][0] < 0.2  # arcsec
        assert kq.colnames[:4] == ["objID", "raMean", "decMean", "nDetections"]
        match = serving(*served, answer=lower(mean)).match_positions(
            SkyCoord([139.33446271609, 10], [68.63508880829, 10], unit="deg"), upload=False)
        assert match["objID"].mask.tolist() == [False, True] and match["objID"][0] == KQ_UMA_ID
        joined = lower(hstack([detections, mean[["RAMean", "DecMean", "nDetections", "gMeanPSFMag",
                                                 "rMeanPSFMag", "iMeanPSFMag", "zMeanPSFMag",
                                                 "yMeanPSFMag"]][[0] * len(detections)]]))
        for target in (KQ_UMA_ID, (139.33446271609, 68.63508880829)):
            lcs = serving(*served, answer=joined).get_lightcurves(target)
            assert [lc.meta["FILTER"] for lc in lcs] == ["g", "r", "y"]
            assert lcs[0].meta["TARGETID"] == KQ_UMA_ID
