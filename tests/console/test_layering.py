"""The console is a client of the services: it imports neither storage nor the wire layer (it is handed
`AwsEndpoint.call` by the composition root), so every page goes through the same checks as the API."""

from __future__ import annotations

import ast
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "src" / "gatehouse" / "console"


def test_the_console_imports_no_storage_and_no_wire() -> None:
    found = []
    for path in CONSOLE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names
                      if n.startswith(("gatehouse.storage", "gatehouse.wire", "gatehouse.app", "sqlalchemy"))]
    assert found == []
