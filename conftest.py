"""Repository-wide pytest setup.

* The repository root is importable (``from localtap import sample``; ``tests/faultproxy.py`` is
  importable from the tests).
* ``ps1tap_server``: the URL of the local PS1 DR2 TAP server (GAVO DaCHS with the sample
  database).  Uses ``$PS1TAP_TEST_SERVER`` if set (a server already running), else runs
  ``localtap/server.py start``, which installs, loads and starts it, or finds it running.  If the
  server cannot be started, the tests that need it fail with the script's message: they are never
  skipped.
* Doctests (docs pages, docstrings) that use the client talk to that server: ``PS1TAP_SERVER`` is
  set for them.
* The test session has a cache directory of its own (``ASTROPY_CACHE_DIR``, inherited by the
  command-line and Sphinx subprocesses), so answers cached by earlier runs — perhaps from an
  earlier sample database — never stand in for the server's.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_configure(config):
    config._ps1tap_cache = tempfile.mkdtemp(prefix="astroquery_ps1tap-tests-cache-")
    os.environ["ASTROPY_CACHE_DIR"] = config._ps1tap_cache


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_ps1tap_cache", ""), ignore_errors=True)


@pytest.fixture(scope="session")
def ps1tap_server():
    """The local TAP server's base URL, e.g. ``http://localhost:8080/tap``."""
    url = os.environ.get("PS1TAP_TEST_SERVER")
    if url:
        return url.rstrip("/")
    done = subprocess.run([sys.executable, str(ROOT / "localtap" / "server.py"), "start"],
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.fail(f"the local TAP server could not be started (localtap/server.py start, exit "
                    f"{done.returncode}): {reason}", pytrace=False)
    return lines[-1].strip().rstrip("/")


_CLIENT_WORDS = ("PanstarrsTap", "PS1TAP_SERVER", "ps1tap ")


@pytest.fixture(autouse=True)
def _doctests_use_the_local_server(request, monkeypatch):
    test = getattr(request.node, "dtest", None)
    if test is None:
        return
    source = "".join(example.source for example in test.examples)
    if any(word in source for word in _CLIENT_WORDS):
        monkeypatch.setenv("PS1TAP_SERVER", request.getfixturevalue("ps1tap_server"))
