"""Sphinx configuration for astroquery_ps1tap (builds offline, warnings are errors in CI)."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "astroquery_ps1tap"
author = "astroquery_ps1tap developers"
copyright = "2026, " + author
from astroquery_ps1tap import __version__ as release  # noqa: E402

# The ``.. plot::`` directives hold doctests; the plot directive parses them with the standard
# doctest module, which must know pytest-doctestplus's option flags (FLOAT_CMP, ...).
import pytest_doctestplus.output_checker  # noqa: E402,F401

version = release
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    # doctest-requires / doctest-skip / doctest-remote-data / testsetup directives of
    # pytest-doctestplus (which runs the doctests): rendered, or hidden for testsetup/testcleanup
    "pytest_doctestplus.sphinx.doctestplus",
]
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_typehints = "none"
autosummary_generate = False
default_role = "obj"
nitpicky = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 90)]
plot_rcparams = {"figure.autolayout": False}
suppress_warnings = ["ref.obj", "ref.ref"]
