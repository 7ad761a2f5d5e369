#!/usr/bin/env python3
"""The limits attacks (issue 16) as bounded runs, each against a fresh server, with what they cost the others.

    .venv/bin/python bench/limits.py                         # all three attacks, this checkout
    .venv/bin/python bench/limits.py --gatehouse ../main/.venv/bin/gatehouse --only heavy

Per attack it prints (and writes as JSON with --json FILE): the server's resident memory (start and peak, MB),
the other callers' latency while the attack ran (another account's root calling ListUsers every 0.1 s: p50, p99
and max in ms, and how many calls got no answer within 10 s), and the connections the server held.

* heavy:       one IAM user's SimulateCustomPolicy with N copies of a 57 KB policy (50 statements x 40 StringLike
               and 40 ForAnyValue:StringLike values), 40 actions x 25 resources, MaxItems=1000, large ContextEntries.
* memory:      P policies of ~5 KB attached through 10 groups to each of U users; per round one TagUser (a write,
               so every cached policy set is stale) then one GetUser per user; R rounds.
* connections: C sockets that send nothing and C that trickle request headers a byte a second, for S seconds.

Every loop is bounded in count and time, and only loopback is used; the server started is stopped by its PID.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
KEY, SECRET, ACCOUNT = "AKIALIMITSBENCH00001", "limitsbenchsecretlimitsbenchsecret0000", "123456789012"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, gatehouse: str, extra: list[str]) -> None:
        self.gatehouse = gatehouse
        self.data = tempfile.mkdtemp(prefix="gatehouse-limits-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [gatehouse, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data", self.data,
               "--account-id", ACCOUNT, "--root-access-key-id", KEY, "--root-secret-access-key", SECRET,
               "--log-level", "warning", *extra]
        self.log = open(os.path.join(self.data, "server.log"), "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"gatehouse exited early ({self.proc.returncode}); see {self.log.name}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("gatehouse not answering") from None
                time.sleep(0.2)

    def other_account(self) -> tuple[str, str]:
        """A second account's root key (made with the CLI, on the server's own data directory)."""
        out = subprocess.run([self.gatehouse, "account", "create", "--data", self.data, "--json"],
                             capture_output=True, text=True, timeout=120, check=True).stdout
        found = json.loads(out[out.index("{"):])
        return found["AccessKeyId"], found["SecretAccessKey"]

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

    def connections(self) -> int:
        """Established TCP connections to the server's port (from /proc/net/tcp, server side)."""
        held = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError), open(table) as f:
                for line in list(f)[1:]:
                    local, state = line.split()[1], line.split()[3]
                    if state == "01" and int(local.rsplit(":", 1)[1], 16) == self.port:
                        held += 1
        return held

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def client(url: str, key: str, secret: str, timeout: float = 10) -> Any:
    return boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, read_timeout=timeout, connect_timeout=5))


class Watch:
    """Another account's ListUsers every 0.1 s in a thread, and the server's memory and connections, until stopped."""

    def __init__(self, server: Server, key: tuple[str, str]) -> None:
        self.server, self.iam = server, client(server.url, *key)
        self.latencies: list[float] = []
        self.failures = 0
        self.peak_rss = server.rss_mb()
        self.peak_connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                self.iam.list_users()
                self.latencies.append(time.monotonic() - start)
            except Exception:
                self.failures += 1
            with contextlib.suppress(OSError, StopIteration):
                self.peak_rss = max(self.peak_rss, self.server.rss_mb())
            self.peak_connections = max(self.peak_connections, self.server.connections())
            self._stop.wait(0.1)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)
        return {"others_calls": len(self.latencies), "others_failed": self.failures, "others_p50_ms": pct(0.5),
                "others_p99_ms": pct(0.99), "others_max_ms": round(ordered[-1] * 1000, 1),
                "peak_rss_mb": round(self.peak_rss), "peak_connections": self.peak_connections}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def user_with_key(iam: Any, name: str, policy: str) -> tuple[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


def heavy(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    root = client(server.url, KEY, SECRET)
    key = user_with_key(root, "reader", doc({"Effect": "Allow", "Action": "iam:Simulate*", "Resource": "*"}))
    stmts = [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
        "StringLike": {"aws:PrincipalTag/x": [f"*a*b*{i}-{j}*" for j in range(40)]},
        "ForAnyValue:StringLike": {"aws:TagKeys": [f"*k*{i}-{j}*" for j in range(40)]}}} for i in range(50)]
    pol = doc(*stmts)
    ctx = [{"ContextKeyName": "aws:PrincipalTag/x", "ContextKeyValues": ["ab" * 500], "ContextKeyType": "string"},
           {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["k" * 100 + str(i) for i in range(50)],
            "ContextKeyType": "stringList"}]
    other = server.other_account()
    attacker = client(server.url, *key, timeout=args.limit_s)
    outcome: dict[str, Any] = {}
    with Watch(server, other) as watch:
        time.sleep(0.5)
        start = time.monotonic()
        try:
            attacker.simulate_custom_policy(
                PolicyInputList=[pol] * args.copies, ActionNames=[f"iam:GetUser{i}" for i in range(40)],
                ResourceArns=[f"arn:aws:iam::{ACCOUNT}:user/u{i}" for i in range(25)], MaxItems=1000,
                ContextEntries=ctx)
            outcome["heavy_outcome"] = "answered"
        except Exception as e:
            response = getattr(e, "response", None) or {}
            outcome["heavy_outcome"] = response.get("Error", {}).get("Code") or type(e).__name__
        outcome["heavy_s"] = round(time.monotonic() - start, 2)
        time.sleep(0.5)
    return {**outcome, **watch.figures()}


def memory(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    root = client(server.url, KEY, SECRET)
    per_user = 10 * args.per_group
    policies = []
    for i in range(args.users * per_user):
        actions = [f"a{j}:G{i}x{j}*" for j in range(300)]
        policies.append(root.create_policy(PolicyName=f"big-{i}", PolicyDocument=doc(
            {"Effect": "Allow", "Action": actions, "Resource": "*"}))["Policy"]["Arn"])
    callers = []
    for u in range(args.users):
        key = user_with_key(root, f"member-{u}", doc({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}))
        for g in range(10):
            root.create_group(GroupName=f"grp-{u}-{g}")
            first = u * per_user + g * args.per_group
            for arn in policies[first:first + args.per_group]:
                root.attach_group_policy(GroupName=f"grp-{u}-{g}", PolicyArn=arn)
            root.add_user_to_group(GroupName=f"grp-{u}-{g}", UserName=f"member-{u}")
        callers.append(client(server.url, *key, timeout=60))
    for c in callers:
        c.get_user()
    other = server.other_account()
    start_rss, t0, rounds = server.rss_mb(), time.monotonic(), 0
    with Watch(server, other) as watch:
        for rounds in range(1, args.rounds + 1):
            root.tag_user(UserName="member-0", Tags=[{"Key": "round", "Value": str(rounds)}])
            for c in callers:
                c.get_user()
            if time.monotonic() - t0 > args.limit_s:
                break
    return {"rounds": rounds, "start_rss_mb": round(start_rss), "end_rss_mb": round(server.rss_mb()),
            "seconds": round(time.monotonic() - t0, 1), **watch.figures()}


def connections(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    other = server.other_account()
    socks: list[socket.socket] = []
    with Watch(server, other) as watch:
        for n in range(2 * args.sockets):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if n % 2:
                s.sendall(b"POST / HTTP/1.1\r\n")
            socks.append(s)
        request = b"Host: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
        for second in range(args.hold_s):
            for n, s in enumerate(socks):
                if n % 2:
                    with contextlib.suppress(OSError):
                        s.sendall(request[second:second + 1])
            time.sleep(1)
        held = server.connections()
    for s in socks:
        s.close()
    return {"opened": len(socks), "held_after_s": args.hold_s, "held": held, **watch.figures()}


ATTACKS: dict[str, Callable[[Server, argparse.Namespace], dict[str, Any]]] = {
    "heavy": heavy, "memory": memory, "connections": connections}


@contextlib.contextmanager
def started(gatehouse: str, extra: list[str]) -> Iterator[Server]:
    server = Server(gatehouse, extra)
    try:
        yield server
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gatehouse", default=os.path.join(HERE, "..", ".venv", "bin", "gatehouse"))
    ap.add_argument("--only", default="heavy,memory,connections")
    ap.add_argument("--copies", type=int, default=4, help="heavy: copies of the 57 KB policy")
    ap.add_argument("--users", type=int, default=12, help="memory: users")
    ap.add_argument("--per-group", type=int, default=10, help="memory: policies per group (10 groups per user)")
    ap.add_argument("--rounds", type=int, default=12, help="memory: rounds")
    ap.add_argument("--sockets", type=int, default=100, help="connections: idle sockets (and as many trickling)")
    ap.add_argument("--hold-s", type=int, default=30, help="connections: seconds to hold them")
    ap.add_argument("--limit-s", type=float, default=120, help="give up an attack after this long")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more `gatehouse serve` flags")
    args = ap.parse_args()
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    results: dict[str, Any] = {"gatehouse": os.path.abspath(args.gatehouse), "at": time.strftime("%Y-%m-%dT%H:%MZ")}
    for name in args.only.split(","):
        with started(args.gatehouse, extra) as server:
            results[name] = ATTACKS[name](server, args)
        print(name, json.dumps(results[name]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
