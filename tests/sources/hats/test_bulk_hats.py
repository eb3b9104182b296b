"""Per-object summaries from the HATS source (`astroquery_ps1tap.bulk` on `PanstarrsHatsClass`).

The local HATS copy holds the rows the local TAP server serves, so the summaries of both sources
must agree object for object: the same counts and time spans, magnitudes equal to rounding (the
sums run in another order), and the same account of the targets with none.  Fixtures ``hats`` and
``tap``: ``tests/sources/hats/conftest.py``.
"""
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from astroquery_ps1tap.bulk import NO_OBJECT, bulk_summaries
from localtap import sample

KQ, EB1 = sample.KQ_UMA, sample.KIC_2161623

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def targets(tap):
    """About 60 bulk-field objects, two of the tutorial's stars, and an objID with no object."""
    cone = tap.query_region((sample.BULK_RA, sample.BULK_DEC), 0.04, cache=False)
    return np.r_[np.asarray(cone["objID"]), [KQ.objid, EB1.objid, 5]]


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
