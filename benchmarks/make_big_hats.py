"""B5 data: a PS1-like HATS catalog big enough for per-object summaries at scale.

Builds, under ``--out`` (default ``/var/tmp/ps1tap_big_hats``; never inside the repository), the
same layout as STScI's PS1 DR2 HATS root and the project's local HATS copy:

* ``otmo/``: a HATS collection of objects (``objID``, ``raMean``, ``decMean``, ``nDetections``,
  ``ng``..``ny`` and the per-band mean PSF magnitudes, their errors, scatters and point counts),
  with its default 10 arcsec margin catalog;
* ``detection/``: a HATS collection of every single-epoch detection on all 58 columns of
  ``dbo.Detection`` (types from the package's schema), positioned by each detection's own ra/dec
  and imported with ``sort_columns="objID"`` as in STScI's build (hats-import then writes each
  partition in spatial-index order, ``_healpix_29``, with objID breaking ties: each object's
  detections mostly come together, not in objID order), with its default 10 arcsec margin
  catalog.

The sky is ``--fields`` fields (0.5 deg cones spread over the 3pi sky) of ``--objects-per-field``
objects each.  Cadence, magnitudes, colours, detection probabilities, flux errors, psfQfPerfect and
every other column come from the local sample's generator (``localtap/generate.py``, imported, not
copied): each field has PS1's visit pairs on its observable nights over four years (450 warps:
100 g, 100 r, 110 i, 100 z, 40 y), like the sample's bulk field.  The defaults give 200,000 objects
and 18.3 million detections (the bulk field's 91.7 per object).  Deterministic (fixed seeds).

The build is timed (generation, Parquet writing, hats-import of each collection) and the figures
go to standard output and to ``OUT/manifest.json``.  A second run with the same arguments finds
the manifest and does nothing (``--force`` rebuilds).

Usage::

    python benchmarks/make_big_hats.py [--out /var/tmp/ps1tap_big_hats] [--fields 20]
        [--objects-per-field 10000] [--workers 2] [--force]
"""
import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "localtap")]

import numpy as np  # noqa: E402

import generate  # noqa: E402  (localtap/generate.py: the sample's cadence and photometry models)
import sample  # noqa: E402
from astroquery_ps1tap import schema  # noqa: E402

DEFAULT_OUT = Path("/var/tmp/ps1tap_big_hats")
#: Warps per filter in each field (the sample's bulk field: 450 in all).
N_EXPOSURES = np.array([100, 100, 110, 100, 40])
FIELD_RADIUS = 0.5            # deg
#: Detections per object, as in the sample's bulk field (PS1 3pi: ~75 in the five filters).
DETECTIONS_PER_OBJECT = sample.BULK_N_DETECTIONS / sample.BULK_N_OBJECTS
MARGIN_ARCSEC = 10.0          # as STScI's default margins
#: Rows per HATS partition at most: STScI's detection catalog has ~0.9 M rows per partition.
DETECTION_PIXEL_THRESHOLD = 1_000_000
OBJECT_PIXEL_THRESHOLD = 50_000
OTMO_BAND_COLUMNS = ("MeanPSFMag", "MeanPSFMagErr", "MeanPSFMagStd", "MeanPSFMagNpt")


def field_centres(n):
    """``n`` field centres spread evenly (a Fibonacci spiral) over Dec > -28 deg (PS1's 3pi)."""
    k = np.arange(n) + 0.5
    lo = np.sin(np.radians(-28.0))
    z = lo + (1.0 - lo) * k / n
    ra = np.degrees(np.pi * (1 + 5**0.5) * k) % 360.0
    dec = np.degrees(np.arcsin(z))
    return ra, np.clip(dec, -27.0, 85.0)


def dtypes(table):
    """``{column: numpy dtype}`` of a PS1 table, from the package's schema."""
    return {c.name: np.dtype(schema.NUMPY_TYPES[c.dbtype]) for c in schema.columns(table)}


def make_field(k, ra0, dec0, n_objects, first_detection):
    """One field's objects and detections (dicts of arrays), from the sample generator's models."""
    rng = np.random.default_rng(5000 + k)
    exposures = generate.Exposures(rng, ra0, N_EXPOSURES)
    ra, dec = generate.random_in_annulus(rng, n_objects, ra0, dec0, 0.0, FIELD_RADIUS)
    r = generate.draw_mags(rng, n_objects, bright=13.0, faint=23.0, slope=0.22, m50=22.0)
    mags, gal = generate.draw_colours(rng, n_objects, r)
    counts = generate.detection_counts(rng, mags, N_EXPOSURES, pmax=0.85)
    counts[counts.sum(1) < 2, 1] = 2
    generate.force_total(rng, counts, N_EXPOSURES, round(n_objects * DETECTIONS_PER_OBJECT))
    objid = generate.objid_for(ra, dec)
    oi, ei = generate.assign_epochs(rng, counts, exposures)
    det = generate.detection_rows(rng, objid, ra, dec, oi, exposures, ei, mags, gal)
    nd = len(oi)
    code = np.round((det["obsTime"] - 40000.0) * 1e5).astype(np.int64)
    running = first_detection + np.arange(nd, dtype=np.int64)
    det["detectID"] = code * 10**8 + running % 10**8
    det["ippDetectID"] = running + 7 * 10**9
    det["uniquePspsP2id"] = running + 10**12
    ipp = (np.arange(n_objects, dtype=np.int64) + k * n_objects) * 13 + 4 * 10**11
    det["ippObjID"] = ipp[oi]

    # per object and filter statistics of the detections, as the sample's MeanObject
    band = det["filterID"].astype(np.int64) - 1
    key = oi * 5 + band
    flux = det["psfFlux"]
    mag = np.where(flux > 0, generate.mag_of(np.maximum(flux, 1e-30)), np.nan)
    ok = np.isfinite(mag)
    cnt, mean, std, _, _ = generate.group_stats(key[ok], n_objects * 5, mag[ok])
    has = cnt > 0
    npt = np.bincount(key, minlength=n_objects * 5)
    otmo = {"objID": objid, "raMean": ra, "decMean": dec,
            "nDetections": counts.sum(1).astype(np.int16)}
    for i, b in enumerate(generate.BANDS):
        otmo["n" + b] = counts[:, i].astype(np.int16)
    per_band = {"MeanPSFMag": np.where(has, mean, -999.0),
                "MeanPSFMagErr": np.where(has, std / np.sqrt(np.maximum(cnt, 1)), -999.0),
                "MeanPSFMagStd": np.where(has, std, -999.0), "MeanPSFMagNpt": npt}
    for suffix in OTMO_BAND_COLUMNS:
        values = per_band[suffix].reshape(n_objects, 5)
        for i, b in enumerate(generate.BANDS):
            otmo[b + suffix] = values[:, i]
    return otmo, det


def write_parquet(columns, types, path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [name for name in types if name in columns]
    missing = sorted(set(types) - set(names))
    if missing:
        raise RuntimeError(f"the generator gave no {', '.join(missing)} for {path.name}")
    arrays = [pa.array(np.asarray(columns[name]).astype(types[name], copy=False)) for name in names]
    pq.write_table(pa.Table.from_arrays(arrays, names=names), path, compression="snappy")


def generate_inputs(inputs, n_fields, n_per_field):
    """Write one Parquet file per field and table; return (objects, detections, seconds)."""
    det_types = dtypes("detection")
    mean_types = dtypes("mean")
    obj_names = ["objID", "raMean", "decMean", "nDetections"] + [f"n{b}" for b in generate.BANDS] + [
        b + s for s in OTMO_BAND_COLUMNS for b in generate.BANDS]
    obj_types = {name: mean_types.get(name) or dtypes("dbo.ObjectThin")[name] for name in obj_names}
    for sub in ("otmo", "detection"):
        (inputs / sub).mkdir(parents=True, exist_ok=True)
    ras, decs = field_centres(n_fields)
    n_obj = n_det = 0
    seen = []
    start = time.perf_counter()
    for k, (ra0, dec0) in enumerate(zip(ras, decs)):
        otmo, det = make_field(k, ra0, dec0, n_per_field, n_det)
        seen.append(otmo["objID"])
        write_parquet(otmo, obj_types, inputs / "otmo" / f"field{k:03d}.parquet")
        write_parquet(det, det_types, inputs / "detection" / f"field{k:03d}.parquet")
        n_obj += len(otmo["objID"])
        n_det += len(det["objID"])
        print(f"  field {k + 1}/{n_fields} at ({ra0:.2f}, {dec0:+.2f}): {n_det:,} detections so far",
              flush=True)
    if len(np.unique(np.concatenate(seen))) != n_obj:
        raise RuntimeError("objID collision between fields")
    return n_obj, n_det, time.perf_counter() - start


def import_collection(client, out, name, inputs, ra_column, dec_column, threshold, sort_columns,
                      catalog_type):
    from hats_import import CollectionArguments, pipeline_with_client

    args = (CollectionArguments(output_artifact_name=name, output_path=out, tmp_dir=out / "_tmp",
                                progress_bar=False, resume=False)
            .catalog(input_file_list=sorted(str(p) for p in inputs.glob("*.parquet")),
                     file_reader="parquet", ra_column=ra_column, dec_column=dec_column,
                     pixel_threshold=threshold, catalog_type=catalog_type,
                     sort_columns=sort_columns, output_artifact_name=name)
            .add_margin(margin_threshold=MARGIN_ARCSEC, is_default=True))
    start = time.perf_counter()
    pipeline_with_client(args, client)
    return time.perf_counter() - start


def build(out, n_fields, n_per_field, workers):
    from dask.distributed import Client, LocalCluster

    inputs = out / "_input"
    print(f"generating {n_fields} fields of {n_per_field:,} objects into {inputs}", flush=True)
    n_obj, n_det, t_gen = generate_inputs(inputs, n_fields, n_per_field)
    print(f"generated {n_obj:,} objects and {n_det:,} detections in {t_gen:.1f} s", flush=True)
    timing = {"generate_and_write_parquet": t_gen}
    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit="6GiB",
                      local_directory=str(out / "_dask")) as cluster, Client(cluster) as client:
        timing["import_otmo"] = import_collection(
            client, out, "otmo", inputs / "otmo", "raMean", "decMean", OBJECT_PIXEL_THRESHOLD,
            None, "object")
        print(f"otmo imported in {timing['import_otmo']:.1f} s", flush=True)
        timing["import_detection"] = import_collection(
            client, out, "detection", inputs / "detection", "ra", "dec", DETECTION_PIXEL_THRESHOLD,
            "objID", "source")
        print(f"detection imported in {timing['import_detection']:.1f} s", flush=True)
    shutil.rmtree(out / "_dask", ignore_errors=True)
    shutil.rmtree(out / "_tmp", ignore_errors=True)
    return n_obj, n_det, timing


def disk_usage(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--fields", type=int, default=20)
    parser.add_argument("--objects-per-field", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers for hats-import")
    parser.add_argument("--force", action="store_true", help="rebuild even if the manifest matches")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if ROOT in out.parents or out == ROOT:
        parser.error("--out must be outside the repository (the catalog is gigabytes)")
    manifest_path = out / "manifest.json"
    wanted = {"fields": args.fields, "objects_per_field": args.objects_per_field,
              "generator": "make_big_hats 1"}
    if manifest_path.exists() and not args.force:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("parameters") == wanted:
            print(f"{out} already holds this catalog (built in {manifest['timing']['total']:.0f} s): "
                  f"{manifest['objects']:,} objects, {manifest['detections']:,} detections")
            return 0
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    start = time.perf_counter()
    n_obj, n_det, timing = build(out, args.fields, args.objects_per_field, args.workers)
    timing["total"] = time.perf_counter() - start
    sizes = {name: disk_usage(out / name) for name in ("otmo", "detection", "_input")}
    manifest = {"parameters": wanted, "objects": n_obj, "detections": n_det, "timing": timing,
                "bytes": sizes, "workers": args.workers}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    print(f"B5 build: {n_obj:,} objects, {n_det:,} detections; "
          f"generate+write {timing['generate_and_write_parquet']:.0f} s, "
          f"hats-import otmo {timing['import_otmo']:.0f} s, detection {timing['import_detection']:.0f} s, "
          f"total {timing['total']:.0f} s on {args.workers} workers; HATS on disk: otmo "
          f"{sizes['otmo'] / 1e6:.0f} MB, detection {sizes['detection'] / 1e9:.2f} GB ({out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
