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
