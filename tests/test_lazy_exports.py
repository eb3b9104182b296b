"""``import astroquery_ps1tap`` stays light; the light-curve, period and plot functions are still
importable from the top level, loaded on first use (module ``__getattr__``).

Each check runs in a fresh interpreter: in this one, other tests have imported everything.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("lightkurve", "matplotlib", "lsdb", "dask", "astroquery_ps1tap.lightcurves",
         "astroquery_ps1tap.plots", "astroquery_ps1tap.periods")


def fresh_python(code):
    """Run ``code`` in a new interpreter that imports this checkout; return what it prints (JSON)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_package_imports_no_lightkurve_matplotlib_or_lsdb():
    loaded = fresh_python(
        "import json, sys\n"
        "import astroquery_ps1tap\n"
        "from astroquery_ps1tap import PanstarrsTap, conf\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert loaded == []


def test_top_level_names_load_their_module_on_first_use():
    found = fresh_python(
        "import json, sys\n"
        "import astroquery_ps1tap as ps1\n"
        "listed = [n for n in ('to_lightcurves', 'find_period', 'plot_lightcurves') if n in dir(ps1)]\n"
        "before = 'lightkurve' in sys.modules\n"
        "from astroquery_ps1tap import to_lightcurves, combine_bands\n"
        "import astroquery_ps1tap.lightcurves as lc\n"
        "after = 'lightkurve' in sys.modules\n"
        "from astroquery_ps1tap import find_period, find_periods, plot_lightcurves\n"
        "import astroquery_ps1tap.periods as periods, astroquery_ps1tap.plots as plots\n"
        "same = [to_lightcurves is lc.to_lightcurves, combine_bands is lc.combine_bands,\n"
        "        find_period is periods.find_period, find_periods is periods.find_periods,\n"
        "        plot_lightcurves is plots.plot_lightcurves]\n"
        "print(json.dumps({'listed': listed, 'before': before, 'lightkurve': after,\n"
        "                  'same': same}))")
    assert found == {"listed": ["to_lightcurves", "find_period", "plot_lightcurves"],
                     "before": False, "lightkurve": True, "same": [True] * 5}


def test_an_unknown_name_is_still_an_attribute_error():
    message = fresh_python(
        "import json\n"
        "import astroquery_ps1tap\n"
        "try:\n"
        "    astroquery_ps1tap.to_lightcurve\n"
        "except AttributeError as exc:\n"
        "    print(json.dumps(str(exc)))\n")
    assert message == "module 'astroquery_ps1tap' has no attribute 'to_lightcurve'"
