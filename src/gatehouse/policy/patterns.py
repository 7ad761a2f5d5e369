"""Wildcard matching for actions, ARNs and `StringLike` values.

Rules (IAM JSON policy elements: Action, Resource; condition operators):
* Actions are matched case-insensitively; `*` matches any run of characters, `?` exactly one.
* ARNs are matched segment by segment: `arn:partition:service:region:account:resource`. In the first five segments a
  wildcard stays inside its segment (it never matches a `:`); in the resource part (everything after the fifth
  colon) `*` and `?` match any character, `:` and `/` included. Matching is case-sensitive throughout, as for the
  `ArnLike` operator.
* Policy variables are substituted only in the resource part, and substituted text is literal.

Patterns are compiled once to the cheapest test that is exact: set membership for literals, `str.startswith` for a
literal followed by one trailing `*` in the resource part, a regular expression otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .variables import Template, Var, has_variables, parse_template, resolve

_SPECIAL = re.compile(r"[*?]")


def glob_regex(text: str, *, one: str = ".") -> str:
    """Regex source for `text`, where `*` and `?` are wildcards and everything else is literal.

    `one` is the class one wildcard character may match (`.`, or `[^:]` inside an ARN segment). Meant for a full
    match; the source never backtracks catastrophically (see `_chain`).
    """
    return _chain(_runs(((text, False),), one), one)


def chunks_regex(chunks: Iterable[tuple[str, bool]], *, one: str = ".") -> str:
    """Regex source for resolved template chunks: the policy's own text keeps its wildcards, values are literal."""
    return _chain(_runs(chunks, one), one)


def _runs(chunks: Iterable[tuple[str, bool]], one: str) -> list[str]:
    """The regex sources of the fixed-length runs (literal text and `?`) between `*` wildcards, in order."""
    runs = [""]
    for text, literal in chunks:
        if literal:
            runs[-1] += re.escape(text)
            continue
        pos = 0
        for m in _SPECIAL.finditer(text):
            runs[-1] += re.escape(text[pos : m.start()])
            if m.group() == "*":
                runs.append("")
            else:
                runs[-1] += one
            pos = m.end()
        runs[-1] += re.escape(text[pos:])
    return runs


def _chain(runs: list[str], one: str) -> str:
    """Join runs with `*` wildcards so that matching takes time linear in the text for each run.

    The naive translation (`.*a.*a.*b`) backtracks through every way of splitting the text among the stars:
    a pattern with k stars costs O(n^k) on a text that almost matches, and both sides of that match can come
    from a caller (a policy in `SimulateCustomPolicy` and its `ResourceArns`; a `StringLike` on
    `aws:UserAgent`). Every run but the last is a fixed-length piece, so placing each at its leftmost possible
    position is always safe: the star after it can absorb whatever a later placement would have left. Each middle
    run is therefore an atomic group `(?>.*?run)`, never revisited, and only the last run (anchored by the full
    match) searches backwards. This is how CPython's `fnmatch.translate` avoids the same blow-up.
    """
    if len(runs) == 1:
        return runs[0]
    first, *middle, last = runs
    return first + "".join(f"(?>{one}*?{run})" for run in middle if run) + f"{one}*{last}"


def compile_glob(text: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A compiled full-match pattern for a wildcard string."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(glob_regex(text), flags)


def literal_prefix(text: str) -> str:
    """The text before the first wildcard or variable: what every match must start with."""
    cut = len(text)
    for token in ("*", "?", "${"):
        i = text.find(token)
        if 0 <= i < cut:
            cut = i
    return text[:cut]


def is_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


class ActionPattern:
    """One `Action`/`NotAction` entry, lower-cased; `service` is None when the vendor part has a wildcard."""

    __slots__ = ("_regex", "kind", "service", "text")

    def __init__(self, text: str) -> None:
        self.text = text.lower()
        vendor, _, _ = self.text.partition(":")
        self.service: str | None = None if self.text == "*" or is_wildcard(vendor) else vendor
        if self.text == "*":
            self.kind = "all"
        elif not is_wildcard(self.text):
            self.kind = "exact"
        elif self.text.find("*") == len(self.text) - 1 and "?" not in self.text:
            self.kind = "prefix"
        else:
            self.kind = "regex"
        self._regex: re.Pattern[str] | None = None

    def matches(self, action_lc: str) -> bool:
        kind = self.kind
        if kind == "exact":
            return action_lc == self.text
        if kind == "prefix":
            return action_lc.startswith(self.text[:-1])
        if kind == "all":
            return True
        if self._regex is None:
            self._regex = re.compile(glob_regex(self.text), re.DOTALL)
        return self._regex.fullmatch(action_lc) is not None


def split_arn(text: str) -> tuple[str, str] | None:
    """`(head, resource_part)` where head is the first five segments with their trailing colon; None if not an ARN."""
    parts = text.split(":", 5)
    if len(parts) < 6:
        return None
    return text[: len(text) - len(parts[5])], parts[5]


def _head_regex(head: str) -> str:
    """The first five ARN segments (with their colons): a wildcard stays inside its segment. Each segment is its
    own chain, so the colons (which only the pattern's literal colons can match) bound every search."""
    return ":".join(glob_regex(segment, one="[^:]") for segment in head.split(":"))


class ArnPattern:
    """One `Resource`/`NotResource` entry (or an `ArnLike` value), compiled for fast matching.

    `kind` is one of: "all" (`*`), "exact", "prefix" (literal + one trailing `*` in the resource part),
    "segments" (whole-segment `*` before the resource part, e.g. any region), "regex",
    "template" (has variables or escapes: compiled per distinct substitution, kept in a small bounded memo).
    Regular expressions are compiled on first use, so policies compile fast and patterns never consulted cost
    nothing. `index_prefix` is the literal start of the resource part, used by the evaluator's resource index;
    None when the pattern cannot be indexed (`*` or not an ARN).
    """

    __slots__ = ("_memo", "_regex", "head_regex", "index_prefix", "kind", "prefix", "rest_exact", "segments",
                 "source", "tail", "text", "vars")

    _MEMO_LIMIT = 256

    def __init__(self, text: str, *, variables: bool = True) -> None:
        self.text = text
        self.prefix = ""
        self.source = ""
        self._regex: re.Pattern[str] | None = None
        self.tail: Template = ()
        self.vars: tuple[Var, ...] = ()
        self.head_regex = ""
        self._memo: dict[Any, re.Pattern[str]] = {}
        self.index_prefix: str | None = None
        if text == "*":
            self.kind = "all"
            return
        split = split_arn(text)
        if split is None:
            # Not an ARN: only an exact or glob match of the whole string can apply.
            self.kind = "regex" if is_wildcard(text) else "exact"
            return
        head, rest = split
        tail = parse_template(rest, variables=variables)
        self.index_prefix = literal_prefix(rest) if variables else _glob_prefix(rest)
        if has_variables(tail):
            self.kind = "template"
            self.tail = tail
            self.vars = tuple(p for p in tail if isinstance(p, Var))
            self.head_regex = _head_regex(head)
            return
        simple_rest = not is_wildcard(rest) or (rest.find("*") == len(rest) - 1 and "?" not in rest)
        if not is_wildcard(text):
            self.kind = "exact"
        elif not is_wildcard(head) and simple_rest:
            self.kind = "prefix"
            self.prefix = text[:-1]
        elif simple_rest and all(seg == "*" or not is_wildcard(seg) for seg in head.split(":")[:5]):
            # Whole-segment wildcards only (`arn:aws:sqs:*:123456789012:queue`): compare segment by segment,
            # no regular expression to compile.
            self.kind = "segments"
            self.segments = tuple((i, seg) for i, seg in enumerate(head.split(":")[:5]) if seg != "*")
            self.prefix = rest[:-1] if rest.endswith("*") else rest
            self.rest_exact = not rest.endswith("*")
        else:
            self.kind = "regex"

    @property
    def regex_source(self) -> str:
        if not self.source:
            split = split_arn(self.text)
            self.source = glob_regex(self.text) if split is None else _head_regex(split[0]) + glob_regex(split[1])
        return self.source

    @property
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            self._regex = re.compile(self.regex_source, re.DOTALL)
        return self._regex

    def matches(self, resource: str, keys: dict[str, Any]) -> bool | None:
        """True/False; None when a variable in the pattern cannot be resolved from `keys`."""
        kind = self.kind
        if kind == "all":
            return True
        if kind == "exact":
            return resource == self.text
        if kind == "prefix":
            return resource.startswith(self.prefix)
        if kind == "segments":
            return self.match_segments(resource)
        if kind == "regex":
            return self.regex.fullmatch(resource) is not None
        return self._match_template(resource, keys)

    def match_segments(self, resource: str) -> bool:
        parts = resource.split(":", 5)
        if len(parts) != 6:
            return False
        for i, seg in self.segments:
            if parts[i] != seg:
                return False
        return parts[5] == self.prefix if self.rest_exact else parts[5].startswith(self.prefix)

    def _match_template(self, resource: str, keys: dict[str, Any]) -> bool | None:
        if len(self.vars) == 1:
            var = self.vars[0]
            memo_key: Any = keys.get(var.key)
            if memo_key.__class__ is not str:
                if var.default is None:
                    return None
                memo_key = var.default
        else:
            values = []
            for var in self.vars:
                value = keys.get(var.key)
                if value.__class__ is not str:
                    if var.default is None:
                        return None
                    value = var.default
                values.append(value)
            memo_key = tuple(values)
        regex = self._memo.get(memo_key)
        if regex is None:
            chunks = resolve(self.tail, keys)
            if chunks is None:
                return None
            if len(self._memo) >= self._MEMO_LIMIT:
                self._memo.clear()
            regex = self._memo[memo_key] = re.compile(self.head_regex + chunks_regex(chunks), re.DOTALL)
        return regex.fullmatch(resource) is not None


def _glob_prefix(text: str) -> str:
    cut = len(text)
    for token in ("*", "?"):
        i = text.find(token)
        if 0 <= i < cut:
            cut = i
    return text[:cut]
