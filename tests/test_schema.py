"""The PS1 schema catalogue: canonical spellings, types and units, found in any letter case."""
import pytest
from astroquery.exceptions import InvalidQueryError

from astroquery_ps1tap import schema


def test_every_table_of_the_service_is_known():
    assert len(schema.tables()) == 64
    assert {"dbo.MeanObjectView", "dbo.Detection", "dbo.ForcedWarpMeasurement"} <= set(schema.tables())


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
