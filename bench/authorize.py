#!/usr/bin/env python3
"""What deciding a request costs through POST /authorize and through the gatehouse.asgi middleware's cached path,
beside GetCallerIdentity (the cheapest signed call there is) in the same run, interleaved per round.

    .venv/bin/python bench/authorize.py                        # 3 rounds x 4 s per operation, 4 client threads
    .venv/bin/python bench/authorize.py --rounds 2 --seconds 3 --threads 8
    .venv/bin/python bench/authorize.py --in-process            # the request path alone, CPU per request

Starts `gatehouse serve` (a fresh SQLite data directory, pinned root keys, throttling off, audit trail on, as
`make run`) and the example notes service (examples/notes, uvicorn, the middleware with its default 5 s cache)
on free loopback ports, sets up an application user allowed `gatehouse:Authorize`, a reader `alice` with an
identity policy, and a registered note with a resource policy, then loads, from keep-alive connections:

* `gci`: STS GetCallerIdentity signed by alice (the baseline);
* `authorize-arn`: POST /authorize, alice named by ARN (identity policy and the note's resource policy);
* `authorize-signed`: POST /authorize with alice's forwarded signed request (authenticated on the application's
  behalf, then decided): what the middleware asks for every new signature;
* `middleware-cached`: GET /notes/1 on the notes service, the same signed request again (a replay: the
  middleware's cache answers without asking Gatehouse).

Each request is signed once and replayed (Gatehouse accepts a signature for its validity window), so the client
spends its CPU on HTTP, not on signing. Reported per operation: requests/s (median of rounds), server CPU per
request (Gatehouse's process; for the cached path, the notes service's), and each as a ratio to GetCallerIdentity
in the same round (median). Every answer is checked (200 and, for /authorize, an Allow). Bounded: rounds x
operations x seconds, then both servers are stopped (only the processes this script started).

`--in-process` measures the request path without HTTP or a second process (for a shared, noisy machine): the
same three Gatehouse operations handed to the endpoint's `handle` on this thread, interleaved, counted in CPU
seconds of this process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ACCOUNT = "123456789012"
KEY, SECRET = "AKIABENCHBENCHBENCH1", "benchsecretbenchsecretbenchsecretbench12"
NOTE = f"arn:aws:notes:us-east-1:{ACCOUNT}:note/1"
Signed = tuple[str, str, dict[str, str], bytes]  # method, url, headers, body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.returncode})")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"not answering on {url}")


def sign(method: str, url: str, body: bytes, key: tuple[str, str], service: str,
         headers: dict[str, str] | None = None) -> Signed:
    host = url.split("/")[2]
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": host, **(headers or {})})
    SigV4Auth(Credentials(*key), service, "us-east-1").add_auth(request)
    return method, url, dict(request.headers.items()), body


def call(http: urllib3.PoolManager, signed: Signed) -> tuple[int, bytes]:
    method, url, headers, body = signed
    r = http.request(method, url, body=body or None, headers=headers)
    return r.status, r.data


def iam(url: str, action: str, **params: str) -> str:
    body = "&".join([f"Action={action}", "Version=2010-05-08", *(f"{k}={urllib.parse.quote(v, safe='')}"
                                                                  for k, v in params.items())]).encode()
    http = urllib3.PoolManager()
    status, data = call(http, sign("POST", url + "/", body, (KEY, SECRET), "iam",
                                   {"Content-Type": "application/x-www-form-urlencoded"}))
    if status != 200:
        raise SystemExit(f"{action} failed: {data[:300]!r}")
    return data.decode()


def setup(url: str) -> dict[str, tuple[str, str]]:
    """The application user and alice, with access keys; note 1 registered with a resource policy."""
    keys = {}
    for name, policy in (("notes-app", {"Effect": "Allow", "Action": "gatehouse:Authorize", "Resource": "*"}),
                         ("alice", {"Effect": "Allow", "Action": "notes:GetNote", "Resource": NOTE})):
        iam(url, "CreateUser", UserName=name)
        iam(url, "PutUserPolicy", UserName=name, PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [policy]}))
        made = iam(url, "CreateAccessKey", UserName=name)
        found = re.search(r"<AccessKeyId>(.+?)<", made), re.search(r"<SecretAccessKey>(.+?)<", made)
        if found[0] is None or found[1] is None:
            raise SystemExit(f"CreateAccessKey answered {made[:300]}")
        keys[name] = (found[0][1], found[1][1])
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "notes:GetNote", "Resource": NOTE,
                                                      "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}}]}
    body = json.dumps({"ResourceArn": NOTE, "Policy": json.dumps(policy)}).encode()
    status, data = call(urllib3.PoolManager(), sign("POST", url + "/", body, (KEY, SECRET), "gatehouse", {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Gatehouse_20261201.RegisterResource"}))
    if status != 200:
        raise SystemExit(f"RegisterResource failed: {data[:300]!r}")
    return keys


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(signed: Signed, check: Callable[[int, bytes], bool], seconds: float, threads: int) -> int:
    """Requests answered (and checked) by `threads` keep-alive clients within `seconds`."""
    done, failed = [0] * threads, []
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        http = urllib3.PoolManager(maxsize=1)
        while time.monotonic() < stop:
            status, data = call(http, signed)
            if not check(status, data):
                failed.append((status, data[:300]))
                return
            done[n] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failed:
        raise SystemExit(f"unexpected answer: {failed[0]}")
    return sum(done)


def start(cmd: list[str], url: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    log = tempfile.NamedTemporaryFile("w", prefix="gatehouse-bench-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **(env or {})})
    try:
        wait_ready(url, proc)
    except BaseException:
        proc.kill()
        raise
    print(f"started pid {proc.pid}: {' '.join(cmd[:6])} ... (log {log.name})", flush=True)
    return proc


def in_process(rounds: int, seconds: float) -> int:
    """CPU per request of the request path alone (signature, decision, rendering, the trail), interleaved."""
    from pathlib import Path

    from gatehouse.app import build
    from gatehouse.settings import Secret, Settings

    app = build(Settings(data_dir=Path(tempfile.mkdtemp(prefix="gatehouse-bench-")), account_id=ACCOUNT,
                         root_access_key_id=KEY, root_secret_access_key=Secret(SECRET), throttle_per_key=0,
                         throttle_per_account=0).checked())
    app.bootstrap()
    assert app.asgi is not None
    handlers = {"/": app.services.endpoint, "/authorize": app.asgi.paths["/authorize"]}
    host = "127.0.0.1:4599"

    def handle(signed: Signed) -> tuple[int, bytes]:
        method, url, headers, body = signed
        path = "/" + url.split("/", 3)[3]
        reply = handlers[path].handle(method, path, "", {k.lower(): v for k, v in headers.items()}, body,
                                      "127.0.0.1", False)
        return reply.status, reply.body

    def query(key: tuple[str, str], service: str, body: str) -> Signed:
        return sign("POST", f"http://{host}/", body.encode(), key, service,
                    {"Content-Type": "application/x-www-form-urlencoded"})

    keys: dict[str, tuple[str, str]] = {}
    for name, policy in (("notes-app", {"Effect": "Allow", "Action": "gatehouse:Authorize", "Resource": "*"}),
                         ("alice", {"Effect": "Allow", "Action": "notes:GetNote", "Resource": NOTE})):
        document = urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [policy]}), safe="")
        for body in (f"Action=CreateUser&Version=2010-05-08&UserName={name}",
                     f"Action=PutUserPolicy&Version=2010-05-08&UserName={name}&PolicyName=p&PolicyDocument={document}"):
            assert handle(query((KEY, SECRET), "iam", body))[0] == 200
        made = handle(query((KEY, SECRET), "iam", f"Action=CreateAccessKey&Version=2010-05-08&UserName={name}"))[1]
        keys[name] = (re.search(rb"<AccessKeyId>(.+?)<", made)[1].decode(),  # type: ignore[index]
                      re.search(rb"<SecretAccessKey>(.+?)<", made)[1].decode())  # type: ignore[index]
    forwarded = sign("GET", "http://notes.example/notes/1", b"", keys["alice"], "notes")

    def ask(request: dict[str, Any]) -> Signed:
        body = json.dumps({"request": {**request, "action": "notes:GetNote", "resource": NOTE}}).encode()
        return sign("POST", f"http://{host}/authorize", body, keys["notes-app"], "gatehouse",
                    {"Content-Type": "application/json"})

    ops = {"gci": query(keys["alice"], "sts", "Action=GetCallerIdentity&Version=2011-06-15"),
           "authorize-arn": ask({"principal": f"arn:aws:iam::{ACCOUNT}:user/alice"}),
           "authorize-signed": ask({"signed_request": {"method": "GET", "url": forwarded[1],
                                                       "headers": forwarded[2], "body": ""}})}
    cost: dict[str, list[float]] = {name: [] for name in ops}
    for signed in ops.values():
        status, body = handle(signed)
        assert status == 200 and (b"Allow" in body or b"GetCallerIdentity" in body), body[:300]
    for n in range(rounds):
        for name, signed in ops.items():
            done, cpu0, stop = 0, time.process_time(), time.monotonic() + seconds
            while time.monotonic() < stop:
                handle(signed)
                done += 1
            cost[name].append((time.process_time() - cpu0) / done * 1e6)
        print(f"round {n + 1}: " + ", ".join(f"{k} {v[-1]:,.0f} µs" for k, v in cost.items()), flush=True)
    print("\n| operation | CPU µs/request (median) | x GCI |\n|---|---|---|")
    for name in ops:
        ratio = statistics.median(c / g for c, g in zip(cost[name], cost["gci"], strict=True))
        print(f"| {name} | {statistics.median(cost[name]):,.0f} | {ratio:.2f} |")
    app.close()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--in-process", action="store_true", help="the request path alone, in this process")
    args = ap.parse_args()
    if args.in_process:
        return in_process(args.rounds, args.seconds)
    port, notes_port = free_port(), free_port()
    url, notes_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{notes_port}"
    data = tempfile.mkdtemp(prefix="gatehouse-bench-")
    started: list[subprocess.Popen] = []
    try:
        gatehouse = start([sys.executable, "-m", "gatehouse", "serve", "--host", "127.0.0.1", "--port", str(port),
                           "--data", data, "--account-id", ACCOUNT, "--root-access-key-id", KEY,
                           "--root-secret-access-key", SECRET, "--throttle-per-key", "0", "--throttle-per-account",
                           "0", "--log-level", "warning"], url + "/")
        started.append(gatehouse)
        keys = setup(url)
        app_key = keys["notes-app"]
        notes = start([sys.executable, "-m", "uvicorn", "--factory", "examples.notes.app:create_app", "--host",
                       "127.0.0.1", "--port", str(notes_port), "--log-level", "warning"], notes_url + "/health",
                      {"GATEHOUSE_ENDPOINT_URL": url, "NOTES_ACCOUNT": ACCOUNT, "AWS_ACCESS_KEY_ID": app_key[0],
                       "AWS_SECRET_ACCESS_KEY": app_key[1], "AWS_CONFIG_FILE": os.devnull,
                       "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "PYTHONPATH": ROOT})
        started.append(notes)
        alice = keys["alice"]
        note_get = sign("GET", notes_url + "/notes/1", b"", alice, "notes")
        put = sign("PUT", notes_url + "/notes/1", b"bench", (KEY, SECRET), "notes")
        if call(urllib3.PoolManager(), put)[0] != 201:
            raise SystemExit("could not create note 1")
        forwarded = sign("GET", "http://notes.example/notes/1", b"", alice, "notes")
        json_headers = {"Content-Type": "application/json"}

        def ask(request: dict[str, Any]) -> Signed:
            body = json.dumps({"request": {**request, "action": "notes:GetNote", "resource": NOTE}}).encode()
            return sign("POST", url + "/authorize", body, app_key, "gatehouse", json_headers)

        gci_body = b"Action=GetCallerIdentity&Version=2011-06-15"
        ops: dict[str, tuple[Signed, Callable[[int, bytes], bool], subprocess.Popen]] = {
            "gci": (sign("POST", url + "/", gci_body, alice, "sts",
                         {"Content-Type": "application/x-www-form-urlencoded"}),
                    lambda s, d: s == 200, gatehouse),
            "authorize-arn": (ask({"principal": f"arn:aws:iam::{ACCOUNT}:user/alice"}),
                              lambda s, d: s == 200 and b'"decision":"Allow"' in d, gatehouse),
            "authorize-signed": (ask({"signed_request": {"method": "GET", "url": forwarded[1],
                                                         "headers": forwarded[2], "body": ""}}),
                                 lambda s, d: s == 200 and b'"decision":"Allow"' in d, gatehouse),
            "middleware-cached": (note_get, lambda s, d: s == 200, notes),
        }
        for signed, check, _ in ops.values():  # warm up (and check) each
            load(signed, check, 0.5, 1)
        rates: dict[str, list[float]] = {name: [] for name in ops}
        cpu: dict[str, list[float]] = {name: [] for name in ops}
        for n in range(args.rounds):
            for name, (signed, check, proc) in ops.items():
                c0 = cpu_seconds(proc.pid)
                t0 = time.monotonic()
                done = load(signed, check, args.seconds, args.threads)
                elapsed, used = time.monotonic() - t0, cpu_seconds(proc.pid) - c0
                rates[name].append(done / elapsed)
                cpu[name].append(used / done * 1e6)
            print(f"round {n + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()), flush=True)
        print()
        print("| operation | req/s (median) [min..max] | x GCI req/s | server CPU µs/req | x GCI CPU |")
        print("|---|---|---|---|---|")
        for name in ops:
            ratio = statistics.median(r / g for r, g in zip(rates[name], rates["gci"], strict=True))
            cpu_ratio = statistics.median(c / g for c, g in zip(cpu[name], cpu["gci"], strict=True))
            print(f"| {name} | {statistics.median(rates[name]):,.0f} [{min(rates[name]):,.0f}.."
                  f"{max(rates[name]):,.0f}] | {ratio:.2f} | {statistics.median(cpu[name]):,.0f} | {cpu_ratio:.2f} |")
        return 0
    finally:
        for proc in reversed(started):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            print(f"stopped pid {proc.pid}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
