"""ADQL is built by pure functions; names are checked against the schema before any request."""
import pytest
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap.sources.tap import adql

KQ_UMA = (139.33446271609, 68.63508880829)


class TestConeQuery:
    def test_tutorial_m87_cone(self):
        query = adql.cone_query(187.706, 12.391, 0.2)
        assert "FROM dbo.MeanObjectView AS o" in query
        assert "CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', 187.706, 12.391, 0.2)) = 1" in query
        assert "o.nDetections >= 2" in query
        assert "o.gMeanPSFMag" in query and "o.yMeanPSFMag" in query

    def test_detection_cut_can_be_turned_off(self):
        assert "nDetections" not in adql.cone_query(1, 2, 0.1, columns=["objID"], min_detections=None)

    def test_columns_in_any_case_come_out_canonical(self):
        query = adql.cone_query(1, 2, 0.1, columns=["OBJID", "gmeanpsfmag"])
        assert query.startswith("SELECT o.objID, o.gMeanPSFMag, o.raMean, o.decMean\n")

    def test_unknown_column_suggests(self):
        with pytest.raises(InvalidQueryError, match="did you mean 'gMeanPSFMag'"):
            adql.cone_query(1, 2, 0.1, columns=["gMeanPSFMagg"])

    def test_unknown_table_suggests(self):
        with pytest.raises(InvalidQueryError, match="did you mean 'MeanObjectView'"):
            adql.cone_query(1, 2, 0.1, table="MeanObjectVeiw")

    def test_column_filters(self):
        query = adql.cone_query(1, 2, 0.1, column_filters={"gMeanPSFMag": (14, 18), "ng": [3, 4],
                                                           "qualityFlag": 16, "objName": "PSO J1'2"})
        assert "o.gMeanPSFMag >= 14.0" in query and "o.gMeanPSFMag <= 18.0" in query
        assert "o.ng IN (3, 4)" in query and "o.qualityFlag = 16" in query
        assert "o.objName = 'PSO J1''2'" in query  # quotes doubled: text stays text

    @pytest.mark.parametrize("filters, message", [
        ({"gMeanPSFMag": "1 OR 1=1"}, "must be a number"), ({"gMeanPSFMag": (None, None)}, "at least one"),
        ({"ng": []}, "empty list"), ({"objName": 5}, "holds text"), ({"gMeanPSFMag; --": 1}, "unknown column"),
    ])
    def test_values_that_would_change_the_query_are_refused(self, filters, message):
        with pytest.raises(InvalidQueryError, match=message):
            adql.cone_query(1, 2, 0.1, column_filters=filters)

    def test_top(self):
        assert adql.cone_query(1, 2, 0.1, top=5).startswith("SELECT TOP 5 ")
        with pytest.raises(InvalidQueryError, match="top must be a positive integer"):
            adql.cone_query(1, 2, 0.1, top="5; DROP")


class TestDetectionsQuery:
    def test_tutorial_query_with_quality_cut(self):
        query = adql.detections_query([153102917444859851], min_qf=0.9)
        assert "FROM dbo.Detection AS d" in query
        assert "WHERE d.objID = 153102917444859851" in query
        assert "d.psfQfPerfect >= 0.9" in query
        assert query.endswith("ORDER BY d.objID, d.filterID, d.obsTime")

    def test_forced_photometry_uses_its_own_columns(self):
        query = adql.detections_query([1, 2], photometry="forced", bands="gz", min_qf=0.5)
        assert "FROM dbo.ForcedWarpMeasurement AS d" in query
        assert "d.FpsfFlux" in query and "d.FpsfQfPerfect >= 0.5" in query
        assert "d.objID IN (1, 2)" in query and "d.filterID IN (1, 4)" in query

    @pytest.mark.parametrize("kwargs, message", [
        ({"photometry": "stack"}, "photometry must be"), ({"bands": "gx"}, "unknown PS1 filter 'x'"),
        ({"min_qf": 2}, "within \\[0, 1\\]"), ({"columns": ["psfFlx"]}, "did you mean 'psfFlux'"),
    ])
    def test_refused(self, kwargs, message):
        with pytest.raises(InvalidQueryError, match=message):
            adql.detections_query([1], **kwargs)


def test_one_query_light_curve_joins_mean_magnitudes():
    query = adql.lightcurve_query(*KQ_UMA, 1 / 3600)
    assert "FROM dbo.MeanObjectView AS o\nJOIN dbo.Detection AS d ON d.objID = o.objID" in query
    assert "o.zMeanPSFMag" in query


class TestNewerService:
    """ADQL for the ps1_dr2 schema: its table names, geometry as seen working there, no Filter."""

    def test_cone(self):
        query = adql.cone_query(187.706, 12.391, 0.2, schema="ps1_dr2")
        assert "FROM ps1_dr2.mean_object AS o" in query
        assert "CONTAINS(POINT(o.raMean, o.decMean), CIRCLE(187.706, 12.391, 0.2)) = 1" in query

    @pytest.mark.parametrize("table, name", [("stack", "ps1_dr2.stack_object"),
                                             ("forced_mean", "ps1_dr2.forced_mean_object"),
                                             ("dbo.StackObjectView", "ps1_dr2.stack_object")])
    def test_other_object_tables(self, table, name):
        query = adql.cone_query(1, 2, 0.1, table=table, columns=["objID"], schema="ps1_dr2")
        assert f"FROM {name} AS o" in query

    def test_columns_only_the_newer_service_has(self):
        query = adql.cone_query(1, 2, 0.1, columns=["objID", "PMRA"], schema="ps1_dr2")
        assert query.startswith("SELECT o.objID, o.pmra, o.raMean")
        with pytest.raises(InvalidQueryError, match="unknown column 'pmra' in dbo.MeanObjectView"):
            adql.cone_query(1, 2, 0.1, columns=["pmra"])

    def test_detections_and_light_curves(self):
        queries = [adql.detections_query([1, 2], bands="gz", min_qf=0.9, schema="ps1_dr2"),
                   adql.detections_query([1], with_means=True, schema="ps1_dr2"),
                   adql.lightcurve_query(*KQ_UMA, 1 / 3600, schema="ps1_dr2"),
                   adql.match_query(([10.0], [1.0]), 0.001, schema="ps1_dr2"),
                   adql.detections_query(None, upload="ids", with_means=True, schema="ps1_dr2")]
        for query in queries:
            assert "dbo." not in query and "ICRS" not in query and "Filter" not in query
            assert "NATURAL" not in query
        assert "FROM ps1_dr2.detection AS d" in queries[0] and "d.filterID IN (1, 4)" in queries[0]
        assert "FROM ps1_dr2.mean_object AS o\nJOIN ps1_dr2.detection AS d ON d.objID = o.objID" in queries[2]

    def test_forced_photometry_keeps_its_column_names(self):
        query = adql.detections_query([1], photometry="forced", min_qf=0.5, schema="ps1_dr2")
        assert "FROM ps1_dr2.forced_warp_measurement AS d" in query and "d.FpsfQfPerfect >= 0.5" in query

    def test_unknown_schema(self):
        with pytest.raises(InvalidQueryError, match="schema must be one of"):
            adql.cone_query(1, 2, 0.1, schema="public")


def test_the_metadata_query_asks_for_both_schemas_at_once():
    query = adql.metadata_query()
    assert "FROM TAP_SCHEMA.tables AS t\nJOIN TAP_SCHEMA.columns AS c" in query
    assert "WHERE t.schema_name IN ('dbo', 'ps1_dr2')" in query
