"""B5: per-object summaries of 10^3, 10^4, 10^5 objects — HATS, the pyarrow floor, and TAP.

Side by side in one run, for each N:

* **hats-sync**: `astroquery_ps1tap.bulk.bulk_summaries` on the big PS1-like HATS catalog
  (``benchmarks/make_big_hats.py``), Dask's synchronous scheduler, streamed to Parquet;
* **hats-2w**: the same on a 2-worker ``LocalCluster`` (one thread each);
* **floor**: pyarrow reading only the columns the summaries need, of the same Parquet files, for
  the same objects (``objID in ids`` pushed down to the reader): what reading the data costs,
  before any join or arithmetic;
* **tap**: the TAP path against the local DaCHS server through ``tests/faultproxy.py`` with MAST's
  limits (50 ms per request, at most 5 queries at once, 100,000 rows per query).  The local
  server holds the sample database, not the big catalog: its bulk field's objects have the same
  ~92 detections each, so the TAP figures are per object of the same size.  It has 12,000 such
  objects: N above that, or a run longer than ``--tap-limit`` seconds (15 min), is extrapolated
  from the largest N measured, and the line says so.

Each measurement runs in a fresh process (imports and Numba compilation paid in a warm-up on 200
other objects first, not timed); peak memory is the highest resident set of that process and its
children (the Dask workers), sampled every 50 ms during the timed run.  Before each measurement
every file of the catalogs is read once, so that every mode starts from the same (warm) page
cache.

Lines start with ``B5``.  Targets: time per object flat or falling from 10^3 to 10^5; peak memory
flat in N; at 10^5 within 2x the floor and at least 20x faster than TAP.

Usage::

    python benchmarks/make_big_hats.py                # once (see its docstring for the time)
    python benchmarks/bench_bulk.py [--catalog /var/tmp/ps1tap_big_hats] [--n 1000 10000 100000]
        [--server http://localhost:8080/tap] [--modes hats-sync hats-2w floor tap]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402

DEFAULT_CATALOG = Path("/var/tmp/ps1tap_big_hats")
COLUMNS = ["objID", "filterID", "obsTime", "psfFlux", "psfFluxErr", "psfQfPerfect"]
WARM_UP = 200
MODES = ("hats-sync", "hats-2w", "floor", "tap")


class PeakMemory:
    """Highest RSS of this process plus its children, sampled in a thread."""

    def __init__(self, interval=0.05):
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def sample(self):
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # a worker that just exited
                pass
        self.peak = max(self.peak, total)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def pick_ids(catalog, n, seed):
    """``n`` objIDs of the big catalog, drawn at random (fixed seed), and ``WARM_UP`` others."""
    import pyarrow.parquet as pq

    files = sorted((catalog / "_input" / "otmo").glob("*.parquet"))
    ids = np.concatenate([pq.read_table(f, columns=["objID"])["objID"].to_numpy() for f in files])
    chosen = np.random.default_rng(seed).permutation(ids)
    return chosen[:n], chosen[-WARM_UP:]


def tap_ids(server, n):
    """``n`` objIDs of the sample's bulk field (and a warm-up set), from the server."""
    import pyvo
    from localtap import sample

    rows = pyvo.dal.TAPService(server).run_sync(
        f"SELECT o.objID FROM dbo.MeanObjectView AS o WHERE CONTAINS(POINT('ICRS', o.raMean, "
        f"o.decMean), CIRCLE('ICRS', {sample.BULK_RA}, {sample.BULK_DEC}, {sample.BULK_RADIUS})) = 1",
        maxrec=100000).to_table()
    ids = np.random.default_rng(1).permutation(np.asarray(rows["objID"], dtype=np.int64))
    return ids[:n], ids[-WARM_UP:]


def run_one(mode, n, args):
    """One timed measurement (in this process); returns a dict of figures."""
    warnings.simplefilter("ignore")
    from astroquery_ps1tap import bulk

    out = Path(tempfile.mkdtemp(prefix="b5-"))
    if mode == "tap":
        from astroquery_ps1tap import PanstarrsTapClass
        from faultproxy import FaultProxy

        ids, warm = tap_ids(args.server, n)
        with FaultProxy(args.server.rsplit("/tap", 1)[0], latency=args.latency) as proxy:
            client = PanstarrsTapClass(server=proxy.url + "/tap")
            bulk.bulk_summaries(client, warm, progress=False, cache=False, max_workers=5)
            proxy.reset()
            with PeakMemory() as memory:
                start = time.perf_counter()
                result = bulk.bulk_summaries(client, ids, output=out / "s.parquet", progress=False,
                                             cache=False, max_workers=5)
                wall = time.perf_counter() - start
            return {"wall": wall, "peak": memory.peak, "objects": result.n_objects,
                    "requests": proxy.count, "n": len(ids)}
    catalog = Path(args.catalog)
    ids, warm = pick_ids(catalog, n, seed=n)
    if mode == "floor":
        import pyarrow.dataset as ds

        files = sorted(str(p) for p in (catalog / "detection" / "detection" / "dataset").rglob("*.parquet"))
        dataset = ds.dataset(files, format="parquet")
        dataset.to_table(columns=COLUMNS, filter=ds.field("objID").isin(warm))
        with PeakMemory() as memory:
            start = time.perf_counter()
            table = dataset.to_table(columns=COLUMNS, filter=ds.field("objID").isin(ids))
            wall = time.perf_counter() - start
        return {"wall": wall, "peak": memory.peak, "rows": table.num_rows,
                "objects": len(np.unique(table["objID"].to_numpy())), "n": len(ids)}
    root = bulk._HatsRoot(catalog)
    options = {}
    cluster = None
    if mode == "hats-2w":
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, memory_limit="8GiB")
        options["dask_client"] = Client(cluster)
    try:
        bulk.bulk_summaries(root, warm, progress=False, **options)
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = bulk.bulk_summaries(root, ids, output=out / "s.parquet", progress=False, **options)
            wall = time.perf_counter() - start
    finally:
        if cluster is not None:
            options["dask_client"].close()
            cluster.close()
    return {"wall": wall, "peak": memory.peak, "objects": result.n_objects, "n": len(ids),
            "unmatched": len(result.unmatched)}


def warm_page_cache(catalog):
    """Read every file of the catalogs once, so that each measurement starts from the same
    operating-system page cache (all of it there: 2.7 GB without the generator's inputs)
    whatever ran before it; otherwise the first mode measured pays the disk for the others."""
    for path in sorted(Path(catalog).rglob("*.parquet")):
        if "_input" in path.parts:
            continue
        with open(path, "rb") as file:
            while file.read(1 << 24):
                pass


def measure(mode, n, args):
    """Run `run_one` in a fresh interpreter, the page cache warmed first; returns its figures."""
    if mode != "tap":
        warm_page_cache(args.catalog)
    command = [sys.executable, __file__, "--one", mode, str(n), "--catalog", str(args.catalog),
               "--server", args.server, "--latency", str(args.latency)]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(f"{mode} N={n} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--server", default="http://localhost:8080/tap")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--tap-limit", type=float, default=900.0,
                        help="extrapolate TAP beyond a run this long (s), or beyond 12,000 objects")
    parser.add_argument("--one", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args)))
        return
    manifest = json.loads((args.catalog / "manifest.json").read_text())
    print(f"B5 catalog: {manifest['objects']:,} objects, {manifest['detections']:,} detections "
          f"(built in {manifest['timing']['total']:.0f} s); TAP: local server via a "
          f"{args.latency * 1000:.0f} ms proxy, 5 queries at once, 100,000 rows per query")
    figures = {}
    tap_rate = None
    for n in args.n:
        for mode in args.modes:
            if mode == "tap" and (n > 12000 or (tap_rate is not None and tap_rate * n > args.tap_limit)):
                figures[(mode, n)] = {"wall": tap_rate * n, "peak": float("nan"), "extrapolated": True,
                                      "n": n, "objects": n}
            else:
                figures[(mode, n)] = measure(mode, n, args)
                if mode == "tap":
                    tap_rate = figures[(mode, n)]["wall"] / n
            f = figures[(mode, n)]
            note = " (extrapolated from the largest measured N)" if f.get("extrapolated") else ""
            print(f"B5 {mode:9s} N={n:>6d}: {f['wall']:8.2f} s  {f['wall'] / n * 1e3:7.3f} ms/object  "
                  f"peak {f['peak'] / 2**20:7.0f} MiB  ({f.get('objects')} objects){note}", flush=True)
        if ("floor", n) in figures:
            floor = figures[("floor", n)]["wall"]
            for mode in ("hats-sync", "hats-2w"):
                if (mode, n) in figures:
                    wall = figures[(mode, n)]["wall"]
                    tap = figures.get(("tap", n))
                    faster = f", {tap['wall'] / wall:.1f}x faster than TAP" if tap else ""
                    print(f"B5 ratio  N={n:>6d} {mode}: {wall / floor:.2f}x the pyarrow floor "
                          f"(target <= 2x at 1e5){faster} (target >= 20x at 1e5)", flush=True)
    for mode in ("hats-sync", "hats-2w"):
        measured = [(n, figures[(mode, n)]) for n in args.n if (mode, n) in figures]
        if len(measured) > 1:
            (n0, f0), (n1, f1) = measured[0], measured[-1]
            print(f"B5 scaling {mode}: time per object {f0['wall'] / n0 * 1e3:.3f} -> "
                  f"{f1['wall'] / n1 * 1e3:.3f} ms from N={n0} to N={n1} (target: flat or falling); "
                  f"peak memory {f0['peak'] / 2**20:.0f} -> {f1['peak'] / 2**20:.0f} MiB (target: flat)")
    if args.json:
        args.json.write_text(json.dumps({f"{m} {n}": f for (m, n), f in figures.items()}, indent=1))


if __name__ == "__main__":
    main()
