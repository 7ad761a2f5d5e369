#!/usr/bin/env python3
"""Benchmark adapter for Gatehouse's policy engine (contract: ../shared/bench/README.md, "Engine adapter contract").

    policy_engine.py WORKLOAD.json --passes P --limit L --warmup W

Compiles the workload's policies once (parse + validate + compile + PolicySet: `compile_ms`), builds each request's
`RequestContext` (the engine's native form, like the peers' pre-serialised contexts), runs W untimed decisions, then
times P passes of `evaluate` over the first L requests and prints one JSON line last. No decision is memoised:
every pass evaluates actions, resources and conditions afresh. `notes.context_us` reports the cost of building a
context, which a server pays once per request on top of the decision.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from gatehouse.policy import (
    Compiler,
    DecisionKind,
    LabelledPolicy,
    PolicySet,
    Principal,
    RequestContext,
    evaluate,
    parse,
)

CHARS = {DecisionKind.ALLOW: "A", DecisionKind.IMPLICIT_DENY: "I", DecisionKind.EXPLICIT_DENY: "E"}


def main() -> None:
    ap = argparse.ArgumentParser(prog="policy_engine")
    ap.add_argument("workload")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--variant", default="default", choices=["default"])
    args = ap.parse_args()

    with open(args.workload) as f:
        workload = json.load(f)
    requests = workload["requests"][: args.limit] if args.limit else workload["requests"]
    texts = [json.dumps(p["document"]) for p in workload["policies"]]
    names = [p["name"] for p in workload["policies"]]
    # The harness's own data (10,000 parsed requests) is static: keep the cyclic GC from rescanning it while we
    # compile and decide, as a long-running server's steady heap would not be either.
    gc.collect()
    gc.freeze()

    t0 = time.perf_counter()
    compiler = Compiler()
    policies = [LabelledPolicy(compiler.compile(parse(text)), name) for text, name in zip(texts, names, strict=True)]
    policy_set = PolicySet(identity=policies)
    compile_ms = (time.perf_counter() - t0) * 1e3

    principal = Principal.from_arn(workload["principal"]["arn"])
    t0 = time.perf_counter()
    prepared = [RequestContext(principal, r["action"], r["resource"], keys=r["context"]) for r in requests]
    context_us = (time.perf_counter() - t0) * 1e6 / max(1, len(prepared))

    def decide_all(batch: list[RequestContext]) -> str:
        chars = CHARS
        return "".join([chars[evaluate(policy_set, ctx).kind] for ctx in batch])

    if args.warmup:
        decide_all(prepared[: min(args.warmup, len(prepared))])
    seconds = []
    decisions = ""
    for _ in range(args.passes):
        t0 = time.perf_counter()
        decisions = decide_all(prepared)
        seconds.append(time.perf_counter() - t0)

    print(json.dumps({
        "engine": "gatehouse", "variant": args.variant, "compile_ms": round(compile_ms, 3),
        "requests_per_pass": len(prepared), "pass_seconds": [round(s, 6) for s in seconds],
        "decisions": decisions, "notes": {"context_us": round(context_us, 2)},
    }))


if __name__ == "__main__":
    main()
