"""B1: one light curve from coordinates, through a 50 ms-per-request proxy.

Side by side in one run, alternating, on the same object (KQ UMa) and the same server:

* **package**: ``PanstarrsTapClass(...).get_lightcurves((ra, dec))`` — one query joining the cone
  on ``dbo.MeanObjectView`` to ``dbo.Detection``, then lightkurve objects;
* **tutorial**: the MAST tutorial's pyvo flow — an async cone job on ``dbo.MeanObjectView``, then an
  async job for the object's detections (in the portable form of the tutorial's ADQL), then the
  flux → magnitude arithmetic.

Prints HTTP round trips and wall time (median of the repetitions) and their ratios.  Target: one
request (the physical minimum) and at least 5× faster.

Usage: ``python benchmarks/bench_lightcurve.py [--server URL] [--latency 0.05] [--repeat 3]``
"""
import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402

from faultproxy import FaultProxy  # noqa: E402
from localtap import sample  # noqa: E402

STAR = sample.KQ_UMA
RADIUS = 1 / 3600


def package_flow(url):
    from astroquery_ps1tap import PanstarrsTapClass

    client = PanstarrsTapClass(server=url)
    lcs = client.get_lightcurves((STAR.cone_ra, STAR.cone_dec), cache=False)
    return sum(len(lc) for lc in lcs)


def tutorial_flow(url, ra=STAR.cone_ra, dec=STAR.cone_dec):
    import pyvo

    service = pyvo.dal.TAPService(url)
    cone = service.run_async(f"""
        SELECT objID, RAMean, DecMean, nDetections, ng, nr, ni, nz, ny,
               gMeanPSFMag, rMeanPSFMag, iMeanPSFMag, zMeanPSFMag, yMeanPSFMag
        FROM dbo.MeanObjectView
        WHERE CONTAINS(POINT('ICRS', RAMean, DecMean), CIRCLE('ICRS', {ra}, {dec}, {RADIUS})) = 1
          AND nDetections > 1""").to_table()
    objid = cone["objID"][0]
    detections = service.run_async(f"""
        SELECT d.objID, d.detectID, d.filterID AS filterID, f.filterType, d.obsTime, d.ra, d.dec,
               d.psfFlux, d.psfFluxErr, d.psfMajorFWHM, d.psfMinorFWHM, d.psfQfPerfect,
               d.apFlux, d.apFluxErr, d.infoFlag, d.infoFlag2, d.infoFlag3
        FROM dbo.Detection AS d JOIN dbo.Filter AS f ON d.filterID = f.filterID
        WHERE d.objID = {objid}
        ORDER BY d.filterID, d.obsTime""").to_table()
    detections["mag"] = -2.5 * np.log10(detections["psfFlux"]) + 8.90   # the tutorial's own arithmetic
    return len(detections)


def measure(flow, proxy, url):
    proxy.reset()
    start = time.perf_counter()
    rows = flow(url)
    return time.perf_counter() - start, proxy.count, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=f"http://localhost:{sample.DEFAULT_PORT}/tap")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to each request")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    results = {"package": [], "tutorial": []}
    with FaultProxy(args.server.rsplit("/tap", 1)[0], latency=args.latency) as proxy:
        url = proxy.url + "/tap"
        package_flow(url)  # warm up imports (lightkurve) so neither flow pays for them
        for _ in range(args.repeat):
            results["package"].append(measure(package_flow, proxy, url))
            results["tutorial"].append(measure(tutorial_flow, proxy, url))
    print(f"B1: one light curve (KQ UMa) from coordinates, {args.latency * 1000:.0f} ms per request, "
          f"median of {args.repeat}")
    summary = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        requests = statistics.median(r[1] for r in runs)
        summary[name] = (wall, requests)
        print(f"  {name:9s} {wall:7.3f} s  {requests:4.0f} HTTP requests  ({runs[0][2]} measurements)")
    speedup = summary["tutorial"][0] / summary["package"][0]
    print(f"  ratio tutorial/package: {speedup:.1f}x faster, "
          f"{summary['tutorial'][1] / summary['package'][1]:.0f}x fewer requests "
          f"(targets: 1 request, >= 5x)")


if __name__ == "__main__":
    main()
