"""B2: light curves for 1,000 objects, through a 50 ms-per-request proxy.

Side by side in one run, on the same 1,000 objects of the sample database's bulk field:

* **package**: ``PanstarrsTapClass(...).get_lightcurves(objids)`` — batched queries (uploaded
  objID tables where the service allows, else ``IN`` lists), a few at a time, shaped once and split
  lazily into per-object collections (also timed: building every collection);
* **floor**: one raw pyvo synchronous query returning every detection row of the 1,000 objects
  (what the network and the server cannot do faster);
* **tutorial loop**: the MAST tutorial's flow per object (an async cone job, then an async
  detections job), timed on ``--loop-sample`` objects and scaled to 1,000 (each object costs the
  same two jobs).

``--sweep`` also measures ``get_detections`` for several batch sizes, with and without uploads
(how ``conf.objid_chunk_size`` and ``conf.upload_chunk_size`` were chosen).

Targets: at least 50× faster than the tutorial loop, within 1.5× of the floor.

Usage: ``python benchmarks/bench_many.py [--server URL] [--latency 0.05] [--loop-sample 5] [--sweep]``
"""
import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402

from bench_lightcurve import tutorial_flow  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from localtap import sample  # noqa: E402

N_OBJECTS = 1000


def pick_objects(url, limit):
    """1,000 bulk-field objects whose detections fit in one answer (for the floor query)."""
    import pyvo

    rows = pyvo.dal.TAPService(url).run_sync(
        f"SELECT o.objID, o.nDetections, o.raMean, o.decMean FROM dbo.MeanObjectView AS o "
        f"WHERE CONTAINS(POINT('ICRS', o.raMean, o.decMean), CIRCLE('ICRS', {sample.BULK_RA}, "
        f"{sample.BULK_DEC}, {sample.BULK_RADIUS})) = 1 ORDER BY o.objID", maxrec=limit).to_table()
    rows = rows[np.cumsum(rows["nDetections"]) < limit][:N_OBJECTS]
    return rows


def floor(url, ids):
    import pyvo

    columns = ", ".join(f"d.{c}" for c in ("objID", "detectID", "filterID", "obsTime", "ra", "dec",
                                            "psfFlux", "psfFluxErr", "apFlux", "apFluxErr", "kronFlux",
                                            "kronFluxErr", "psfMajorFWHM", "psfMinorFWHM",
                                            "psfQfPerfect", "infoFlag", "infoFlag2", "infoFlag3"))
    query = (f"SELECT {columns} FROM dbo.Detection AS d WHERE d.objID IN "
             f"({', '.join(str(i) for i in ids)})")
    return len(pyvo.dal.TAPService(url).run_sync(query, maxrec=100000).to_table())


def package(url, ids):
    from astroquery_ps1tap import PanstarrsTapClass

    return PanstarrsTapClass(server=url).get_lightcurves(ids, cache=False, progress=False)


def timed(proxy, function, *args):
    proxy.reset()
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, proxy.count, value


def sweep(proxy, url, ids):
    from astroquery_ps1tap import PanstarrsTapClass

    client = PanstarrsTapClass(server=url)
    print("  batch-size sweep, get_detections of the 1,000 objects (wall s / requests):")
    for upload, sizes in ((False, (50, 100, 250, 500)), (True, (100, 250, 500, 1000))):
        for size in sizes:
            option = {"upload": upload, "chunk_size": size}
            if upload:
                from astroquery_ps1tap import conf

                conf.upload_chunk_size = size
            wall, count, _ = timed(proxy, lambda: client.get_detections(ids, cache=False, progress=False,
                                                                         **option))
            print(f"    {'upload' if upload else 'IN list':7s} {size:5d} per query: {wall:6.2f} s  {count:3d}")
    from astroquery_ps1tap import conf

    conf.reset("upload_chunk_size")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=f"http://localhost:{sample.DEFAULT_PORT}/tap")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--loop-sample", type=int, default=5, help="objects timed in the tutorial loop")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    chosen = pick_objects(args.server, sample.MAXREC_HARD)
    ids = np.asarray(chosen["objID"], dtype=np.int64)
    print(f"B2: light curves of {len(ids)} objects ({int(chosen['nDetections'].sum())} detections), "
          f"{args.latency * 1000:.0f} ms per request")
    with FaultProxy(args.server.rsplit("/tap", 1)[0], latency=args.latency) as proxy:
        url = proxy.url + "/tap"
        package(url, ids[:3])  # warm up imports
        ours, raw = [], []
        for _ in range(args.repeat):
            raw.append(timed(proxy, floor, url, ids))
            ours.append(timed(proxy, package, url, ids))
        start = time.perf_counter()
        lcs = ours[-1][2]
        n_curves = sum(len(lcs[i]) for i in lcs)
        build = time.perf_counter() - start
        loop = []
        for ra, dec in zip(chosen["raMean"][:args.loop_sample], chosen["decMean"][:args.loop_sample]):
            loop.append(timed(proxy, tutorial_flow, url, float(ra), float(dec)))
        if args.sweep:
            sweep(proxy, url, ids)
    t_ours = statistics.median(r[0] for r in ours)
    t_raw = statistics.median(r[0] for r in raw)
    per_object = statistics.median(r[0] for r in loop)
    t_loop = per_object * len(ids)
    print(f"  package       {t_ours:8.2f} s  {ours[-1][1]:4d} requests  (lazy mapping of {len(lcs)} objects; "
          f"building all {n_curves} LightCurves afterwards: {build:.2f} s)")
    print(f"  floor         {t_raw:8.2f} s  {raw[-1][1]:4d} request   ({raw[-1][2]} rows, one pyvo sync query)")
    print(f"  tutorial loop {t_loop:8.1f} s  {loop[-1][1] * len(ids):4d} requests (scaled from "
          f"{len(loop)} objects at {per_object:.2f} s each)")
    print(f"  ratios: {t_loop / t_ours:.0f}x faster than the tutorial loop (target >= 50x); "
          f"{t_ours / t_raw:.2f}x the floor (target <= 1.5x)")


if __name__ == "__main__":
    main()
