"""STScI's PS1 DR2 HATS catalogs on S3, read anonymously: the tutorial's star.

Needs the internet: run with ``pytest --remote-data=any`` (skipped otherwise, the astropy
convention).  The expected numbers are MAST's answers to the tutorial (``localtap/sample.py``).
"""
import pytest

from astroquery_ps1tap.sources.hats import PanstarrsHatsClass
from astroquery_ps1tap.sources.hats.catalogs import DEFAULT_PATH
from localtap import sample

pytestmark = pytest.mark.remote_data


def test_kq_uma_s_light_curve_from_stscis_catalogs():
    stsci = PanstarrsHatsClass(DEFAULT_PATH)
    lcs = stsci.get_lightcurves(sample.KQ_UMA.objid, progress=False)
    assert [lc.meta["FILTER"] for lc in lcs] == list("grizy")
    assert sum(len(lc) for lc in lcs) == sample.KQ_UMA.n_detections == 66
