"""B3: the same requests through each source, side by side: TAP (50 ms proxy) and HATS (local).

Both sources hold the same sample database (the local DaCHS server, ``localtap/server.py start``,
and its HATS copy, ``localtap/hatsdb.py build``).  Timed, in one run, with warm imports:

* **KQ UMa**: ``get_lightcurves(objID)`` of one star (66 detections);
* **1,000 objects**: ``get_lightcurves(objids)`` of 1,000 bulk-field objects (~90 detections each)
  and the per-object collections built from them.

TAP goes through ``tests/faultproxy.py`` adding 50 ms to every request (as B1/B2); HATS reads the
local catalogs on dask's synchronous scheduler (``--cluster`` adds a 2-worker LocalCluster).

Usage: ``python benchmarks/bench_sources.py [--server URL] [--hats PATH] [--latency 0.05]
[--repeat 3] [--cluster]``
"""
import argparse
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402

from faultproxy import FaultProxy  # noqa: E402
from localtap import sample  # noqa: E402

N_OBJECTS = 1000


def hats_path(arg):
    if arg:
        return arg
    done = subprocess.run([sys.executable, str(ROOT / "localtap" / "hatsdb.py"), "build"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def objects(client):
    field = client.query_region((sample.BULK_RA, sample.BULK_DEC), sample.BULK_RADIUS,
                                columns=["objID"])
    return np.sort(field["objID"].data)[::12][:N_OBJECTS]


def light_curves(source, target, **options):
    lcs = source.get_lightcurves(target, progress=False, **options)
    if hasattr(lcs, "keys"):                       # many objects: build every collection
        return sum(len(lcs[objid]) for objid in lcs)
    return len(lcs)


def best(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="http://localhost:8080/tap")
    parser.add_argument("--hats", help="root of the local HATS catalogs (default: build/find it)")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cluster", action="store_true",
                        help="also time HATS on a 2-worker LocalCluster")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    from astroquery_ps1tap import PanstarrsTapClass
    from astroquery_ps1tap.sources.hats import PanstarrsHatsClass

    hats = PanstarrsHatsClass(hats_path(args.hats))
    rows = []
    with FaultProxy(args.server.rsplit("/tap", 1)[0], latency=args.latency) as proxy:
        tap = PanstarrsTapClass(server=proxy.url + "/tap")
        ids = objects(tap)
        tap.get_lightcurves(sample.KQ_UMA.objid, cache=False)                 # warm imports
        hats.get_lightcurves(sample.KQ_UMA.objid, progress=False)
        hats.get_lightcurves(ids[:20], progress=False)
        for label, target in (("KQ UMa (66 detections)", sample.KQ_UMA.objid),
                              (f"{N_OBJECTS:,} objects", ids)):
            t_tap = best(lambda: light_curves(tap, target, cache=False), args.repeat)
            t_hats = best(lambda: light_curves(hats, target), args.repeat)
            row = [label, t_tap, t_hats]
            if args.cluster:
                from distributed import Client, LocalCluster

                with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0") as c, \
                        Client(c) as client:
                    light_curves(hats, target, client=client)
                    row.append(best(lambda: light_curves(hats, target, client=client),
                                    args.repeat))
            rows.append(row)
    header = f"{'request':<24}{'TAP, 50 ms proxy':>20}{'HATS, local':>16}{'TAP / HATS':>12}"
    if args.cluster:
        header += f"{'HATS, 2 workers':>18}"
    print(f"light curves, best (median) of {args.repeat}; {Path(hats.path)}")
    print(header)
    for label, t_tap, t_hats, *cluster in rows:
        line = (f"{label:<24}{t_tap[0]:>9.2f} s ({t_tap[1]:5.2f}){t_hats[0]:>7.2f} s "
                f"({t_hats[1]:5.2f}){t_tap[0] / t_hats[0]:>11.1f}x")
        if cluster:
            line += f"{cluster[0][0]:>9.2f} s ({cluster[0][1]:5.2f})"
        print(line)


if __name__ == "__main__":
    main()
