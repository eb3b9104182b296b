"""The HATS source on a multi-worker Dask cluster gives what the synchronous scheduler gives.

A `dask.distributed.LocalCluster` with two worker processes stands in for a real cluster: the
work (partitions read, filtered, matched) is shipped to other processes, so anything that only
works in the calling process would fail here.
"""
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from localtap import sample


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="the [hats] extra is not installed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address="127.0.0.1:0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_a_passed_client_runs_the_work_and_gives_the_same_tables(hats, dask_client):
    field = hats.query_region((sample.BULK_RA, sample.BULK_DEC), sample.BULK_RADIUS,
                              columns=["objID"], progress=False)
    ids = np.sort(field["objID"].data)[::40][:300]
    import distributed

    with distributed.get_task_stream(client=dask_client) as stream:
        on_cluster = hats.get_detections(ids, client=dask_client, progress=False)
    here = hats.get_detections(ids, progress=False)
    assert len(on_cluster) == len(here) > 10000
    for name in here.colnames:
        assert np.array_equal(on_cluster[name], here[name]), name
    # the partitions were read and filtered by the workers, not here
    workers = {task["worker"] for task in stream.data}
    assert len(stream.data) > 0 and workers <= set(dask_client.scheduler_info()["workers"])


def test_an_active_client_is_used_without_being_passed(hats, dask_client):
    positions = SkyCoord([KQ.cone_ra for KQ in sample.STARS], [s.cone_dec for s in sample.STARS],
                         unit="deg")
    with dask_client.as_current():
        matched = hats.match_positions(positions, progress=False)
    assert list(matched["objID"]) == [s.objid for s in sample.STARS]
    lcs = hats.get_lightcurves([s.objid for s in sample.STARS], client=dask_client,
                               progress=False)
    assert sorted(lcs) == sorted(s.objid for s in sample.STARS)
