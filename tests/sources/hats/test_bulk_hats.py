"""Per-object summaries from the HATS source (`astroquery_ps1tap.bulk` on `PanstarrsHatsClass`).

The local HATS copy holds the rows the local TAP server serves, so the summaries of both sources
must agree object for object: the same counts and time spans, magnitudes equal to rounding (the
sums run in another order), and the same account of the targets with none.  Fixtures ``hats`` and
``tap``: ``tests/sources/hats/conftest.py``.

Each detection partition is read with pyarrow and summarised where it is read; the summaries
must be those of a plain reading of every partition at once, and those of lsdb's join of the
objects with their detections (margins included), which the bulk path used before.
"""
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from astroquery_ps1tap.bulk import INPUT_COLUMNS, NO_OBJECT, bulk_summaries, summarize
from localtap import sample

KQ, EB1 = sample.KQ_UMA, sample.KIC_2161623

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def targets(tap):
    """About 60 bulk-field objects, two of the tutorial's stars, and an objID with no object."""
    cone = tap.query_region((sample.BULK_RA, sample.BULK_DEC), 0.04, cache=False)
    return np.r_[np.asarray(cone["objID"]), [KQ.objid, EB1.objid, 5]]


@pytest.fixture(scope="module")
def every_object(ps1hats_path):
    """objID, raMean, decMean of every object of the local HATS copy, from its Parquet files."""
    files = sorted((Path(ps1hats_path) / "otmo" / "otmo" / "dataset").rglob("*.parquet"))
    return pq.ParquetDataset(files).read(columns=["objID", "raMean", "decMean"])


def plain_reading(root, ids, objects):
    """Summaries from every detection partition read at once with pyarrow (no margins: each
    detection is in one partition), the oracle the partition-by-partition path must equal."""
    files = sorted((Path(root) / "detection" / "detection" / "dataset").rglob("*.parquet"))
    detections = pq.ParquetDataset(files, filters=[("objID", "in", ids.tolist())]).read(
        columns=list(INPUT_COLUMNS[:-1]))
    return Table(summarize(detections, objects))


def assert_same_summaries(a, b):
    assert a.colnames == b.colnames
    for name in a.colnames:
        if a[name].dtype.kind == "f":
            np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-12, equal_nan=True,
                                       err_msg=name)
        else:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_hats_summaries_equal_the_tap_ones(hats, tap, targets):
    from_hats = bulk_summaries(hats, targets, progress=False)
    from_tap = bulk_summaries(tap, targets, progress=False, cache=False)
    assert from_hats.n_objects == from_tap.n_objects == len(targets) - 1
    assert_same_summaries(from_hats.table, from_tap.table)
    assert from_hats.unmatched["objID"].tolist() == [5]
    assert from_hats.unmatched["reason"].tolist() == [NO_OBJECT]
    kq = from_hats.table[from_hats.table["objID"] == KQ.objid][0]
    assert kq["n_good"] == KQ.n_good


def test_positions_and_a_two_worker_cluster(hats, tap, tmp_path):
    from dask.distributed import Client, LocalCluster

    stars = SkyCoord([KQ.cone_ra, EB1.ra, 10.0], [KQ.cone_dec, EB1.dec, -20.0], unit="deg")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        streamed = bulk_summaries(hats, stars, output=tmp_path / "s.parquet", progress=False,
                                  dask_client=client)
    assert streamed.read()["objID"].tolist() == sorted([KQ.objid, EB1.objid])
    assert streamed.unmatched["target"].tolist() == [2]
    assert_same_summaries(streamed.read(), bulk_summaries(tap, stars, progress=False,
                                                          cache=False).table)


def test_every_object_equals_a_plain_reading_of_every_partition(hats, ps1hats_path, every_object):
    ids = every_object["objID"].to_numpy()
    files = sorted((Path(ps1hats_path) / "detection" / "detection" / "dataset").rglob("*.parquet"))
    partitions_of = {}          # the objects whose detections lie in more than one partition
    for k, path in enumerate(files):
        for objid in np.unique(pq.read_table(path, columns=["objID"])["objID"].to_numpy()):
            partitions_of.setdefault(int(objid), set()).add(k)
    straddling = [objid for objid, parts in partitions_of.items() if len(parts) > 1]
    assert len(straddling) > 50         # margins matter: 58 such objects here

    result = bulk_summaries(hats, np.r_[ids, 5], progress=False)
    assert result.n_objects == len(ids) and result.unmatched["objID"].tolist() == [5]
    assert_same_summaries(result.table, plain_reading(ps1hats_path, ids, every_object))


def test_the_rows_of_lsdbs_join_of_objects_with_their_detections(hats, ps1hats_path, every_object):
    import lsdb

    rng = np.random.default_rng(2)
    ids = np.sort(rng.choice(every_object["objID"].to_numpy(), 3000, replace=False))
    needed = list(INPUT_COLUMNS[:-1])
    keep = [("objID", "in", ids.tolist())]
    objects = lsdb.open_catalog(f"{ps1hats_path}/otmo", columns=["objID", "raMean", "decMean"],
                                filters=keep)
    detections = lsdb.open_catalog(f"{ps1hats_path}/detection", columns=needed, filters=keep)
    assert detections.margin is not None
    joined = objects.join(detections, left_on="objID", right_on="objID", suffixes=("", "_d"),
                          suffix_method="all_columns")
    frame = joined.to_dask_dataframe().compute(scheduler="synchronous")
    columns = {name: frame[name if name in frame.columns else f"{name}_d"].to_numpy()
               for name in ["raMean", "decMean"] + needed}
    assert_same_summaries(bulk_summaries(hats, ids, progress=False).table, Table(summarize(columns)))


def test_an_active_dask_client_is_used_and_the_rows_stream_partition_by_partition(
        hats, ps1hats_path, every_object, tmp_path, capsys):
    from dask.distributed import Client, LocalCluster, get_task_stream

    ids = every_object["objID"].to_numpy()[::5]
    path = tmp_path / "s.parquet"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with get_task_stream(client) as stream:       # the active client: not passed
            streamed = bulk_summaries(hats, ids, output=path, progress=True)
        workers = set(client.scheduler_info()["workers"])
    tasks = [task for task in stream.data if "_summarize_pixel" in str(task["key"])]
    assert len(tasks) > 1 and {task["worker"] for task in tasks} <= workers
    assert "PS1 summaries" in capsys.readouterr().err
    groups = pq.ParquetFile(path).metadata.num_row_groups   # one per partition with rows
    assert 1 < groups <= len(tasks)
    assert_same_summaries(streamed.read(), plain_reading(ps1hats_path, ids, every_object))
