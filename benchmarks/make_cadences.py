"""Extract PS1-like cadences from the local sample database for the period simulations.

Writes ``astroquery_ps1tap/data/ps1_cadences.npz``: the (obsTime, filterID) patterns of good
detections (``psfQfPerfect >= 0.9``) of

* the tutorial's three stars (real PS1 3π epochs: KQ UMa, KIC 2161623, KIC 8153568), and
* ``--n`` objects of the sample's bulk field with 50–110 detections (the 3π range), chosen at
  random (seed 11) — epochs drawn by ``localtap/generate.py`` from the field's visit pairs on
  observable nights over ~5 years, each object detected on a magnitude-dependent subset.

Run once, with the local server up (``python localtap/server.py start``)::

    python benchmarks/make_cadences.py --server http://localhost:8080/tap
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import pyvo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from localtap import sample  # noqa: E402

OUT = ROOT / "astroquery_ps1tap" / "data" / "ps1_cadences.npz"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://localhost:8080/tap")
    parser.add_argument("--n", type=int, default=300, help="bulk-field objects")
    args = parser.parse_args()
    tap = pyvo.dal.TAPService(args.server)
    mean = tap.run_sync("SELECT objID FROM dbo.MeanObjectView WHERE nDetections BETWEEN 50 AND 110",
                        maxrec=200000).to_table()
    ids = np.sort(np.asarray(mean[mean.colnames[0]], dtype=np.int64))
    bulk = np.random.default_rng(11).choice(ids, min(args.n, len(ids)), replace=False)
    wanted = [star.objid for star in sample.STARS] + sorted(int(i) for i in bulk)
    rows = []
    for start in range(0, len(wanted), 100):
        chunk = ", ".join(str(i) for i in wanted[start:start + 100])
        rows.append(tap.run_sync(
            f"SELECT objID, obsTime, filterID FROM dbo.Detection WHERE objID IN ({chunk}) "
            "AND psfQfPerfect >= 0.9 AND psfFlux > 0", maxrec=200000).to_table())
    objid = np.concatenate([np.asarray(r[r.colnames[0]], dtype=np.int64) for r in rows])
    time = np.concatenate([np.asarray(r[r.colnames[1]], dtype=float) for r in rows])
    fid = np.concatenate([np.asarray(r[r.colnames[2]], dtype=np.int8) for r in rows])
    rank = {o: k for k, o in enumerate(wanted)}
    order = np.lexsort((time, [rank[int(o)] for o in objid]))
    objid, time, fid = objid[order], time[order], fid[order]
    cuts = np.flatnonzero(objid[1:] != objid[:-1]) + 1
    starts = np.r_[0, cuts, len(objid)].astype(np.int32)
    np.savez_compressed(OUT, time=time, filter_id=fid, starts=starts,
                        objid=objid[starts[:-1]], n_real=np.int32(len(sample.STARS)))
    counts = np.diff(starts)
    print(f"{len(starts) - 1} cadences, {len(time)} epochs (median {int(np.median(counts))} per "
          f"object, {counts.min()}-{counts.max()}) -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
