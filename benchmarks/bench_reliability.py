"""B5: bounded, interruptible work — seconds from Ctrl-C to exit, seconds to fail against a
service that hangs, for two source trees side by side (e.g. main and a branch).

Each measurement runs a fresh ``python`` child with the tree on ``PYTHONPATH``; the child fetches
the detections of 40 objIDs in 20 batches (``chunk_size=2``, 4 workers) through
``tests/faultproxy.py``, which runs in this process in front of the local DaCHS:

* ``ctrl-c sync``: every sync query hangs; SIGINT is sent 2 s after the call started; the time is
  from SIGINT to the child's exit (timeout 30 s, retries 3, deadline 60 s per query);
* ``ctrl-c async``: the same with async jobs that never finish; also counts jobs left behind;
* ``hang``: every sync query hangs (timeout 2 s, retries 2, deadline 600 s); the time is from the
  call to its error.

Usage::

    python localtap/server.py start
    python benchmarks/bench_reliability.py --trees /work/main .
"""
import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from faultproxy import FaultProxy, hang, job_stuck  # noqa: E402

CHILD = """
import sys, time, numpy as np, warnings
warnings.simplefilter("ignore")
from astroquery_ps1tap import PanstarrsTapClass
server, ids, timeout, retries, deadline, async_job = sys.argv[1:7]
ids = np.array([int(i) for i in ids.split(",")], dtype=np.int64)
ps1 = PanstarrsTapClass(server=server, timeout=float(timeout), retries=int(retries),
                        deadline=float(deadline))
ps1.service.poll = 0.2
print("start", flush=True)
t0 = time.monotonic()
try:
    ps1.get_detections(ids, chunk_size=2, upload=False, max_workers=4, cache=False,
                       async_job=async_job == "1", progress=False)
except Exception as exc:
    print(f"failed {time.monotonic() - t0:.2f} {type(exc).__name__}", flush=True)
"""


def measure(tree, proxy, ids, case):
    proxy.reset()
    if case == "hang":
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        args = ("2", "2", "600", "0")
    elif case == "ctrl-c sync":
        proxy.inject(hang(), times=None, match="POST /tap/sync")
        args = ("30", "3", "60", "0")
    else:
        proxy.inject(job_stuck(), times=None, match="*/async*")
        args = ("30", "3", "60", "1")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, proxy.tap_url, ",".join(map(str, ids)), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                             cwd=tree)  # python -c puts the working directory first on sys.path
    assert child.stdout.readline().strip() == "start"
    if case == "hang":
        line = child.stdout.readline().split()
        child.wait()
        seconds = float(line[1])
    else:
        time.sleep(2)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=600)
        except subprocess.TimeoutExpired:
            child.kill()
        seconds = time.monotonic() - sent
    leaked = len(proxy.leaked_jobs)
    proxy.cleanup_jobs()
    return seconds, proxy.count, leaked


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", nargs="+", default=[str(ROOT)], help="source trees to compare")
    parser.add_argument("--server", default="http://localhost:8080")
    parser.add_argument("--cases", nargs="+", default=["ctrl-c sync", "ctrl-c async", "hang"])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from astroquery_ps1tap import PanstarrsTapClass

    ids = PanstarrsTapClass(server=args.server + "/tap").query_tap(
        "SELECT TOP 40 o.objID FROM dbo.MeanObjectView AS o ORDER BY o.objID", cache=False)["objID"]
    print(f"{'case':<14} {'tree':<32} {'seconds':>8} {'requests':>9} {'jobs left':>9}")
    with FaultProxy(args.server) as proxy:
        for case in args.cases:
            for tree in args.trees:
                seconds, requests, leaked = measure(Path(tree).resolve(), proxy, list(ids), case)
                print(f"{case:<14} {str(tree):<32} {seconds:8.1f} {requests:9d} {leaked:9d}", flush=True)


if __name__ == "__main__":
    main()
