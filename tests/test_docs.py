"""The documentation builds without a warning, with the tutorial's figures drawn from the server.

The doctests of the pages under ``docs/`` are collected by pytest itself (``--doctest-rst`` in
setup.cfg); this module builds the HTML with Sphinx, warnings as errors, as CI does.  The
tutorial's ``.. plot::`` directives run their code at build time against ``$PS1TAP_SERVER``,
so the build needs the local TAP server.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def figure_directives(page):
    """How many ``.. plot::`` directives of a page draw a figure (those without ``:nofigs:``)."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    count = 0
    for i, line in enumerate(lines):
        if re.match(r"\.\. plot::", line):
            options = []
            for following in lines[i + 1:]:
                if not re.match(r"\s+:[\w-]+:", following):
                    break
                options.append(following.strip())
            count += not any(option.startswith(":nofigs:") for option in options)
    return count


def test_every_toctree_entry_exists():
    """A page listed in index.rst but missing is caught here, without Sphinx."""
    text = (DOCS / "index.rst").read_text(encoding="utf-8")
    toctree = text.split(".. toctree::", 1)[1]
    entries = [line.strip() for line in toctree.splitlines()[1:]
               if line.strip() and not line.strip().startswith(":")]
    assert entries, "index.rst has an empty toctree"
    missing = [entry for entry in entries if not (DOCS / f"{entry}.rst").exists()]
    assert not missing, f"index.rst lists pages that do not exist: {missing}"


def test_the_tutorial_has_figures():
    assert figure_directives("tutorial.rst") >= 8


@pytest.mark.server
def test_sphinx_build_is_warning_free_with_figures(ps1tap_server, tmp_path):
    out = tmp_path / "html"
    env = dict(os.environ, PS1TAP_SERVER=ps1tap_server, MPLBACKEND="Agg")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1", "-q", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, (f"sphinx-build failed (exit {done.returncode}):\n"
                                  f"{done.stderr[-6000:]}\n{done.stdout[-2000:]}")

    # every figure-drawing plot directive of the tutorial produced a PNG, shown on the page
    expected = figure_directives("tutorial.rst")
    pngs = sorted((out / "_images").glob("tutorial-*.png"))
    assert len(pngs) >= expected, f"{len(pngs)} tutorial figures in _images, expected {expected}"
    assert all(png.stat().st_size > 5000 for png in pngs), [p.name for p in pngs]
    page = (out / "tutorial.html").read_text(encoding="utf-8")
    shown = set(re.findall(r'src="_images/(tutorial-[\w-]+\.png)"', page))
    assert shown == {png.name for png in pngs}

    # the API reference documents the client
    api = (out / "api.html").read_text(encoding="utf-8")
    assert 'id="astroquery_ps1tap.PanstarrsTapClass"' in api
    for method in ("query_region", "get_detections", "get_lightcurves"):
        assert f'id="astroquery_ps1tap.PanstarrsTapClass.{method}"' in api

    # the other pages of this issue were built
    for name in ("cli", "performance", "client", "lightcurves"):
        assert (out / f"{name}.html").exists(), name
