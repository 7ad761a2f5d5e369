"""Policy documents as the pages show them: decoded text, numbered lines, the lines a matched statement spans, and
a line diff between two versions."""

from __future__ import annotations

import difflib
import json
import urllib.parse
from dataclasses import dataclass

from gatehouse.policy.jsontext import JsonPath, JsonSyntaxError, ParsedJson, parse_json


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


@dataclass(frozen=True, slots=True)
class StatementView:
    lines: list[Line]  # the document's lines with the statement's marked
    effect: str  # "Allow", "Deny", or "" when the text cannot be read
    indented: bool  # the lines are the document re-indented (it was stored compact), not as stored
    sid: str = ""  # the statement's Sid, when it has one


def statement_view(text: str, start: tuple[int, int] | None, end: tuple[int, int] | None) -> StatementView:
    """The document with the statement that starts at `start` (line, column; the simulator's StartPosition)
    marked. A document stored compact (the statement on one line, or sharing lines with another) is shown
    indented, the same statement marked, so the highlight points at one readable statement."""
    try:
        parsed = parse_json(text)
    except JsonSyntaxError:
        parsed = None
    found = _statement_at(parsed, start) if parsed is not None and start else None
    if parsed is None or found is None:
        return StatementView(numbered(text, [(start[0], end[0])] if start and end else []), "", False)
    path, statement = found
    effect = str(statement.get("Effect", "")) if isinstance(statement, dict) else ""
    sid = str(statement.get("Sid") or "") if isinstance(statement, dict) else ""
    first, last = (parsed.line_col(offset)[0] for offset in parsed.spans[path])
    crowded = any(other != path and len(other) == len(path) and other[0] == "Statement"
                  and parsed.line_col(span[0])[0] <= last and parsed.line_col(span[1])[0] >= first
                  for other, span in parsed.spans.items())
    if not crowded and first != last:
        return StatementView(numbered(text, [(first, last)]), effect, False, sid)
    indented = json.dumps(parsed.value, indent=4, ensure_ascii=False)
    again = parse_json(indented)
    first, last = (again.line_col(offset)[0] for offset in again.spans[path])
    return StatementView(numbered(indented, [(first, last)]), effect, True, sid)


def _statement_at(parsed: ParsedJson, start: tuple[int, int]) -> tuple[JsonPath, object] | None:
    """The statement (its JSON path and value) whose text begins at `start`, a position as the simulator reports
    it (`policy.document.Position`: the column one past the opening brace's)."""
    doc = parsed.value
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    candidates: list[tuple[JsonPath, object]] = []
    if isinstance(statements, list):
        candidates = [(("Statement", n), st) for n, st in enumerate(statements)]
    elif isinstance(statements, dict):
        candidates = [(("Statement",), statements)]
    for path, statement in candidates:
        span = parsed.spans.get(path)
        if span is not None and parsed.line_col(span[0] + 1) == start:
            return path, statement
    return None
