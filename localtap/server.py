#!/usr/bin/env python3
"""Run a real TAP service (GAVO DaCHS) on loopback with a PS1-DR2-shaped sample database.

    python localtap/server.py start [--port N] [--no-bulk]   # install, load, serve; prints URL
    python localtap/server.py stop                           # stop the DaCHS server (by PID)
    python localtap/server.py status                         # what is installed / loaded / up
    python localtap/server.py url [--port N]                 # print the TAP URL

``start`` does everything a fresh Debian machine needs (as root): installs PostgreSQL's
pgsphere and q3c and DaCHS from Debian, starts the PostgreSQL cluster, writes /etc/gavo.rc,
generates the sample data, imports it and starts the server.  It is idempotent: when nothing
changed and the server is up it only prints the URL.  The last line of stdout is the TAP URL;
progress and timings go to stderr.  Errors are one line on stderr and a non-zero exit code.
Port: --port, else env PS1TAP_LOCAL_PORT, else 8080.
"""
import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

if __package__:                 # imported as localtap.server (repository root importable)
    from . import generate, make_rd, stamp
else:                           # run as a script: its own directory is on sys.path
    import generate
    import make_rd
    import stamp

HERE = Path(__file__).resolve().parent

PG_VERSION = "15"
PG_CLUSTER = "main"
PACKAGES_PG = [f"postgresql-{PG_VERSION}-pgsphere", f"postgresql-{PG_VERSION}-q3c"]
PACKAGE_DACHS = "gavodachs2-server"
GAVO_RC = Path("/etc/gavo.rc")
GAVO_ROOT = Path("/var/gavo")
INPUTS = GAVO_ROOT / "inputs"
RD_DIR = INPUTS / "ps1dr2"
PUB_DIR = INPUTS / "ps1dr2pub"
DATA_DIR = RD_DIR / "data"
STAMP = RD_DIR / "stamp.json"
PIDFILE = GAVO_ROOT / "state" / "web.pid"
LOCK = Path("/tmp/ps1tap-localtap.lock")
DACHS_USER = "dachsroot"
MAXREC = 100000
STAMPED_FILES = ["generate.py", "make_rd.py", "sample.py"]


class Failure(Exception):
    """A one-line error for the user."""


def log(msg):
    print(f"[localtap] {msg}", file=sys.stderr, flush=True)


def run(cmd, check=True, quiet=True, env=None, timeout=None):
    """Run a command; returns CompletedProcess (stdout+stderr captured as text)."""
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=e,
                       timeout=timeout)
    if not quiet and p.stdout:
        sys.stderr.write(p.stdout)
    if check and p.returncode != 0:
        tail = " | ".join(line.strip() for line in p.stdout.strip().splitlines()[-3:])
        raise Failure(f"command failed ({p.returncode}): {' '.join(cmd)}: {tail}")
    return p


def tap_url(port):
    return f"http://localhost:{port}/tap"


def choose_port(arg):
    if arg:
        return int(arg)
    env = os.environ.get("PS1TAP_LOCAL_PORT")
    if env:
        try:
            return int(env)
        except ValueError:
            raise Failure(f"PS1TAP_LOCAL_PORT={env!r} is not a port number")
    return 8080


# ---- Debian packages -------------------------------------------------------------------------
def dpkg_status(pkg):
    """'installed', 'half' (unpacked / half-configured), or None."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    if p.returncode != 0:
        return None
    status = p.stdout.split()
    if status[-1:] == ["installed"] and status[0] == "install":
        return "installed"
    if status[-1:] in (["not-installed"], ["config-files"]):
        return None
    return "half"


def apt_lists_present():
    lists = Path("/var/lib/apt/lists")
    return lists.is_dir() and any(p.name.endswith("Packages") or "Packages" in p.name
                                  for p in lists.iterdir())


APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def apt_install(pkgs):
    pkgs = [p for p in pkgs if dpkg_status(p) != "installed"]
    if not pkgs:
        return
    if not apt_lists_present():
        log("apt-get update (no package lists yet)")
        run(["apt-get", "update"], env=APT_ENV)
    for attempt in (1, 2):
        t = time.time()
        log(f"apt-get install {' '.join(pkgs)}")
        p = run(["apt-get", "install", "-y", "--no-install-recommends"] + pkgs, check=False,
                env=APT_ENV)
        if p.returncode == 0:
            log(f"installed {' '.join(pkgs)} in {time.time() - t:.1f} s")
            return
        out = p.stdout
        if attempt == 1 and ("Unable to locate package" in out or "404" in out
                             or "has no installation candidate" in out):
            log("apt-get update (package lists out of date)")
            run(["apt-get", "update"], env=APT_ENV)
            continue
        bad = [q for q in pkgs
               if "Unable to locate package " + q in out or "Package " + q in out]
        names = ", ".join(bad or pkgs)
        last = " | ".join(line.strip() for line in out.strip().splitlines()[-2:])
        raise Failure(f"Debian package {names} would not install (apt-get exit "
                      f"{p.returncode}): {last}")


# ---- PostgreSQL --------------------------------------------------------------------------------
def cluster_state():
    """'online', 'down', or None if the cluster does not exist."""
    if not shutil.which("pg_lsclusters"):
        return None
    p = run(["pg_lsclusters", "-h"], check=False)
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == PG_VERSION and f[1] == PG_CLUSTER:
            return "online" if f[3].startswith("online") else "down"
    return None


def ensure_cluster():
    state = cluster_state()
    if state == "online":
        return
    if state is None:
        if dpkg_status(f"postgresql-{PG_VERSION}") != "installed":
            apt_install([f"postgresql-{PG_VERSION}"])
        if cluster_state() is None:
            log(f"creating PostgreSQL cluster {PG_VERSION}/{PG_CLUSTER}")
            run(["pg_createcluster", PG_VERSION, PG_CLUSTER])
        if cluster_state() == "online":
            return
    log(f"starting PostgreSQL {PG_VERSION}/{PG_CLUSTER}")
    p = run(["pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start"], check=False)
    if cluster_state() != "online":
        msg = " | ".join(p.stdout.strip().splitlines()[-2:])
        raise Failure(f"PostgreSQL {PG_VERSION}/{PG_CLUSTER} is down and would not start: {msg}")


def ensure_packages():
    apt_install(PACKAGES_PG)
    ensure_cluster()      # DaCHS's post-install creates its database: PostgreSQL must be up
    if dpkg_status(PACKAGE_DACHS) == "half" or run(["dpkg", "--audit"], check=False).stdout.strip():
        log("repairing a half-finished install: dpkg --configure -a")
        p = run(["dpkg", "--configure", "-a"], check=False, env=APT_ENV)
        if p.returncode != 0:
            raise Failure(f"Debian package {PACKAGE_DACHS} would not configure "
                          f"(dpkg --configure -a exit {p.returncode}): "
                          + " | ".join(p.stdout.strip().splitlines()[-2:]))
    apt_install([PACKAGE_DACHS])
    if not shutil.which("dachs"):
        raise Failure(f"Debian package {PACKAGE_DACHS} is installed but `dachs` is missing")


def psql(sql):
    p = run(["runuser", "-u", "postgres", "--", "psql", "-d", "gavo", "-Atc", sql], check=False)
    return p.stdout.strip() if p.returncode == 0 else None


# ---- configuration ---------------------------------------------------------------------------
def gavo_rc_text(port):
    return (f"# written by astroquery_ps1tap localtap/server.py\n"
            f"[web]\n"
            f"bindAddress: 127.0.0.1\n"
            f"serverPort: {port}\n"
            f"serverURL: http://localhost:{port}\n"
            f"sitename: PS1 DR2 sample (astroquery_ps1tap tests)\n"
            f"[async]\n"
            f"defaultMAXREC: {MAXREC}\n"
            f"hardMAXREC: {MAXREC}\n")


def write_gavo_rc(port):
    text = gavo_rc_text(port)
    if GAVO_RC.exists() and GAVO_RC.read_text() == text:
        return False
    GAVO_RC.write_text(text)
    log(f"wrote {GAVO_RC} (port {port}, MAXREC {MAXREC})")
    return True


def stamp_value(bulk):
    return stamp.digest(STAMPED_FILES, [f"bulk={bulk}"])


def loaded_stamp():
    try:
        return json.loads(STAMP.read_text()).get("stamp")
    except (OSError, ValueError):
        return None


def database_complete():
    n = psql("SELECT count(*) FROM information_schema.tables WHERE "
             "(table_schema = 'dbo' AND table_name IN ('objectthin', 'detection', "
             "'meanobjectview', 'forcedwarpmeasurement')) OR "
             "(table_schema = 'public' AND table_name IN ('detection', 'filter'))")
    return n == "6"


# ---- server ----------------------------------------------------------------------------------
def server_pid():
    try:
        pid = int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    try:
        if Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0:
            return None
    except OSError:
        return None
    return pid


def available(port, timeout=2.0):
    try:
        with urllib.request.urlopen(f"{tap_url(port)}/availability", timeout=timeout) as r:
            return r.status == 200 and b"available" in r.read()
    except Exception:
        return False


def listener(port):
    """Description of whatever listens on the TCP port, or None."""
    if not shutil.which("ss"):
        import socket
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return None
        except OSError:
            return "another program"
        finally:
            s.close()
    p = run(["ss", "-ltnpH", f"sport = :{port}"], check=False)
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    if not lines:
        return None
    if "users:" not in lines[0]:
        return "unknown process"
    users = lines[0].split("users:", 1)[1].strip()
    while users.startswith("(") and users.endswith(")"):
        users = users[1:-1]
    return users.replace('"', "")


def configured_port():
    try:
        for line in GAVO_RC.read_text().splitlines():
            if line.startswith("serverPort:"):
                return int(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return 8080


def stop_server(quiet=False):
    pid = server_pid()
    if pid is None:
        if not quiet:
            log("no DaCHS server running")
        return False
    t = time.time()
    os.kill(pid, signal.SIGTERM)
    while time.time() - t < 20:
        if server_pid() is None:
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    try:
        PIDFILE.unlink()
    except OSError:
        pass
    log(f"stopped DaCHS server (pid {pid}) in {time.time() - t:.1f} s")
    return True


def start_server(port):
    t = time.time()
    p = run(["dachs", "serve", "start"], check=False)
    while time.time() - t < 60:
        if available(port, timeout=1.0):
            log(f"server start: {time.time() - t:.1f} s")
            return
        time.sleep(0.25)
    tail = " | ".join(p.stdout.strip().splitlines()[-2:])
    raise Failure(f"DaCHS server did not answer {tap_url(port)}/availability within 60 s "
                  f"(dachs serve start: {tail or 'no output'}; see /var/gavo/logs)")


# ---- data ------------------------------------------------------------------------------------
def load_data(bulk):
    for d in (RD_DIR, PUB_DIR):
        d.mkdir(parents=True, exist_ok=True)
    if DATA_DIR.exists():
        shutil.rmtree(DATA_DIR)
    t = time.time()
    rows = generate.generate(DATA_DIR, bulk=bulk)
    t_gen = time.time() - t
    total = sum(rows.values())
    log(f"generation: {t_gen:.1f} s ({total:,} rows; Detection {rows['Detection']:,})")
    make_rd.write(INPUTS)
    run(["chown", "-R", f"{DACHS_USER}:gavo"] + [str(INPUTS / rd.split("/")[0]) for rd in make_rd.RDS])
    STAMP.unlink(missing_ok=True)
    for rd in reversed(make_rd.RDS):
        run(["runuser", "-u", DACHS_USER, "--", "dachs", "drop", rd], check=False)
    t = time.time()
    for rd in make_rd.RDS:
        p = run(["runuser", "-u", DACHS_USER, "--", "dachs", "imp", rd], check=False)
        if p.returncode != 0 or "*** Error" in p.stdout:
            err = [line for line in p.stdout.splitlines() if "Error" in line] or \
                p.stdout.strip().splitlines()[-1:]
            raise Failure(f"dachs imp {rd} failed: {' '.join(err)[:300]}")
    t_load = time.time() - t
    log(f"load: {t_load:.1f} s ({total / t_load:,.0f} rows/s; indexes and ANALYZE included)")
    shutil.rmtree(DATA_DIR)      # the database has it now; ~1 GB of COPY files
    return rows, t_gen, t_load


# ---- commands --------------------------------------------------------------------------------
def cmd_start(args):
    if os.geteuid() != 0:
        raise Failure("must run as root (it installs Debian packages and runs PostgreSQL and "
                      "DaCHS); e.g. sudo python localtap/server.py start")
    port = choose_port(args.port)
    bulk = not args.no_bulk
    stamp = stamp_value(bulk)
    t_all = time.time()
    with open(LOCK, "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        # fast path: everything in place and the server up
        if (dpkg_status(PACKAGE_DACHS) == "installed" and cluster_state() == "online"
                and GAVO_RC.exists() and GAVO_RC.read_text() == gavo_rc_text(port)
                and loaded_stamp() == stamp and server_pid() and available(port)):
            log(f"already up, data unchanged (checked in {time.time() - t_all:.1f} s)")
            print(tap_url(port))
            return 0
        # the port must be free, or be ours
        ours = server_pid() is not None and configured_port() == port
        who = listener(port)
        if who and not ours:
            raise Failure(f"port {port} is in use by another program ({who}); "
                          "choose another with --port N or PS1TAP_LOCAL_PORT")
        t = time.time()
        ensure_packages()
        ensure_cluster()
        log(f"packages and PostgreSQL ready: {time.time() - t:.1f} s")
        changed_rc = write_gavo_rc(port)
        if loaded_stamp() != stamp or not database_complete():
            stop_server(quiet=True)
            rows, t_gen, t_load = load_data(bulk)
            STAMP.write_text(json.dumps({"stamp": stamp, "bulk": bulk, "rows": rows,
                                         "generation_s": round(t_gen, 2),
                                         "load_s": round(t_load, 2),
                                         "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                    time.gmtime())}, indent=1))
        else:
            log("sample database up to date (stamp matches); not regenerating")
        if changed_rc or not available(port):
            stop_server(quiet=True)
            who = listener(port)
            if who:
                raise Failure(f"port {port} is in use by another program ({who}); "
                              "choose another with --port N or PS1TAP_LOCAL_PORT")
            start_server(port)
        log(f"ready in {time.time() - t_all:.1f} s")
    print(tap_url(port))
    return 0


def cmd_stop(args):
    if os.geteuid() != 0 and server_pid() is not None:
        raise Failure("must run as root to stop the DaCHS server")
    stop_server()
    return 0


def cmd_status(args):
    port = configured_port() if GAVO_RC.exists() else choose_port(args.port)
    info = {
        "packages": {p: dpkg_status(p) for p in PACKAGES_PG + [PACKAGE_DACHS]},
        "postgresql": cluster_state(),
        "gavo.rc": str(GAVO_RC) if GAVO_RC.exists() else None,
        "loaded": json.loads(STAMP.read_text()) if STAMP.exists() else None,
        "server_pid": server_pid(),
        "up": available(port),
        "url": tap_url(port),
    }
    print(json.dumps(info, indent=1))
    return 0 if info["up"] else 3


def cmd_url(args):
    print(tap_url(choose_port(args.port)))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local DaCHS TAP server with PS1 DR2 sample data")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="install what is missing, load the sample, serve")
    s.add_argument("--port", type=int, help="HTTP port (default: $PS1TAP_LOCAL_PORT or 8080)")
    s.add_argument("--no-bulk", action="store_true",
                   help="leave out the bulk field (1.1 million detections)")
    sub.add_parser("stop", help="stop the DaCHS server")
    st = sub.add_parser("status", help="print the state as JSON (exit 3 if not up)")
    st.add_argument("--port", type=int)
    u = sub.add_parser("url", help="print the TAP URL")
    u.add_argument("--port", type=int)
    args = ap.parse_args(argv)
    try:
        return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status,
                "url": cmd_url}[args.cmd](args)
    except Failure as e:
        print(f"localtap: error: {e}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"localtap: error: timed out: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
