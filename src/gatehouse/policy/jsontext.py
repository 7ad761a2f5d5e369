"""A JSON reader that remembers where every value sits in the text.

The standard `json` module returns values without positions, but the policy simulator must answer with the line and
column of each matched statement (`StartPosition`/`EndPosition`), and validation errors should point at the line
that is wrong. This reader produces the same Python values as `json.loads` and, beside them, a span (start and end
offsets) for every value keyed by its JSON path.

Duplicate object keys are reported rather than silently resolved: a policy whose meaning depends on which of two
`"Effect"` keys wins is not something an authorization engine should guess about.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

JsonPath = tuple[str | int, ...]

# The standard library's string scanner (C-accelerated); its stub does not export it.
scanstring = json.decoder.scanstring  # type: ignore[attr-defined]

_WS = re.compile(r"[ \t\n\r]*")
_NEWLINE = re.compile("\n")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")

#: Deepest nesting of arrays and objects the reader accepts. A policy needs six levels
#: (``{"Statement":[{"Condition":{"op":{"key":[…]}}}]}``); the limit keeps a hostile document from exhausting the
#: interpreter's stack (a ``RecursionError`` is not a syntax error and would escape as an internal failure).
MAX_DEPTH = 64


class JsonSyntaxError(ValueError):
    """Raised for text that is not JSON; `offset` is where the reader gave up."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(slots=True)
class ParsedJson:
    """The decoded value plus where each part of it came from."""

    value: Any
    text: str
    spans: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    duplicate_keys: list[JsonPath] = field(default_factory=list)

    _newlines: list[int] | None = None

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and 1-based column of a character offset (newline offsets indexed once per document)."""
        if self._newlines is None:
            self._newlines = [m.start() for m in _NEWLINE.finditer(self.text)]
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def parse_json(text: str) -> ParsedJson:
    """Decode `text` like `json.loads`, recording spans; raises `JsonSyntaxError`."""
    result = ParsedJson(None, text)
    reader = _Reader(text, result)
    pos = reader.skip(0)
    value, pos = reader.value(pos, ())
    pos = reader.skip(pos)
    if pos != len(text):
        raise JsonSyntaxError("Extra data after the JSON value", pos)
    result.value = value
    return result


class _Reader:
    __slots__ = ("out", "text")

    def __init__(self, text: str, out: ParsedJson) -> None:
        self.text = text
        self.out = out

    def skip(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, path: JsonPath) -> tuple[Any, int]:
        text = self.text
        if pos >= len(text):
            raise JsonSyntaxError("Unexpected end of document", pos)
        ch = text[pos]
        start = pos
        value: Any
        if ch in "{[" and len(path) >= MAX_DEPTH:
            raise JsonSyntaxError(f"Nested more than {MAX_DEPTH} levels deep", pos)
        if ch == "{":
            value, pos = self.object(pos, path)
        elif ch == "[":
            value, pos = self.array(pos, path)
        elif ch == '"':
            try:
                value, pos = scanstring(text, pos + 1, True)
            except json.JSONDecodeError as exc:
                raise JsonSyntaxError(exc.msg, exc.pos) from None
        elif text.startswith("true", pos):
            value, pos = True, pos + 4
        elif text.startswith("false", pos):
            value, pos = False, pos + 5
        elif text.startswith("null", pos):
            value, pos = None, pos + 4
        else:
            m = _NUMBER.match(text, pos)
            if not m:
                raise JsonSyntaxError("Expecting a value", pos)
            literal = m.group()
            try:
                value = float(literal) if any(c in literal for c in ".eE") else int(literal)
            except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits())
                raise JsonSyntaxError("Number too long", pos) from None
            pos = m.end()
        self.out.spans[path] = (start, pos)
        return value, pos

    def object(self, pos: int, path: JsonPath) -> tuple[dict[str, Any], int]:
        text = self.text
        result: dict[str, Any] = {}
        pos = self.skip(pos + 1)
        if text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not text.startswith('"', pos):
                raise JsonSyntaxError("Expecting a property name in double quotes", pos)
            try:
                key, pos = scanstring(text, pos + 1, True)
            except json.JSONDecodeError as exc:
                raise JsonSyntaxError(exc.msg, exc.pos) from None
            pos = self.skip(pos)
            if not text.startswith(":", pos):
                raise JsonSyntaxError("Expecting ':' delimiter", pos)
            pos = self.skip(pos + 1)
            child = (*path, key)
            if key in result:
                self.out.duplicate_keys.append(child)
            result[key], pos = self.value(pos, child)
            pos = self.skip(pos)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if text.startswith("}", pos):
                return result, pos + 1
            raise JsonSyntaxError("Expecting ',' delimiter", pos)

    def array(self, pos: int, path: JsonPath) -> tuple[list[Any], int]:
        text = self.text
        result: list[Any] = []
        pos = self.skip(pos + 1)
        if text.startswith("]", pos):
            return result, pos + 1
        while True:
            item, pos = self.value(pos, (*path, len(result)))
            result.append(item)
            pos = self.skip(pos)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if text.startswith("]", pos):
                return result, pos + 1
            raise JsonSyntaxError("Expecting ',' delimiter", pos)


def parse_policy_json(text: str) -> ParsedJson:
    """Like `parse_json` but at C speed, recording spans only for the document and its statements.

    Policies are parsed far more often than they are wrong; a document with duplicate keys, or one that does not
    look like a policy, is re-read with `parse_json` so that problems can be located precisely.
    """
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(items)
        if len(result) != len(items):
            duplicates.append("")
        return result

    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(exc.msg, exc.pos) from None
    except (RecursionError, ValueError):
        # Nested too deeply for the C decoder, or a number with more digits than int() converts: the careful
        # reader refuses both with a located syntax error instead of letting them escape.
        return parse_json(text)
    if duplicates or not isinstance(value, dict):
        return parse_json(text)
    result = ParsedJson(value, text)
    start = _WS.match(text, 0).end()  # type: ignore[union-attr]
    result.spans[()] = (start, len(text.rstrip()))
    _statement_spans(text, start, decoder, result)
    return result


def _statement_spans(text: str, pos: int, decoder: json.JSONDecoder, out: ParsedJson) -> None:
    """Walk the top-level object, recording where `Statement` and each of its elements start and end."""
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    while pos < len(text) and text[pos] == '"':
        key, pos = scanstring(text, pos + 1, True)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ':'
        if key == "Statement" and text.startswith("[", pos):
            begin = pos
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            index = 0
            while not text.startswith("]", pos):
                _, end = decoder.raw_decode(text, pos)
                out.spans[("Statement", index)] = (pos, end)
                index += 1
                pos = _WS.match(text, end).end()  # type: ignore[union-attr]
                if text.startswith(",", pos):
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            pos += 1
            out.spans[("Statement",)] = (begin, pos)
        else:
            begin = pos
            _, pos = decoder.raw_decode(text, pos)
            out.spans[(key,)] = (begin, pos)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


def pointer(path: JsonPath) -> str:
    """A JSON path as the policy tools print it: `/Statement/1/Condition`."""
    return "".join(f"/{part}" for part in path)
