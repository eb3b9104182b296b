"""Fixtures of the HATS source's tests.

* ``hats``: a `PanstarrsHatsClass` on the local HATS copy of the sample (the root conftest's
  ``ps1hats_path``).
* ``tap``: a `PanstarrsTapClass` on the local TAP server, checked to serve the same sample as the
  HATS copy (both are made by ``localtap/generate.py``; a server loaded from another checkout
  would make every comparison fail for the wrong reason, so this says so instead).
"""
import numpy as np
import pytest

from astroquery_ps1tap import PanstarrsTapClass
from astroquery_ps1tap.sources.hats import PanstarrsHatsClass
from localtap import sample


@pytest.fixture(scope="session")
def hats(ps1hats_path):
    return PanstarrsHatsClass(ps1hats_path)


@pytest.fixture(scope="session")
def tap(ps1tap_server, ps1hats_path, tmp_path_factory):
    client = PanstarrsTapClass(server=ps1tap_server)
    client.cache_location = tmp_path_factory.mktemp("tap-cache")
    # the same sample? objIDs of a small cone identify the generator that made it
    cone = (sample.M87_RA, sample.M87_DEC, 0.02)
    served = client.query_region(cone[:2], cone[2], columns=["objID"], min_detections=None)
    built = PanstarrsHatsClass(ps1hats_path).query_region(
        cone[:2], cone[2], columns=["objID"], min_detections=None, progress=False)
    if not np.array_equal(np.sort(served["objID"]), np.sort(built["objID"])):
        pytest.fail("the local TAP server and the local HATS catalogs hold different samples: "
                    "run `python localtap/server.py start` and `python localtap/hatsdb.py build` "
                    "from the same checkout", pytrace=False)
    return client
