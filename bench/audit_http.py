"""The audit trail's cost on the whole request path, in process: signed Query requests handed to the endpoint's
`handle` (SigV4 verification, parsing, the use case, rendering, the single exit and the trail), with the trail on
and off, alternating, counted per CPU second of the process (the flusher thread included). `--profile FILE` writes
a cProfile of the trail-on GetUser run (requests run on this thread, so the profile sees them).

    .venv/bin/python bench/audit_http.py [--seconds 3] [--rounds 3] [--profile /tmp/on.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gatehouse.app import build
from gatehouse.settings import Secret, Settings

KEY, SECRET = "AKIABENCHBENCHBENCH1", "benchsecretbenchsecretbenchsecretbench12"
HOST = "127.0.0.1:4599"
Request = tuple[str, dict[str, str], bytes]


def signed(params: dict[str, str]) -> Request:
    body = urlencode(params)
    req = AWSRequest("POST", f"http://{HOST}/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY, SECRET), "iam", "us-east-1").add_auth(req)
    headers = {k.lower(): v for k, v in req.headers.items()} | {"host": HOST}
    return "/", headers, body.encode()


def world(audit: bool) -> Any:
    data = Path(tempfile.mkdtemp(prefix="gatehouse-audit-http-"))
    app = build(Settings(data_dir=data, account_id="123456789012", root_access_key_id=KEY,
                         root_secret_access_key=Secret(SECRET), audit_enabled=audit, throttle_per_key=0,
                         throttle_per_account=0).checked())
    app.bootstrap()
    return app


def run(endpoint: Any, requests: list[Request]) -> None:
    for path, headers, body in requests:
        reply = endpoint.handle("POST", path, "", headers, body, "127.0.0.1", False)
        assert reply.status == 200, reply.body[:300]


def rate(fn: Callable[[], int], seconds: float, after: Callable[[], object]) -> float:
    """Requests per CPU second of the process (every thread), including `after` (the queued events appended)."""
    cpu0, wall0, done = time.process_time(), time.monotonic(), 0
    while time.monotonic() - wall0 < seconds:
        done += fn()
    after()
    return done / (time.process_time() - cpu0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile")
    args = parser.parse_args()
    apps = {"off": world(False), "on": world(True)}
    gets = [signed({"Action": "GetUser", "Version": "2010-05-08", "UserName": f"bench-user-{i:03d}"})
            for i in range(100)]
    for app in apps.values():
        run(app.services.endpoint, [signed({"Action": "CreateUser", "Version": "2010-05-08",
                                            "UserName": f"bench-user-{i:03d}"}) for i in range(100)])
    counter = iter(range(10**9))

    def pairs() -> list[Request]:
        names = [f"cd-{next(counter)}" for _ in range(50)]
        return [r for n in names for r in (signed({"Action": "CreateUser", "Version": "2010-05-08", "UserName": n}),
                                           signed({"Action": "DeleteUser", "Version": "2010-05-08", "UserName": n}))]

    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for label, app in apps.items():
            endpoint = app.services.endpoint
            flush = app.services.trail.flush if getattr(app.services, "trail", None) else (lambda: 0)

            def get_run(endpoint: Any = endpoint) -> int:
                run(endpoint, gets)
                return len(gets)

            pool = [pairs() for _ in range(4)]

            def pair_run(endpoint: Any = endpoint) -> int:
                batch = pool.pop() if pool else pairs()
                run(endpoint, batch)
                return len(batch)

            results.setdefault((label, "GetUser"), []).append(rate(get_run, args.seconds, flush))
            results.setdefault((label, "CreateUser+DeleteUser"), []).append(rate(pair_run, args.seconds, flush))
    for op in ("GetUser", "CreateUser+DeleteUser"):
        off, on = (statistics.median(results[(label, op)]) for label in ("off", "on"))
        print(f"{op:24} off {off:8.0f} req/CPU-s ({1e6 / off:6.0f} us)  on {on:8.0f} ({1e6 / on:6.0f} us)"
              f"  on/off {on / off:.2f}")
    if args.profile:
        endpoint = apps["on"].services.endpoint
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(20):
            run(endpoint, gets)
            run(endpoint, pairs())
        apps["on"].services.trail.flush()
        prof.disable()
        prof.dump_stats(args.profile)
    for app in apps.values():
        app.close()


if __name__ == "__main__":
    main()
