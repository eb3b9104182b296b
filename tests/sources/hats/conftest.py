"""Fixtures of the HATS source's tests.

* ``ps1hats_path``: the root of a local HATS copy of the sample database, the same rows the local
  TAP server serves (``localtap/hatsdb.py``).  Uses ``$PS1HATS_TEST_PATH`` if set, else runs
  ``python localtap/hatsdb.py build``, which builds the copy (hats-import) or finds it built.
  If it cannot, the tests that need it fail with the script's message: they are never skipped.
* ``hats``: a `PanstarrsHatsClass` on that copy.
* ``tap``: a `PanstarrsTapClass` on the local TAP server, checked to serve the same sample as the
  HATS copy (both are made by ``localtap/generate.py``; a server loaded from another checkout
  would make every comparison fail for the wrong reason, so this says so instead).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from astroquery_ps1tap import PanstarrsTapClass
from astroquery_ps1tap.sources.hats import PanstarrsHatsClass
from localtap import sample

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def ps1hats_path():
    """The root of the local HATS catalogs (otmo, detection, forced_mean_object)."""
    path = os.environ.get("PS1HATS_TEST_PATH")
    if path:
        return path
    done = subprocess.run([sys.executable, str(ROOT / "localtap" / "hatsdb.py"), "build"],
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.fail(f"the local HATS catalogs could not be built (localtap/hatsdb.py build, exit "
                    f"{done.returncode}): {reason}", pytrace=False)
    return lines[-1].strip()


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
