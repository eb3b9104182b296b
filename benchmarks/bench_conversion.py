"""B3: split 1,000,000 PS1 detections of 10,000 objects into per-object light curves.

Run: ``python benchmarks/bench_conversion.py [--rows 1000000] [--objects 10000]``

Times, side by side in one run on the same synthetic (deterministic) table:

* ``to_lightcurves_by_object`` — the lazy split (one lexsort, index boundaries, nothing built);
* (a) a per-object boolean-mask loop (``ids == objid`` for every object), the naive way;
* (b) plain numpy sort-and-split (``np.argsort(objID, kind="stable")`` +
  ``np.flatnonzero(np.diff)`` + ``np.split``), the floor any grouping must pay; and the same
  with ``np.lexsort`` on objID, filterID, obsTime (a full sort that the lazy split does not
  need: each object's few dozen rows are sorted when it is built);
* materialising the collections of 100 objects from the lazy mapping (~5 light curves each).

Targets: lazy split >= 10x faster than (a) and within 2x of (b).  The table arrives shuffled
(as a service result in no particular order) and is also timed already in canonical order (as
`~astroquery_ps1tap.tables.shape_detections` returns it: the sort is then skipped).
No assertions: this prints figures.
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from astropy.table import Table  # noqa: E402

from astroquery_ps1tap import schema, tables  # noqa: E402
from astroquery_ps1tap.lightcurves import PS1LightCurveWarning, to_lightcurves_by_object  # noqa


def synthetic_detections(n_rows, n_objects, seed=42):
    """A raw detections table: ~n_rows/n_objects epochs per object over five filters."""
    rng = np.random.default_rng(seed)
    objids = np.unique(rng.integers(10**17, 2 * 10**17, n_objects + 100, dtype=np.int64))
    objids = np.sort(rng.permutation(objids)[:n_objects])    # distinct 18-digit ids
    obj = rng.integers(0, n_objects, n_rows)
    mag = rng.uniform(14, 21, n_objects)[obj] + rng.normal(0, 0.05, n_rows)
    flux = schema.mag_to_flux(mag)
    return Table({
        "objID": objids[obj],
        "detectID": np.arange(n_rows, dtype=np.int64) + 10**17,
        "filterID": rng.integers(1, 6, n_rows),
        "obsTime": rng.uniform(55200, 57000, n_rows),
        "ra": rng.uniform(0, 360, n_objects)[obj], "dec": rng.uniform(-30, 90, n_objects)[obj],
        "psfFlux": flux, "psfFluxErr": flux * 0.02,
        "psfQfPerfect": np.where(rng.random(n_rows) < 0.03, 0.5, 0.999),
        "infoFlag": np.full(n_rows, 0x6200045, dtype=np.int64),
    })


def best_of(func, repeat):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def mask_loop(ids):
    groups = {}
    for objid in np.unique(ids):
        groups[objid] = np.flatnonzero(ids == objid)
    return groups


def sort_and_split(ids):
    """The floor: group rows by objID with one stable sort and one split."""
    order = np.argsort(ids, kind="stable")
    cuts = np.flatnonzero(np.diff(ids[order])) + 1
    return np.split(order, cuts)


def sort_and_boundaries(ids):
    """The floor without materialising 10,000 index arrays: sort, then the boundaries."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    cuts = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
    return order, cuts


def lexsort_and_split(ids, bands, times):
    """Sort by objID, filterID, obsTime at once (what the client-stack note measured)."""
    order = np.lexsort((times, bands, ids))
    cuts = np.flatnonzero(np.diff(ids[order])) + 1
    return np.split(order, cuts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--materialise", type=int, default=100)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    raw = synthetic_detections(args.rows, args.objects)
    t_make = time.perf_counter() - start
    start = time.perf_counter()
    canonical = tables.shape_detections(raw)          # sorted by objID, filterID, obsTime
    t_shape = time.perf_counter() - start
    shuffled = canonical[np.random.default_rng(1).permutation(len(canonical))]
    shuffled.meta["PHOTOMETRY"] = "detection"
    ids = np.ma.getdata(shuffled["objID"])
    bands = np.ma.getdata(shuffled["filterID"])
    times = np.ma.getdata(shuffled["obsTime"])
    n_groups = len(np.unique(ids * 8 + bands))

    print(f"{args.rows:,} detections of {args.objects:,} objects "
          f"({n_groups:,} object x filter groups); synthesis {t_make:.2f} s, "
          f"shape_detections {t_shape:.2f} s (not in the figures below)")

    t_lazy, by_object = best_of(lambda: to_lightcurves_by_object(shuffled), 3)
    t_lazy_sorted, _ = best_of(lambda: to_lightcurves_by_object(canonical), 3)
    t_floor, groups = best_of(lambda: sort_and_split(ids), 3)
    t_bounds, _ = best_of(lambda: sort_and_boundaries(ids), 3)
    t_lex, _ = best_of(lambda: lexsort_and_split(ids, bands, times), 3)
    t_mask, mask_groups = best_of(lambda: mask_loop(ids), 1)
    assert len(by_object) == len(groups) == len(mask_groups)

    keys = list(by_object)[:args.materialise]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PS1LightCurveWarning)
        by_object[keys[0]]                              # first access pays lightkurve's import
        start = time.perf_counter()
        built = [by_object[k] for k in keys]
        t_build = time.perf_counter() - start
    n_curves = sum(len(c) for c in built)

    rows = [
        ("lazy split, shuffled input (to_lightcurves_by_object)", t_lazy),
        ("lazy split, canonical input (sort skipped)", t_lazy_sorted),
        ("(b) numpy argsort(objID) + split (floor)", t_floor),
        ("    numpy argsort(objID) + boundaries, no split", t_bounds),
        ("    numpy lexsort(objID, filterID, obsTime) + split", t_lex),
        ("(a) boolean mask per object", t_mask),
    ]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"  {name:<{width}}  {seconds:8.3f} s")
    print(f"  {'materialise ' + str(len(keys)) + ' objects (' + str(n_curves) + ' light curves)':<{width}}"
          f"  {t_build:8.3f} s  ({1000 * t_build / len(keys):.1f} ms/object, "
          f"{1000 * t_build / n_curves:.2f} ms/curve)")
    print(f"ratios: mask loop / lazy = {t_mask / t_lazy:.1f}x (target >= 10x); "
          f"lazy / numpy floor = {t_lazy / t_floor:.2f}x, "
          f"/ sort+boundaries = {t_lazy / t_bounds:.2f}x (target <= 2x); "
          f"eager estimate for all {args.objects:,} objects = "
          f"{t_build / len(keys) * args.objects:.0f} s")


if __name__ == "__main__":
    main()
