"""Policy documents as the pages show them: decoded text, numbered lines, the lines a matched statement spans, and
a line diff between two versions."""

from __future__ import annotations

import difflib
import json
import urllib.parse
from dataclasses import dataclass


def document_text(value: str) -> str:
    """A document as text, whether a use case returned it as stored or URL-encoded as IAM's API returns it.

    Encoded with `quote(..., safe="")` a document holds no `{`; every JSON policy document holds one."""
    return value if "{" in value else urllib.parse.unquote(value)


def pretty(text: str) -> str:
    """The document indented for reading (four spaces, as the AWS console shows it); the text as is if not JSON."""
    try:
        return json.dumps(json.loads(text), indent=4, ensure_ascii=False)
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    text: str
    marked: bool = False


def numbered(text: str, marks: list[tuple[int, int]] | None = None) -> list[Line]:
    """The document's lines, numbered from 1; `marks` are (first, last) line ranges to highlight (a matched
    statement's StartPosition and EndPosition lines)."""
    spans = marks or []
    return [Line(n, line, any(first <= n <= last for first, last in spans))
            for n, line in enumerate(text.split("\n"), start=1)]


@dataclass(frozen=True, slots=True)
class DiffRow:
    kind: str  # "same", "removed", "added", "gap"
    old: int | None
    new: int | None
    text: str


def diff(old: str, new: str, context: int = 3) -> list[DiffRow]:
    """A line diff of two documents (both pretty-printed first, so a re-indented version differs only where its
    meaning does), grouped with `context` unchanged lines around each change."""
    a, b = pretty(old).split("\n"), pretty(new).split("\n")
    rows: list[DiffRow] = []
    for n, group in enumerate(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context)):
        if n:
            rows.append(DiffRow("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [DiffRow("same", i + 1, j + 1, a[i]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
                continue
            rows += [DiffRow("removed", i + 1, None, a[i]) for i in range(i1, i2)]
            rows += [DiffRow("added", None, j + 1, b[j]) for j in range(j1, j2)]
    return rows
