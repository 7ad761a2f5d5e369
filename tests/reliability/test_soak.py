"""The soak of bench/soak.py in its short CI setting: concurrent signed clients reading, writing and asking for
decisions for a few seconds against a real server on loopback. The documented long setting (16 clients, 300 s,
memory slope limit 2 MiB/min) and its figures are in bench/README.md, "Reliability"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.mark.e2e
def test_short_soak_holds(tmp_path: Path) -> None:
    """A short run cannot show the plateau (the policy cache fills for thousands of writes first, see the README),
    so its memory bound is coarse: it catches a leak of kilobytes per request, not a slow one."""
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(SOAK), "--clients", "6", "--duration", "8", "--sample-interval",
                           "0.25", "--max-slope", "40", "--json", str(out)], capture_output=True, text=True,
                          timeout=240)
    assert out.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["failures"] == [], result
    assert done.returncode == 0, done.stderr[-2000:]
    assert result["requests"] > 50 and all(n > 0 for n in result["by_kind"].values()), result
    assert result["server_error_count"] == result["unexpected_count"] == 0
    assert result["lost"] == result["resurrected"] == []
    assert result["users_checked"] > 0
