#!/usr/bin/env python3
"""A bounded soak: many concurrent signed clients doing reads, writes and authorization decisions against one
`gatehouse serve` on loopback, while the server's resident memory is sampled.

    python bench/soak.py                                # documented setting: 16 clients, 300 s
    python bench/soak.py --clients 6 --duration 8       # the CI setting (tests/reliability/test_soak.py)
    python bench/soak.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test   # on PostgreSQL (a fresh schema)

Each client is an IAM user of its own (an access key, an inline policy scoped to its own path, one explicit Deny)
and loops over a fixed mix: creates and deletes users under its path (writes; at most `KEEP` at a time, so the
data set stays the same size and memory can only grow by a leak), reads them back (GetUser,
ListUsers, GetCallerIdentity), and asks for things its policy refuses or the simulator decides (decisions). It
passes when:
  - no answer is a 5xx and no error is other than the one expected for that call (AccessDenied on the refused
    calls, nothing on the others);
  - memory is stable: a least-squares slope over the RSS samples after the warm-up (the first `--warmup` share
    of the run) stays under `--max-slope` MiB per minute;
  - every acknowledged create is present at the end and every acknowledged delete absent.
Traffic goes to 127.0.0.1 only; the run stops by itself after `--duration` seconds (and `--max-requests`).
Prints a summary, writes it as JSON with `--json PATH`, and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_api import free_port, wait_ready  # a sibling script: the same server start-up

ACCOUNT = "123456789012"
MASTER_KEY = "Z2F0ZWhvdXNlLXRlc3QtbWFzdGVyLWtleS0zMmJ5dGU="  # 32 bytes, base64: a benchmark's, never a real one
KEEP = 12  # users each client keeps at most: writes alternate between creates and deletes past that
CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60, max_pool_connections=4)


@contextlib.contextmanager
def serve(db: str | None, workers: int) -> Iterator[tuple[str, int, str, str]]:
    """A fresh `gatehouse serve` (SQLite in a temporary data directory, or `db`); yields url, pid, root key."""
    key, secret = "AKIASOAK" + secrets.token_hex(6).upper(), secrets.token_urlsafe(30)[:40]
    port, tmp = free_port(), tempfile.mkdtemp(prefix="gatehouse-soak-")
    args = [sys.executable, "-m", "gatehouse", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--account-id", ACCOUNT, "--root-access-key-id", key, "--root-secret-access-key", secret,
            "--workers", str(workers), "--log-level", "warning"]
    env = dict(os.environ)
    if db:
        args += ["--db", db]
        env["GATEHOUSE_MASTER_KEY"] = MASTER_KEY
    else:
        args += ["--data", os.path.join(tmp, "data")]
    log = open(os.path.join(tmp, "server.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=90)
        yield url, proc.pid, key, secret
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
        log.close()


def rss_kib(pid: int) -> int:
    """Resident memory of the server and its worker processes (same process group), in KiB."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pid and int(entry) != pid:  # fields[2] is the process group
                continue
            with open(f"/proc/{entry}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return total


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 for fewer than two distinct x)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return 0.0 if sxx == 0 else sum((x - mx) * (y - my) for x, y in points) / sxx


def policy_for(index: int) -> str:
    path = f"arn:aws:iam::{ACCOUNT}:user/soak/c{index}/*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:CreateUser", "iam:DeleteUser", "iam:GetUser", "iam:TagUser"],
         "Resource": path},
        {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:SimulatePrincipalPolicy"], "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:TagUser", "Resource": path,
         "Condition": {"StringEquals": {"aws:RequestTag/forbidden": "yes"}}},
    ]})


@dataclass
class Tally:
    requests: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: {"read": 0, "write": 0, "decision": 0})
    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


class Client:
    """One signed client: its own user, key and path; a seeded mix of calls."""

    def __init__(self, url: str, index: int, key: str, secret: str, seed: int) -> None:
        self.index, self.rnd = index, random.Random(seed)
        kwargs = {"endpoint_url": url, "aws_access_key_id": key, "aws_secret_access_key": secret,
                  "region_name": "us-east-1", "config": CONFIG}
        self.iam, self.sts = boto3.client("iam", **kwargs), boto3.client("sts", **kwargs)
        self.mine: list[str] = []
        self.n = 0
        self.arn = f"arn:aws:iam::{ACCOUNT}:user/soak-client-{index}"

    def step(self, tally: Tally, lock: threading.Lock) -> None:
        roll, path = self.rnd.random(), f"/soak/c{self.index}/"
        if not self.mine or (roll < 0.30 and len(self.mine) < KEEP):
            self.n += 1
            name = f"soak-{self.index}-{self.n}"
            self._call(tally, lock, "write", None, self.iam.create_user, UserName=name, Path=path)
            if name in tally.created:
                self.mine.append(name)
        elif roll < 0.30:  # a delete, so that the data set (and with it the caches) stays the same size
            name = self.mine.pop(self.rnd.randrange(len(self.mine)))
            if self._call(tally, lock, "write", None, self.iam.delete_user, UserName=name):
                with lock:
                    tally.deleted.add(name)
        elif roll < 0.45:
            self._call(tally, lock, "read", None, self.iam.get_user, UserName=self.rnd.choice(self.mine))
        elif roll < 0.55:
            self._call(tally, lock, "read", None, self.iam.list_users, PathPrefix=path, MaxItems=50)
        elif roll < 0.65:
            self._call(tally, lock, "read", None, self.sts.get_caller_identity)
        elif roll < 0.75:  # refused by the Deny's condition
            self._call(tally, lock, "decision", "AccessDenied", self.iam.tag_user, UserName=self.rnd.choice(self.mine),
                       Tags=[{"Key": "forbidden", "Value": "yes"}])
        elif roll < 0.85:  # outside the client's path: refused by no Allow
            self._call(tally, lock, "decision", "AccessDenied", self.iam.create_user,
                       UserName=f"soak-out-{self.index}-{self.n}", Path="/elsewhere/")
        else:
            self._call(tally, lock, "decision", None, self.iam.simulate_principal_policy, PolicySourceArn=self.arn,
                       ActionNames=["iam:CreateUser", "iam:DeleteRole"],
                       ResourceArns=[f"arn:aws:iam::{ACCOUNT}:user/soak/c{self.index}/x"])

    def _call(self, tally: Tally, lock: threading.Lock, kind: str, expected: str | None, fn: Any, **kw: Any) -> bool:
        t0 = time.perf_counter()
        problem: str | None = None
        server_error = False
        try:
            fn(**kw)
            if expected is not None:
                problem = f"{fn.__name__}: succeeded, expected {expected}"
        except ClientError as e:
            status, code = e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
            server_error = status >= 500
            if code != expected:
                problem = f"{fn.__name__}: {status} {code} (expected {expected or 'success'})"
        except Exception as e:  # no answer at all
            problem = f"{fn.__name__}: {type(e).__name__}: {str(e)[:100]}"
        took = time.perf_counter() - t0
        with lock:
            tally.requests += 1
            tally.by_kind[kind] += 1
            tally.latencies.append(took)
            if server_error and problem:
                tally.server_errors.append(problem)
            elif problem:
                tally.unexpected.append(problem)
            if fn.__name__ == "create_user" and expected is None and problem is None:
                tally.created.add(kw["UserName"])
        return problem is None


def soak(url: str, pid: int, root: tuple[str, str], *, clients: int, duration: float, sample_interval: float,
         warmup: float, max_slope: float, max_requests: int, seed: int) -> dict[str, Any]:
    root_iam = boto3.client("iam", endpoint_url=url, aws_access_key_id=root[0], aws_secret_access_key=root[1],
                            region_name="us-east-1", config=CONFIG)
    workers = []
    for i in range(clients):
        name = f"soak-client-{i}"
        root_iam.create_user(UserName=name)
        root_iam.put_user_policy(UserName=name, PolicyName="soak", PolicyDocument=policy_for(i))
        made = root_iam.create_access_key(UserName=name)["AccessKey"]
        workers.append(Client(url, i, made["AccessKeyId"], made["SecretAccessKey"], seed + i))
    tally, lock, stop = Tally(), threading.Lock(), threading.Event()

    def loop(client: Client) -> None:
        while not stop.is_set():
            with lock:
                if tally.requests >= max_requests:
                    return
            client.step(tally, lock)

    samples: list[tuple[float, float]] = []
    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in workers]
    start = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() - start < duration and any(t.is_alive() for t in threads):
        samples.append((time.monotonic() - start, rss_kib(pid) / 1024))
        stop.wait(sample_interval)
    stop.set()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - start
    samples.append((elapsed, rss_kib(pid) / 1024))

    present: set[str] = set()
    for page in root_iam.get_paginator("list_users").paginate(PathPrefix="/soak/"):
        present |= {u["UserName"] for u in page["Users"]}
    kept = tally.created - tally.deleted
    lost = sorted(kept - present)
    resurrected = sorted(tally.deleted & present)

    steady = [(x, y) for x, y in samples if x >= warmup * elapsed]
    mib_per_min = slope(steady) * 60
    lat = sorted(tally.latencies) or [0.0]
    result = {
        "clients": clients, "duration_s": round(elapsed, 1), "requests": tally.requests,
        "requests_per_s": round(tally.requests / elapsed, 1), "by_kind": tally.by_kind,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2), "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        "writes_acknowledged": len(tally.created) + len(tally.deleted), "users_checked": len(kept) + len(tally.deleted),
        "lost": lost[:10], "resurrected": resurrected[:10], "server_errors": tally.server_errors[:10],
        "server_error_count": len(tally.server_errors), "unexpected": tally.unexpected[:10],
        "unexpected_count": len(tally.unexpected), "rss_mib_first": round(samples[0][1], 1),
        "rss_mib_last": round(samples[-1][1], 1), "rss_mib_max": round(max(y for _, y in samples), 1),
        "rss_samples": len(samples), "rss_slope_mib_per_min": round(mib_per_min, 3), "max_slope_mib_per_min": max_slope,
    }
    failures = []
    if tally.server_errors:
        failures.append(f"{len(tally.server_errors)} 5xx answers")
    if tally.unexpected:
        failures.append(f"{len(tally.unexpected)} unexpected errors")
    if lost or resurrected:
        failures.append(f"{len(lost)} acknowledged creates lost, {len(resurrected)} acknowledged deletes undone")
    if mib_per_min > max_slope:
        failures.append(f"memory grows {mib_per_min:.2f} MiB/min after warm-up (limit {max_slope})")
    if tally.requests == 0:
        failures.append("no request completed")
    result["failures"] = failures
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    ap.add_argument("--max-requests", type=int, default=2_000_000, help="a second bound on the run")
    ap.add_argument("--sample-interval", type=float, default=0.5, help="seconds between RSS samples")
    ap.add_argument("--warmup", type=float, default=0.3, help="share of the run left out of the memory slope")
    ap.add_argument("--max-slope", type=float, default=2.0, help="MiB per minute of RSS growth allowed")
    ap.add_argument("--workers", type=int, default=1, help="gatehouse worker processes")
    ap.add_argument("--db", help="a PostgreSQL URL (a fresh schema is made in it); default: SQLite")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--json", help="write the result here")
    args = ap.parse_args(argv)
    db, schema = args.db, None
    if db:
        import sqlalchemy  # only PostgreSQL runs need it
        schema = f"gh_soak_{os.getpid()}_{secrets.token_hex(3)}"
        engine = sqlalchemy.create_engine(db, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
        db += ("&" if "?" in db else "?") + "options=" + urllib.parse.quote(f"-csearch_path={schema}")
    try:
        with serve(db, args.workers) as (url, pid, key, secret):
            result = soak(url, pid, (key, secret), clients=args.clients, duration=args.duration,
                          sample_interval=args.sample_interval, warmup=args.warmup, max_slope=args.max_slope,
                          max_requests=args.max_requests, seed=args.seed)
    finally:
        if schema:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    result["backend"] = "postgresql" if args.db else "sqlite"
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
