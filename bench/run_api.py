#!/usr/bin/env python3
"""Load Gatehouse beside moto_server in one interleaved run, with the shared harness.

    python bench/run_api.py                    # 3 rounds x 8 s per op, 8 client workers
    python bench/run_api.py --workers 2 -- --rounds 1 --duration 4
    python bench/run_api.py --audit-compare -- --ops get-user,create-delete --rounds 4 --duration 6 --workers 8

Starts `gatehouse serve` on a free loopback port with a fresh SQLite data directory (the `make run` setup) and
pinned root keys, hands it to ../shared/bench/run_api_bench.py (which starts moto_server and the canned-200
ceiling server itself), and stops exactly the process it started. Everything after `--` goes to api_load.py.
With `--workers N > 1` the server CPU column counts only the parent process, so compare requests/s instead.
`--audit-compare` measures what the audit trail costs: it starts two identical servers, one with `--no-audit`
(label `audit-off`, the baseline: first endpoint) and one with the trail (`audit-on`), loads only those two
(no moto, no canned server), interleaved per round, so `x audit-off` is the on/off ratio per round, median.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# ../shared/bench beside the checkout (a worktree one level deeper, /work/wt/NAME, finds /work/shared/bench)
SHARED = next((p for p in (os.path.normpath(os.path.join(HERE, *[".."] * n, "shared", "bench")) for n in (2, 3))
               if os.path.isdir(p)), os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench")))
KEY, SECRET = "AKIABENCHBENCHBENCH1", "benchsecretbenchsecretbenchsecretbench12"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gatehouse exited early ({proc.returncode})")
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gatehouse not answering on {url}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1, help="gatehouse worker processes")
    ap.add_argument("--shared", default=SHARED, help="the shared bench directory (run_api_bench.py)")
    ap.add_argument("--peer-python", default="python3", help="a Python with moto[server]==5.2.1 and botocore")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="one more `gatehouse serve` argument (repeat), e.g. --serve-arg=--throttle-per-key=0")
    ap.add_argument("--audit-compare", action="store_true",
                    help="two servers, trail off (baseline) and on, and nothing else: the trail's cost")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    if not rest:
        rest = ["--rounds", "3", "--duration", "8", "--workers", "8"]
    servers = ([("audit-off", ["--no-audit"]), ("audit-on", [])] if args.audit_compare else [("gatehouse", [])])
    started: list[subprocess.Popen] = []
    extra: list[str] = []
    try:
        for label, flags in servers:
            proc, url = start_server(args.workers, [*args.serve_arg, *flags])
            started.append(proc)
            extra += ["--extra", f"{label}={url}", "--extra-pid", f"{label}={proc.pid}",
                      "--creds", f"{label}={KEY}:{SECRET}"]
        peers = ["--no-moto", "--no-trivial"] if args.audit_compare else []
        return subprocess.call([args.peer_python, os.path.join(args.shared, "run_api_bench.py"), *peers, *extra,
                                "--", *rest], cwd=args.shared)
    finally:
        for proc in started:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            print(f"stopped gatehouse pid {proc.pid}", flush=True)


def start_server(workers: int, serve_args: list[str]) -> tuple[subprocess.Popen, str]:
    """One `gatehouse serve` on a free port and a fresh data directory, answering."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="gatehouse-bench-")
    cmd = [sys.executable, "-m", "gatehouse", "serve", "--host", "127.0.0.1", "--port", str(port), "--data", data,
           "--account-id", "123456789012", "--root-access-key-id", KEY, "--root-secret-access-key", SECRET,
           "--workers", str(workers), "--log-level", "warning", *serve_args]
    log = open(os.path.join(data, "server.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(url, proc)
    except BaseException:
        proc.kill()
        raise
    print(f"started gatehouse pid {proc.pid} on {url} (workers={workers}, data={data}, {' '.join(serve_args)})",
          flush=True)
    return proc, url


if __name__ == "__main__":
    sys.exit(main())
