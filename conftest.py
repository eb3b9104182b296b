"""Repository-wide pytest setup.

* The repository root is importable (``from localtap import sample``; ``tests/faultproxy.py`` is
  importable from the tests).
* ``ps1tap_server``: the URL of the local PS1 DR2 TAP server (GAVO DaCHS with the sample
  database).  Uses ``$PS1TAP_TEST_SERVER`` if set (a server already running), else runs
  ``localtap/server.py start``, which installs, loads and starts it, or finds it running.  If the
  server cannot be started, the tests that need it fail with the script's message: they are never
  skipped.
* ``ps1hats_path``: the root of the local HATS copy of the same sample (``localtap/hatsdb.py``).
  Uses ``$PS1HATS_TEST_PATH`` if set, else runs ``localtap/hatsdb.py build``, which builds it
  (hats-import) or finds it built; failures fail the tests that need it, as for the server.
* Doctests (docs pages, docstrings) that use the client talk to that server: ``PS1TAP_SERVER`` is
  set for them.
* Every test that needs the server is marked ``server`` here, at collection: the tests that use the
  ``ps1tap_server`` fixture (directly or through another fixture) and the doctests that use the
  client.  ``python -m pytest -m "not server"`` runs the rest, on a machine without DaCHS.
* ``real_rows``: the real rows MAST returned for the tutorial's stars, kept once, in
  ``localtap/realrows/`` (`REAL_ROWS`).
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
#: The real results MAST returned for the tutorial's stars (CSV with ``#`` comment lines), one
#: home for the tests, the docs and the sample database: ``nb_votap_2024-02_<name>_shown_rows.csv``.
REAL_ROWS = ROOT / "localtap" / "realrows"


def pytest_configure(config):
    config._ps1tap_cache = tempfile.mkdtemp(prefix="astroquery_ps1tap-tests-cache-")
    os.environ["ASTROPY_CACHE_DIR"] = config._ps1tap_cache


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_ps1tap_cache", ""), ignore_errors=True)


def _setup(script, what):
    """Run ``localtap/<script>`` (a setup command) and return the last line it prints; if it
    fails, fail the tests that need it with the script's own message (never skip them)."""
    done = subprocess.run([sys.executable, str(ROOT / "localtap" / script[0]), *script[1:]],
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.fail(f"{what} (localtap/{' '.join(script)}, exit {done.returncode}): {reason}",
                    pytrace=False)
    return lines[-1].strip()


@pytest.fixture(scope="session")
def ps1tap_server():
    """The local TAP server's base URL, e.g. ``http://localhost:8080/tap``."""
    url = os.environ.get("PS1TAP_TEST_SERVER") or _setup(
        ("server.py", "start"), "the local TAP server could not be started")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def ps1hats_path():
    """The root of the local HATS catalogs (otmo, detection, forced_mean_object) of the sample."""
    return os.environ.get("PS1HATS_TEST_PATH") or _setup(
        ("hatsdb.py", "build"), "the local HATS catalogs could not be built")


_CLIENT_WORDS = ("PanstarrsTap", "PS1TAP_SERVER", "ps1tap ")


def _doctest_uses_the_client(item):
    """Whether a doctest (docstring or docs page) calls the client, and so needs the server."""
    test = getattr(item, "dtest", None)
    if test is None:
        return False
    source = "".join(example.source for example in test.examples)
    return any(word in source for word in _CLIENT_WORDS)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "ps1tap_server" in getattr(item, "fixturenames", ()) or _doctest_uses_the_client(item):
            item.add_marker(pytest.mark.server)


@pytest.fixture(autouse=True)
def _doctests_use_the_local_server(request, monkeypatch):
    if _doctest_uses_the_client(request.node):
        monkeypatch.setenv("PS1TAP_SERVER", request.getfixturevalue("ps1tap_server"))


class RealRows:
    """The real rows of `REAL_ROWS` by short name: ``real_rows("kq_uma_detections")`` is the
    table, ``real_rows.path("kq_uma_detections")`` its file."""

    def path(self, name):
        return REAL_ROWS / f"nb_votap_2024-02_{name}_shown_rows.csv"

    def __call__(self, name):
        from astropy.table import Table

        return Table.read(self.path(name), format="ascii.csv", comment="#")


@pytest.fixture(scope="session")
def real_rows():
    """Read the real rows MAST returned for the tutorial's stars (`RealRows`)."""
    return RealRows()
