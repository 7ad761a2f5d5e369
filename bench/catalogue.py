"""Start-up time and memory of Gatehouse with and without the AWS managed policy catalogue loaded.

    .venv/bin/python bench/catalogue.py [--rounds 5] [--src OTHER_CHECKOUT/src]

Two measures, each the median of `--rounds` fresh processes (min and max beside it):
- `gatehouse serve --dev`: seconds from spawn until it answers sts:GetCallerIdentity (the catalogue is not read
  at start-up), its RSS then, and its RSS after `ListPolicies --scope AWS` paged through the whole catalogue
  (index loaded) and after `GetPolicyVersion` of every AWS managed policy (every document read once; at most 128
  stay cached).
- in process: `gatehouse.app.build(Settings(dev=True))` + bootstrap (imports included), then a catalogue as
  build() makes one: its first use (the index), then reading every document, each timed, with the RSS after
  each step.
`--src` runs another checkout's code with this venv (PYTHONPATH), e.g. the build before the catalogue, for a
baseline. Only processes this script starts are stopped; servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

IN_PROCESS = r"""
import json, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
t0, c0 = time.perf_counter(), time.process_time()
from gatehouse.app import build
from gatehouse.settings import Settings
app = build(Settings(dev=True)); app.bootstrap()
t1, c1 = time.perf_counter(), time.process_time(); r1 = rss()
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
catalogue = AwsManagedPolicies()  # as build() makes it: nothing read yet
assert not getattr(catalogue, "loaded", False)
t2, c2 = time.perf_counter(), time.process_time(); n = len(list(catalogue.all()))
t3, c3 = time.perf_counter(), time.process_time(); r2 = rss()
for p in catalogue.all():
    getattr(catalogue, "default_version", lambda p: p)(p)
t4, c4 = time.perf_counter(), time.process_time(); r3 = rss()
print(json.dumps({"policies": n, "build_s": t1 - t0, "build_cpu_s": c1 - c0, "rss_built_mb": r1,
                  "index_ms": (t3 - t2) * 1000, "index_cpu_ms": (c3 - c2) * 1000, "rss_index_mb": r2,
                  "all_documents_ms": (t4 - t3) * 1000, "all_documents_cpu_ms": (c4 - c3) * 1000,
                  "rss_documents_mb": r3}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process: steadier than wall time on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def env(src: str | None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": src} if src else dict(os.environ)


def serve_once(src: str | None) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen([str(PYTHON), "-m", "gatehouse", "serve", "--dev", "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "warning"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env(src))
    try:
        sts = client("sts", url)
        for _ in range(600):  # bounded: 60 s at most
            try:
                sts.get_caller_identity()
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server never answered")
        ready, ready_cpu = time.perf_counter() - start, cpu_s(proc.pid)
        before = rss_mb(proc.pid)
        iam = client("iam", url)
        arns = [p["Arn"] for page in iam.get_paginator("list_policies").paginate(Scope="AWS", MaxItems=1000)
                for p in page["Policies"]]
        index = rss_mb(proc.pid)
        for arn in arns:
            default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            iam.get_policy_version(PolicyArn=arn, VersionId=default)
        documents = rss_mb(proc.pid)
        return {"policies": len(arns), "ready_s": ready, "ready_cpu_s": ready_cpu, "rss_started_mb": before,
                "rss_index_mb": index,
                "rss_documents_mb": documents}
    finally:
        proc.terminate()
        proc.wait(15)


def in_process_once(src: str | None) -> dict[str, float]:
    out = subprocess.run([str(PYTHON), "-c", IN_PROCESS], check=True, capture_output=True, text=True, cwd=ROOT,
                         env=env(src))
    result: dict[str, float] = json.loads(out.stdout)
    return result


def summary(runs: list[dict[str, float]]) -> dict[str, str]:
    def fmt(value: float) -> str:
        return f"{value:.0f}" if value >= 100 else f"{value:.3g}"

    return {key: f"{fmt(statistics.median(r[key] for r in runs))} [{fmt(min(r[key] for r in runs))}.."
                 f"{fmt(max(r[key] for r in runs))}]" for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--src", help="another checkout's src directory to measure instead of this one")
    args = parser.parse_args()
    served = [serve_once(args.src) for _ in range(args.rounds)]
    built = [in_process_once(args.src) for _ in range(args.rounds)]
    print(json.dumps({"serve --dev": summary(served), "build() in process": summary(built),
                      "python": sys.version.split()[0], "cpus": os.cpu_count(),
                      "load average": os.getloadavg()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
