"""The MAST tutorial's queries at MAST itself, on both of MAST's PS1 services, checked against the
answers MAST gave the tutorial.

These need the internet: run them with ``pytest --remote-data=any`` (they are skipped otherwise,
the astropy convention).  The expected numbers are in ``../shared/notes/ps1dr2.md``.  MAST's
legacy service (``ps1dr2``, schema ``dbo``) and its newer one (``mast_catalogs``, schema
``ps1_dr2``) hold the same PS1 DR2 rows, so each test runs on both; the newer one was never
reachable from where this package is developed, so these tests are the first to see it.
"""
import numpy as np
import pytest
from astropy import units as u

from astroquery_ps1tap import PanstarrsTapClass, schema

pytestmark = pytest.mark.remote_data

SERVICES = {"ps1dr2": "dbo", "mast_catalogs": "ps1_dr2"}


@pytest.fixture(scope="module", params=list(SERVICES))
def mast(request):
    return PanstarrsTapClass(server=request.param)


def test_the_schema_is_learnt_from_the_service(mast):
    name = next(n for n, url in schema.MAST_SERVICES.items() if url == mast.server)
    assert mast.schema == SERVICES[name]
    tables = set(mast.list_tables(cache=False)["table_name"])
    assert {schema.resolve_table(t, SERVICES[name]) for t in ("mean", "detection")} <= tables


def test_m87_cone(mast):
    assert len(mast.query_region("187.706 12.391", 0.2 * u.deg, cache=False)) == 6927


def test_kq_uma_by_name_and_its_detections(mast):
    kq = mast.query_object("KQ UMa", cache=False)
    assert kq["objID"].tolist() == [190361393344112894] and kq["nDetections"][0] == 66
    det = mast.get_detections(190361393344112894, cache=False)
    assert len(det) == 66
    bad = det[(det["filter"] == "z") & (det["psfQfPerfect"] < 0.9)]
    assert bad["obsTime"][0] == pytest.approx(55933.5264577)
    assert bad["psfQfPerfect"][0] == pytest.approx(0.322986, rel=1e-5)


@pytest.mark.parametrize("name, objid, n_good", [("KIC 2161623", 153102917444859851, 45),
                                                  ("KIC 8153568", 160802869044447231, 60)])
def test_eclipsing_binaries_with_the_quality_cut(mast, name, objid, n_good):
    assert mast.query_object(name, cache=False)["objID"].tolist() == [objid]
    assert len(mast.get_detections(objid, min_qf=0.9, cache=False)) == n_good


def test_light_curve_in_one_request(mast):
    lcs = mast.get_lightcurves((139.33446271609, 68.63508880829), cache=False)
    assert [lc.meta["FILTER"] for lc in lcs] == list("grizy")
    assert np.isfinite(lcs[0]["mag"]).all()


def test_positions_to_objids(mast):
    from astropy.coordinates import SkyCoord

    stars = SkyCoord([139.33446271609, 291.744461], [68.63508880829, 37.59102], unit="deg")
    matches = mast.match_positions(stars, cache=False)
    assert matches["objID"].tolist() == [190361393344112894, 153102917444859851]


def test_mast_declares_no_upload_method(mast):
    assert mast.service.upload_supported() is False
