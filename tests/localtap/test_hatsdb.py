"""The local HATS copy of the sample database (``localtap/hatsdb.py``): layout, types, reuse.

Builds the copy if it is not built (hats-import; no server or root needed), then checks it is laid
out like STScI's catalogs and typed like the TAP server's tables.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from localtap import sample

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "localtap" / "hatsdb.py"


@pytest.fixture(scope="module")
def build():
    done = subprocess.run([sys.executable, str(SCRIPT), "build"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def test_a_second_build_reuses_the_first(build):
    stamp = (build / "stamp.json").read_text()
    again = subprocess.run([sys.executable, str(SCRIPT), "build"], capture_output=True, text=True)
    assert again.returncode == 0
    assert again.stdout.strip().splitlines()[-1] == str(build)        # the path, last on stdout
    assert "up to date" in again.stderr
    assert (build / "stamp.json").read_text() == stamp               # nothing rebuilt
    where = subprocess.run([sys.executable, str(SCRIPT), "path"], capture_output=True, text=True)
    assert where.returncode == 0 and where.stdout.strip() == str(build)


def test_collections_with_10_arcsec_margins_like_stscis(build):
    for name in ("otmo", "detection", "forced_mean_object"):
        properties = (build / name / "collection.properties").read_text()
        assert f"hats_primary_table_url={name}" in properties
        assert f"default_margin={name}_10arcs" in properties
        assert (build / name / f"{name}_10arcs").is_dir()
    rows = json.loads((build / "stamp.json").read_text())["rows"]
    assert rows == {"otmo": 24800, "detection": 1443720, "forced_mean_object": 24800}


def test_columns_are_typed_from_the_schema_and_identifiers_stay_int64(build):
    import pyarrow.parquet as pq

    detection = pq.read_schema(build / "detection" / "detection" / "dataset" / "_common_metadata")
    assert str(detection.field("objID").type) == "int64"
    assert str(detection.field("detectID").type) == "int64"
    assert str(detection.field("psfFlux").type) == "float"            # REAL, as in the database
    assert str(detection.field("obsTime").type) == "double"
    otmo = pq.read_schema(build / "otmo" / "otmo" / "dataset" / "_common_metadata")
    assert len([n for n in otmo.names if not n.startswith("_")]) == 124   # dbo.MeanObjectView
    assert str(otmo.field("objName").type) == "string"
    kq = pq.read_table(build / "detection" / "detection" / "dataset",
                       filters=[("objID", "==", sample.KQ_UMA.objid)], columns=["detectID"])
    assert sample.KQ_UMA_BAD_Z_DETECTID in kq["detectID"].to_pylist()   # > 2**53, exact
