"""The PS1 schema catalogue: canonical spellings, types and units, found in any letter case."""
import pytest
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap import schema


def test_every_table_of_the_legacy_service_is_known():
    assert len(schema.tables("dbo")) == 64
    assert {"dbo.MeanObjectView", "dbo.Detection", "dbo.ForcedWarpMeasurement"} <= set(schema.tables("dbo"))


def test_the_newer_services_tables_under_their_snake_case_names():
    assert schema.tables("ps1_dr2") == [
        "ps1_dr2.detection", "ps1_dr2.forced_mean_object", "ps1_dr2.forced_warp_measurement",
        "ps1_dr2.mean_object", "ps1_dr2.object_filter_flags", "ps1_dr2.object_info_flags",
        "ps1_dr2.stack_model_fit_de_v", "ps1_dr2.stack_model_fit_ser", "ps1_dr2.stack_object"]
    assert not any("filter" == t.split(".")[1] for t in schema.tables("ps1_dr2"))  # no Filter table there
    assert schema.ps1_dr2_table_seen("ps1_dr2.mean_object")
    assert not schema.ps1_dr2_table_seen("ps1_dr2.forced_warp_measurement")  # a name inferred, not seen


@pytest.mark.parametrize("name, dbo, ps1_dr2", [
    ("mean", "dbo.MeanObjectView", "ps1_dr2.mean_object"),
    ("stack", "dbo.StackObjectView", "ps1_dr2.stack_object"),
    ("forced_mean", "dbo.ForcedMeanObjectView", "ps1_dr2.forced_mean_object"),
    ("detection", "dbo.Detection", "ps1_dr2.detection"),
    ("forced", "dbo.ForcedWarpMeasurement", "ps1_dr2.forced_warp_measurement"),
    ("dbo.ObjectInfoFlags", "dbo.ObjectInfoFlags", "ps1_dr2.object_info_flags"),
    ("MEAN_OBJECT", "dbo.MeanObjectView", "ps1_dr2.mean_object"),
    ("ps1_dr2.stack_model_fit_de_v", "dbo.StackModelFitDeV", "ps1_dr2.stack_model_fit_de_v"),
])
def test_each_table_in_either_schema_through_one_function(name, dbo, ps1_dr2):
    assert schema.resolve_table(name, "dbo") == dbo
    assert schema.resolve_table(name, "ps1_dr2") == ps1_dr2


def test_a_table_only_dbo_has_is_refused_in_ps1_dr2():
    assert schema.resolve_table("Filter") == "dbo.Filter"
    with pytest.raises(InvalidQueryError, match="dbo.Filter has no equivalent in schema 'ps1_dr2'"):
        schema.resolve_table("Filter", "ps1_dr2")
    with pytest.raises(InvalidQueryError, match="schema must be one of 'dbo', 'ps1_dr2'"):
        schema.resolve_table("mean", "public")


def test_the_newer_tables_have_their_twins_columns_and_what_mast_added():
    twin = {c.name for c in schema.columns("dbo.MeanObjectView")}
    new = {c.name for c in schema.columns("ps1_dr2.mean_object")}
    assert new - twin == {"pmra", "pmdec", "pmraErr", "pmdecErr"} and twin <= new
    assert schema.find_column("ps1_dr2.mean_object", "pmra").unit == "mas / yr"
    forced = {c.name for c in schema.columns("ps1_dr2.forced_mean_object")}
    assert forced - {c.name for c in schema.columns("dbo.ForcedMeanObject")} == {"raMean", "decMean"}
    assert schema.columns("ps1_dr2.detection") == schema.columns("dbo.Detection")


@pytest.mark.parametrize("name, table", [
    ("mean", "dbo.MeanObjectView"), ("stack", "dbo.StackObjectView"), ("forced", "dbo.ForcedWarpMeasurement"),
    ("dbo.detection", "dbo.Detection"), ("MEANOBJECTVIEW", "dbo.MeanObjectView"),
])
def test_tables_by_alias_or_any_case(name, table):
    assert schema.resolve_table(name) == table


def test_units_come_from_the_schema():
    units = {c.name: c.unit for c in schema.columns("detection")}
    assert units["psfFlux"] == "Jy" and units["obsTime"] == "d" and units["psfMajorFWHM"] == "arcsec"
    assert units["ra"] == "deg" and units["psfQfPerfect"] == ""
    assert schema.find_column("mean", "gmeanpsfmag").unit == "mag"


def test_identifiers_are_64_bit():
    assert schema.find_column("detection", "objID").dbtype == "BIGINT"
    assert schema.find_column("detection", "detectID").dbtype == "BIGINT"


def test_unknown_names_get_suggestions():
    with pytest.raises(InvalidQueryError, match="did you mean 'nDetections'"):
        schema.resolve_column("mean", "nDetection")
    with pytest.raises(InvalidQueryError, match="unknown table 'Detections'; did you mean 'Detection'"):
        schema.resolve_table("Detections")


def test_flag_bits():
    assert schema.INFO_FLAGS["FAIL"] == 0x8 and schema.INFO_FLAGS["EXTENDED_STATS"] == 0x1000000
    assert schema.FILTER_IDS == {1: "g", 2: "r", 3: "i", 4: "z", 5: "y"}
