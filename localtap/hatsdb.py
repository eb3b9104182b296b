#!/usr/bin/env python3
"""Build a local HATS copy of the sample database, laid out like STScI's PS1 DR2 HATS catalogs.

    python localtap/hatsdb.py build [--root DIR] [--no-bulk]   # build or reuse; prints the path
    python localtap/hatsdb.py path  [--root DIR] [--no-bulk]   # print the path (exit 3 if not built)

The rows are the local TAP server's: ``generate.simulate()`` (the one generator) makes them in
memory, and hats-import partitions them, as STScI did for MAST's copy, into three HATS
*collections* under one root, each with a 10 arcsec margin catalog as its default margin:

* ``otmo``: ObjectThin + MeanObject (``dbo.MeanObjectView``'s columns), placed by raMean/decMean;
* ``detection``: ``dbo.Detection``, each detection placed by its own ra/dec, sorted by objID;
* ``forced_mean_object``: ObjectThin + ForcedMeanObject (``dbo.ForcedMeanObjectView``).

Columns are typed from the PS1 schema with the database types the server stores (bigint as
int64 from end to end: identifiers never pass through floating point); a column the sample
leaves NULL is a null column of its type.  Small partitions (5,000 objects, 100,000
detections) put partition boundaries inside the sample's fields, so margins matter as they do
on the real catalogs.

Idempotent, like ``server.py start``: a build is stamped with a hash of what made it (the
generator, the sample facts, the real rows, the schema, the layout, hats-import's version) and
a second run with the same stamp only prints the path.  Each stamp gets its own directory
(``<root>/<stamp>``, written under a temporary name and renamed when complete), so a rebuild
never changes files a running test is reading; the two newest builds are kept.  The last line of
stdout is the path to give ``PS1HATS_PATH``; progress and timings go to stderr.  Root: --root,
else env PS1HATS_BUILD_ROOT, else /var/tmp/ps1hats.
"""
import argparse
import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path

if __package__:                 # imported as localtap.hatsdb (repository root importable)
    from . import stamp
else:                           # run as a script: its own directory is on sys.path
    import stamp

DEFAULT_ROOT = Path("/var/tmp/ps1hats")
MARGIN_ARCSEC = 10.0
#: catalog name -> (the sample table or view its columns follow, ra column, dec column,
#: rows per partition at most)
CATALOGS = {
    "otmo": ("MeanObjectView", "raMean", "decMean", 5000),
    "detection": ("Detection", "ra", "dec", 100000),
    "forced_mean_object": ("ForcedMeanObjectView", "raMean", "decMean", 5000),
}
#: view -> the table joined with ObjectThin (columns come from ObjectThin first, as in
#: make_rd.py's views)
VIEWS = {"MeanObjectView": "MeanObject", "ForcedMeanObjectView": "ForcedMeanObject"}
ROWS_PER_INPUT_FILE = 250000


class Failure(Exception):
    """A one-line error for the user."""


def log(msg):
    print(f"[ps1hats] {msg}", file=sys.stderr, flush=True)


def choose_root(arg):
    return Path(arg or os.environ.get("PS1HATS_BUILD_ROOT") or DEFAULT_ROOT)


def stamp_value(bulk):
    """What a build holds: the generator's inputs, the layout below, the builder's version."""
    versions = []
    for package in ("hats-import", "hats"):
        try:
            versions.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    layout = repr((CATALOGS, VIEWS, MARGIN_ARCSEC))
    return stamp.digest(["generate.py", "sample.py"], [layout, *versions, f"bulk={bulk}"])[:16]


def build_path(root, bulk):
    return root / stamp_value(bulk)


def is_complete(path):
    try:
        info = json.loads((path / "stamp.json").read_text())
    except (OSError, ValueError):
        return False
    return all((path / name / "collection.properties").is_file() for name in info["catalogs"])


# ---- the rows as Arrow tables -----------------------------------------------------------------
def arrow_tables(tables, schema, bulk):
    """The catalogs' rows as pyarrow Tables typed by the schema (yields name, table)."""
    import numpy as np
    import pyarrow as pa

    if __package__:
        from .generate import PGTYPE
    else:
        from generate import PGTYPE

    def arrow_type(dbtype):
        if dbtype == "STRING":
            return pa.string()
        return pa.from_numpy_dtype(np.dtype(PGTYPE[dbtype]).newbyteorder("="))

    for name, (layout, _, _, _) in CATALOGS.items():
        other = VIEWS.get(layout)
        sources = ["ObjectThin", other] if other else [layout]
        columns, fields = [], []
        for column, _, _, _ in schema[layout]:
            source = next((s for s in sources if column in {c[0] for c in schema[s]}), None)
            if source is None:
                raise Failure(f"{layout}.{column} is in no table the sample has")
            dbtype = next(c[1] for c in schema[source] if c[0] == column)
            data, nrows = tables[source]
            kind = arrow_type(dbtype)
            if column not in data:
                values = pa.nulls(nrows, type=kind)
            elif dbtype == "STRING":
                values = pa.array(np.char.decode(np.asarray(data[column]), "ascii"), type=kind)
            else:
                array = np.broadcast_to(np.asarray(data[column]), (nrows,))
                if dbtype not in ("REAL", "DOUBLE") and array.dtype.kind == "f":
                    raise Failure(f"{source}.{column}: float data for an integer column")
                values = pa.array(array.astype(kind.to_pandas_dtype(), copy=False), type=kind)
            columns.append(values)
            fields.append(pa.field(column, kind))
        yield name, pa.Table.from_arrays(columns, schema=pa.schema(fields))


# ---- the build -------------------------------------------------------------------------------
def build(path, bulk):
    """Generate the rows, write them as Parquet and import them with hats-import into ``path``."""
    try:
        import pyarrow.parquet as pq
        from dask.distributed import Client
        from hats_import.collection.arguments import CollectionArguments
        from hats_import.pipeline import pipeline_with_client
    except ImportError as error:
        raise Failure(f"the HATS build needs the [hats] extra ({error.name} is missing): "
                      'pip install -e ".[hats]"') from None
    if __package__:
        from . import generate
    else:
        import generate

    timing = {}
    t = time.time()
    tables, _ = generate.simulate(bulk)
    schema = generate.load_schema()
    timing["generate_s"] = time.time() - t
    work = path.with_name(path.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    inputs = work / "_input"
    t = time.time()
    files, rows = {}, {}
    for name, table in arrow_tables(tables, schema, bulk):
        folder = inputs / name
        folder.mkdir(parents=True)
        pq.write_table(table.schema.empty_table(), folder / "schema.parquet")
        files[name] = []
        for k, start in enumerate(range(0, len(table), ROWS_PER_INPUT_FILE)):
            part = folder / f"part{k:03d}.parquet"
            pq.write_table(table.slice(start, ROWS_PER_INPUT_FILE), part)
            files[name].append(str(part))
        rows[name] = len(table)
    del tables
    timing["parquet_s"] = time.time() - t
    t = time.time()
    log(f"rows: {', '.join(f'{k} {v:,}' for k, v in rows.items())}; hats-import on 2 workers")
    # hats-import and dask print progress; stdout carries only the path
    with contextlib.redirect_stdout(sys.stderr), \
            Client(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                   local_directory=str(work / "_dask")) as client:
        for name, (_, ra, dec, threshold) in CATALOGS.items():
            args = (CollectionArguments(output_artifact_name=name, output_path=str(work),
                                        tmp_dir=str(work / "_tmp"), progress_bar=False,
                                        resume=False)
                    .catalog(input_file_list=files[name], file_reader="parquet",
                             use_schema_file=str(inputs / name / "schema.parquet"),
                             ra_column=ra, dec_column=dec, sort_columns="objID",
                             pixel_threshold=threshold,
                             output_artifact_name=name)
                    .add_margin(margin_threshold=MARGIN_ARCSEC, is_default=True))
            pipeline_with_client(args, client)
    timing["import_s"] = time.time() - t
    for extra in ("_input", "_dask", "_tmp"):
        shutil.rmtree(work / extra, ignore_errors=True)
    (work / "stamp.json").write_text(json.dumps(
        {"stamp": path.name, "bulk": bulk, "catalogs": list(CATALOGS), "rows": rows,
         "margin_arcsec": MARGIN_ARCSEC,
         "timing": {k: round(v, 2) for k, v in timing.items()},
         "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1))
    work.rename(path)
    return timing


def prune(root, keep):
    """Remove all but the two newest complete builds (``keep`` is one of them) and leftovers."""
    builds = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    old = [p for p in builds if p != keep][1:]
    for p in old + [p for p in root.iterdir() if p.name.endswith(".partial")]:
        shutil.rmtree(p, ignore_errors=True)


# ---- commands --------------------------------------------------------------------------------
def cmd_build(args):
    t0 = time.time()
    root = choose_root(args.root)
    bulk = not args.no_bulk
    path = build_path(root, bulk)
    if is_complete(path):
        log(f"up to date (stamp matches; checked in {time.time() - t0:.2f} s)")
        print(path)
        return 0
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_complete(path):          # another run may have built it meanwhile
            timing = build(path, bulk)
            prune(root, keep=path)
            log("built in {:.1f} s ({})".format(
                time.time() - t0, ", ".join(f"{k} {v:.1f}" for k, v in timing.items())))
    print(path)
    return 0


def cmd_path(args):
    path = build_path(choose_root(args.root), not args.no_bulk)
    print(path)
    return 0 if is_complete(path) else 3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, helptext in (("build", "build the catalogs, or reuse a build with the same stamp"),
                           ("path", "print the path of the catalogs (exit 3 if not built)")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--root", help="where builds go (default: $PS1HATS_BUILD_ROOT or "
                                      f"{DEFAULT_ROOT})")
        s.add_argument("--no-bulk", action="store_true", help="leave out the bulk field")
    args = ap.parse_args(argv)
    try:
        return {"build": cmd_build, "path": cmd_path}[args.cmd](args)
    except Failure as e:
        print(f"ps1hats: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
