#!/usr/bin/env python
"""B4: cold import cost of astroquery_ps1tap, next to the stack it builds on.

Measures, in one run, each in a fresh interpreter (``python -c``), N times,
interleaved (A B B A A B ...) so that drift in machine load hits both sides:

* ``import astroquery_ps1tap``
* ``import pyvo, astroquery.query``   (the baseline: what any pyvo-based
  astroquery module pays anyway)

and prints the median of each, and their ratio (target: <= 1.2).  The time
is measured inside the child around the import statement only (interpreter
start-up excluded); "cold" means a fresh process, with the OS file cache and
the ``.pyc`` files warm (one discarded warm-up run each).

It also prints the top offenders of ``python -X importtime -c "import
astroquery_ps1tap"`` and checks that the import does not pull in lightkurve
or matplotlib (nor scipy, pandas, bokeh: listed for information).

Usage::

    python benchmarks/bench_import.py            # N=21
    python benchmarks/bench_import.py -n 31 --top 20 --json b4.json
    python benchmarks/bench_import.py --strict   # exit 1 if ratio > 1.2 or a heavy module is imported

If ``import astroquery_ps1tap`` fails (package being written), the benchmark
falls back to ``import astroquery_ps1tap.schema`` and says so.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.2
FORBIDDEN = ("lightkurve", "matplotlib")
WATCHED = FORBIDDEN + ("scipy", "pandas", "bokeh", "sklearn")

BASELINE = "pyvo, astroquery.query"

CHILD = """
import time, sys
{pre}
t0 = time.perf_counter()
import {modules}
t1 = time.perf_counter()
import json
tops = sorted({{m.split('.')[0] for m in sys.modules}})
print(json.dumps({{"seconds": t1 - t0, "tops": tops}}))
"""


# Bytecode: with PYTHONDONTWRITEBYTECODE set (as on this project's machines) the
# package, run from the checkout, would be compiled from source at every import,
# a cost (~20-50 ms) installed users never pay.  By default the children write and
# read their .pyc files under a cache directory outside the checkout instead
# (PYTHONPYCACHEPREFIX); --as-is keeps the environment untouched.
PYCACHE = Path(tempfile.gettempdir()) / "astroquery_ps1tap-bench-pycache"
AS_IS = False


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), e.get("PYTHONPATH")]))
    if not AS_IS:
        e.pop("PYTHONDONTWRITEBYTECODE", None)
        e["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return e


def run_child(modules, pre=""):
    code = CHILD.format(modules=modules, pre=f"import {pre}" if pre else "")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO,
                         env=env(), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"import {modules} failed:\n{out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def choose_target():
    try:
        run_child("astroquery_ps1tap")
        return "astroquery_ps1tap", None
    except RuntimeError as exc:
        note = str(exc).strip().splitlines()[-1]
        run_child("astroquery_ps1tap.schema")
        return "astroquery_ps1tap.schema", note


def measure(target, n):
    run_child(target)                 # warm-up: .pyc files, OS cache
    run_child(BASELINE)
    extra = f"{target} after {BASELINE}"
    times = {target: [], BASELINE: [], extra: []}
    tops = None
    for i in range(n):
        order = (target, BASELINE) if i % 2 == 0 else (BASELINE, target)
        for modules in order:
            res = run_child(modules)
            times[modules].append(res["seconds"])
            if modules == target:
                tops = res["tops"]
        times[extra].append(run_child(target, pre=BASELINE)["seconds"])
    return times, tops, extra


def importtime(target, top):
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {target}"],
                         cwd=REPO, env=env(), capture_output=True, text=True)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line[len("import time:"):].split("|")
        self_us, cum_us, raw = int(parts[0]), int(parts[1]), parts[2]
        depth = (len(raw) - len(raw.lstrip(" ")) - 1) // 2
        rows.append((raw.strip(), self_us, cum_us, depth))
    by_cum = sorted((r for r in rows if 1 <= r[3] <= 2), key=lambda r: -r[2])[:top]
    by_self = sorted(rows, key=lambda r: -r[1])[:top]
    packages = {}
    for name, self_us, _, _ in rows:
        key = name.split(".")[0]
        packages[key] = packages.get(key, 0) + self_us
    by_pkg = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    return by_cum, by_self, by_pkg, len(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=21, help="repetitions of each import (default 21)")
    ap.add_argument("--top", type=int, default=15, help="how many importtime offenders to show")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--strict", action="store_true",
                    help=f"exit 1 if ratio > {TARGET_RATIO} or lightkurve/matplotlib is imported")
    ap.add_argument("--as-is", action="store_true",
                    help="keep the environment's bytecode settings (default: cache .pyc files "
                         f"under {PYCACHE})")
    args = ap.parse_args(argv)
    global AS_IS
    AS_IS = args.as_is

    target, note = choose_target()
    print(f"B4 cold import, {sys.executable} ({sys.version.split()[0]}), N={args.n} interleaved")
    if AS_IS:
        print(f"bytecode: environment as is (PYTHONDONTWRITEBYTECODE="
              f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")
    else:
        print(f"bytecode: cached under {PYCACHE} (like an installed package)")
    if note:
        print(f"NOTE: 'import astroquery_ps1tap' fails ({note}); measuring {target} instead")

    times, tops, extra = measure(target, args.n)
    med_t = statistics.median(times[target])
    med_b = statistics.median(times[BASELINE])
    ratio = med_t / med_b
    ratio_min = min(times[target]) / min(times[BASELINE])
    width = len(extra) + 7
    print(f"\n{'import':<{width}} {'median':>8} {'min':>8} {'max':>8}")
    for mods in (target, BASELINE, extra):
        ts = times[mods]
        print(f"{'import ' + mods:<{width}} {statistics.median(ts):8.3f} {min(ts):8.3f} {max(ts):8.3f}  s")
    verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"ratio {target} / baseline = {ratio:.2f} (medians; target <= {TARGET_RATIO}: {verdict}), "
          f"{ratio_min:.2f} (minima)")
    print(f"cost of {target} on top of an already imported baseline: "
          f"{statistics.median(times[extra]) * 1e3:.0f} ms (median)")

    heavy = {m: (m in tops) for m in WATCHED}
    print("\nheavy packages imported by 'import %s':" % target)
    for m in WATCHED:
        flag = "IMPORTED" if heavy[m] else "not imported"
        must = " (must not be)" if m in FORBIDDEN else ""
        print(f"  {m:<11} {flag}{must if heavy[m] else ''}")

    by_cum, by_self, by_pkg, nmods = importtime(target, args.top)
    print(f"\npython -X importtime -c 'import {target}': {nmods} modules")
    print(f"top {len(by_pkg)} packages by total self time:")
    for name, s in by_pkg:
        print(f"  {s / 1e3:8.1f} ms  {name}")
    print(f"top {len(by_cum)} by cumulative time (imports at nesting depth 1-2):")
    for name, s, c, d in by_cum:
        print(f"  {c / 1e3:8.1f} ms  {'  ' * (d - 1)}{name}")
    print(f"top {len(by_self)} by self time:")
    for name, s, c, d in by_self:
        print(f"  {s / 1e3:8.1f} ms  {name}")

    result = {
        "target": target, "fallback_note": note, "n": args.n, "bytecode_as_is": AS_IS,
        "median_s": {k: statistics.median(v) for k, v in times.items()}, "ratio": ratio,
        "ratio_of_minima": ratio_min,
        "target_ratio": TARGET_RATIO, "times_s": times, "heavy_imported": heavy,
        "importtime_top_cumulative": [{"module": n, "cumulative_us": c} for n, s, c, d in by_cum],
        "importtime_top_self": [{"module": n, "self_us": s} for n, s, c, d in by_self],
        "importtime_packages_self": [{"package": n, "self_us": s} for n, s in by_pkg],
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    failed = ratio > TARGET_RATIO or any(heavy[m] for m in FORBIDDEN)
    return 1 if (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
