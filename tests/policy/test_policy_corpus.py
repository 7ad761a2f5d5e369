"""The evaluation corpus in tests/cases/*.jsonl (eval-case format plus an `expect` field), run through `evalcase`
exactly as `gatehouse eval` runs each line. `expect` holds `decision`, and optionally `matched`, `reason`,
`reason_contains`, `warnings_contains` (a located warning about a storage-time rule), or `error_contains` for cases
that must not be decided. A case with `"strict": true` runs as `gatehouse eval --strict` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatehouse.policy import Compiler
from gatehouse.policy.evalcase import evaluate_case

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"


def load() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                case = json.loads(line)
                case.setdefault("id", f"{path.name}:{n}")
                cases.append(case)
    return cases


CASES = load()
COMPILER = Compiler()


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[str(c["id"]) for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    expect = case["expect"]
    result = evaluate_case(case, compiler=COMPILER, strict=bool(case.get("strict")))
    assert result["id"] == case["id"]
    if "error_contains" in expect:
        assert expect["error_contains"] in result.get("error", ""), result
        return
    assert "error" not in result, result
    assert result["decision"] == expect["decision"], (case.get("note"), result)
    if "matched" in expect:
        assert result["matched"] == expect["matched"], result
    if "reason" in expect:
        assert result["reason"] == expect["reason"]
    if "reason_contains" in expect:
        assert expect["reason_contains"] in result["reason"], result["reason"]
    if "warnings_contains" in expect:
        assert any(expect["warnings_contains"] in w for w in result.get("warnings", ())), result
    else:
        assert "warnings" not in result, result
