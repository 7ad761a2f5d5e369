"""Validation of a parsed input dict against its shape's constraints, reported the way AWS reports them.

AWS's front end checks every request against the service model before the service sees it and answers
``ValidationError`` with all the problems at once. IAM's current form (LocalStack's AWS-validated snapshots, recorded
in February 2026: test_iam_account_password_policy and test_iam_oidc) no longer shows the value::

    3 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy constraint: Member must have
    value less than or equal to 128; Value at 'passwordReusePrevention' failed to satisfy constraint: ...

and reports a list of strings at the list, with every constraint of its members::

    Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have
    length less than or equal to 40, Member must have length greater than or equal to 40]

Several members' problems come in the iteration order of a Java ``HashMap`` keyed by the member's path (both
recordings' orders are exactly that: ``minimumPasswordLength``, ``passwordReusePrevention``, ``maxPasswordAge``;
``clientIDList``, ``thumbprintList``, ``url``), a member's own problems together. STS keeps the older form,
which quotes the value (``Value 's' at 'roleSessionName' ...``) and follows the model's member order.

Members are named as AWS names them: first letter lower-cased, list elements as ``tags.6.member.value``
(1-based). Values of members the model marks ``sensitive`` are never shown. A missing required member is
``Value null at 'path' ...``. Checked: required members, string/blob/list/map length (strings in UTF-16 code
units, as Java counts them), ``pattern`` (whole-value match), ``enum``, numeric ``min``/``max``. Service-level
rules (policy document sizes after whitespace is stripped, quotas, cross-field rules) are the services' business.

The models' patterns are Java regular expressions; :func:`compile_java_regex` translates them to Python's
``re`` (Unicode categories ``\\p{L}``, surrogate-pair escapes, ``\\Q…\\E``, ASCII-only ``\\w``/``\\d``/``\\s``
as in Java) once per pattern.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel, Shape

from gatehouse.errors import ValidationError

_NULL = object()  # the value of a missing required member


@dataclass(frozen=True, slots=True)
class Problem:
    """One constraint a member breaks: where, its value (`_NULL` when missing), AWS's rule sentence."""

    path: str
    value: Any
    rule: str
    sensitive: bool = False


_Check = Callable[[Any, str, list[Problem]], None]

# Services whose front end answers in the current form (no values; lists at the list; Java HashMap order).
_CURRENT_FORM = frozenset({"iam"})
# Patterns AWS's front end leaves to the service, which answers in its own words: CreateVirtualMFADevice's path
# ("The specified value for path is invalid. ...", LocalStack's AWS-validated test_iam_mfa snapshot, where a path
# too long still gets the front end's length error). The service checks these (services/iam/mfa_devices.py).
_SERVICE_PATTERNS = frozenset({("CreateVirtualMFADevice", "Path")})


class UnsupportedPattern(ValueError):
    """A Java regular expression that uses a construct with no faithful Python equivalent."""


class InputValidator:
    """Checks input dicts against their operation's input shape; checks are compiled once per operation."""

    def __init__(self) -> None:
        self._plans: dict[OperationModel, tuple[_Check, bool]] = {}
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._lock = threading.Lock()

    def errors(self, operation_model: OperationModel, params: Mapping[str, Any]) -> list[str]:
        """Every constraint violation in ``params``, each in AWS's sentence form, in AWS's order."""
        plan = self._plans.get(operation_model)
        if plan is None:
            with self._lock:
                plan = self._plans.get(operation_model) or self._compile_operation(operation_model)
                self._plans[operation_model] = plan
        check, current = plan
        problems: list[Problem] = []
        check(params, "", problems)
        if not problems:
            return []
        if current:
            return [_current_sentence(p) for p in java_hash_order(problems)]
        return [_quoted_sentence(p) for p in problems]

    def validate(self, operation_model: OperationModel, params: Mapping[str, Any]) -> None:
        """Raise ``ValidationError`` ("N validation error(s) detected: …; …") if ``params`` break a constraint."""
        problems = self.errors(operation_model, params)
        if problems:
            raise ValidationError(validation_message(problems))

    def pattern(self, java_pattern: str) -> re.Pattern[str]:
        """The compiled Python equivalent of a model's Java pattern (cached)."""
        compiled = self._patterns.get(java_pattern)
        if compiled is None:
            compiled = self._patterns[java_pattern] = compile_java_regex(java_pattern)
        return compiled

    def _compile_operation(self, operation_model: OperationModel) -> tuple[_Check, bool]:
        current = operation_model.service_model.endpoint_prefix in _CURRENT_FORM
        shape = operation_model.input_shape
        if shape is None:
            return (lambda value, path, problems: None), current
        skip = frozenset(member for name, member in _SERVICE_PATTERNS if name == operation_model.name)
        return _CheckCompiler(self.pattern, lists_at_list=current, skip_patterns=skip).compile(shape), current


def validation_message(problems: list[str]) -> str:
    count = len(problems)
    return f"{count} validation error{'s' if count != 1 else ''} detected: " + "; ".join(problems)


def java_hash_order(problems: list[Problem]) -> list[Problem]:
    """Problems grouped by path, the groups in the order a Java ``HashMap`` keyed by path iterates them: by bucket
    (``(h ^ h >>> 16) & (capacity - 1)`` of ``String.hashCode``; capacity 16, doubled past three quarters full),
    then by insertion within a bucket."""
    groups: dict[str, list[Problem]] = {}
    for p in problems:
        groups.setdefault(p.path, []).append(p)
    capacity = 16
    while len(groups) > capacity * 3 // 4:
        capacity *= 2
    order = sorted(enumerate(groups), key=lambda item: (_java_bucket(item[1], capacity), item[0]))
    return [p for _, path in order for p in groups[path]]


def _java_bucket(text: str, capacity: int) -> int:
    data = text.encode("utf-16-be")  # Java's String hashes UTF-16 code units
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return (h ^ (h >> 16)) & (capacity - 1)


def _current_sentence(p: Problem) -> str:
    shown = "Value null" if p.value is _NULL else "Value"
    return f"{shown} at '{p.path}' failed to satisfy constraint: {p.rule}"


def _quoted_sentence(p: Problem) -> str:
    shown = "Value null" if p.value is _NULL else "Value" if p.sensitive else f"Value '{_show(p.value)}'"
    return f"{shown} at '{p.path}' failed to satisfy constraint: {p.rule}"


def _show(value: Any) -> str:
    """A value as AWS's (Java) messages print it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_show(k)}={_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _utf16_length(text: str) -> int:
    """Length as Java's ``String.length()`` counts it: characters outside the BMP count twice."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class _CheckCompiler:
    """Turns shapes into check functions ``check(value, path, problems)`` that append `Problem`s.

    `lists_at_list`: report a list of scalars' member problems once, at the list, with every member constraint
    (IAM's current form)."""

    def __init__(self, pattern: Callable[[str], re.Pattern[str]], *, lists_at_list: bool = False,
                 skip_patterns: frozenset[str] = frozenset()) -> None:
        self._pattern = pattern
        self._lists_at_list = lists_at_list
        self._skip_patterns = skip_patterns  # top-level members whose pattern the service checks
        self._memo: dict[str, _Check] = {}
        self._top = True

    def compile(self, shape: Shape) -> _Check:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._list(shape)
        if kind == "map":
            return self._map(shape)
        if kind in ("string", "character"):
            return self._string(shape)
        if kind in ("integer", "long", "float", "double"):
            return self._number(shape)
        if kind == "blob":
            return self._sized(shape, len)
        return lambda value, path, problems: None

    def _structure(self, shape: Shape) -> _Check:
        if shape.name in self._memo:
            return self._memo[shape.name]
        members: list[tuple[str, str, bool, _Check]] = []

        def check_structure(value: Any, path: str, problems: list[Problem]) -> None:
            get = value.get
            for name, path_name, required, check in members:
                member_path = f"{path}.{path_name}" if path else path_name
                item = get(name)
                if item is None:
                    if required:
                        problems.append(Problem(member_path, _NULL, "Member must not be null"))
                    continue
                check(item, member_path, problems)

        self._memo[shape.name] = check_structure  # before the members, so recursive shapes find it
        required = set(shape.required_members)
        top, self._top = self._top, False
        for name, member in shape.members.items():
            check = (self._string(member, pattern=False) if top and name in self._skip_patterns
                     else self.compile(member))
            members.append((name, name[:1].lower() + name[1:], name in required, check))
        return check_structure

    def _list(self, shape: Shape) -> _Check:
        check_size = self._sized(shape, len)
        check_item = self.compile(shape.member)
        if self._lists_at_list and shape.member.type_name in ("string", "character", "integer", "long", "float",
                                                                 "double", "blob"):
            return self._scalar_list(shape, check_size, check_item)

        def check_list(value: Any, path: str, problems: list[Problem]) -> None:
            check_size(value, path, problems)
            for index, item in enumerate(value, 1):
                if item is not None:
                    check_item(item, f"{path}.{index}.member", problems)

        return check_list

    @staticmethod
    def _scalar_list(shape: Shape, check_size: _Check, check_item: _Check) -> _Check:
        """IAM's current form: one problem at the list naming every constraint of its members (the recorded
        answers list the maximum length before the minimum)."""
        member = shape.member
        meta = member.metadata
        declared: list[str] = []
        measure = "length" if member.type_name in ("string", "character", "blob") else "value"
        if meta.get("max") is not None:
            declared.append(f"Member must have {measure} less than or equal to {meta['max']}")
        if meta.get("min") is not None:
            declared.append(f"Member must have {measure} greater than or equal to {meta['min']}")
        if meta.get("pattern") is not None:
            declared.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
        if getattr(member, "enum", None):
            declared.append(f"Member must satisfy enum value set: [{', '.join(member.enum)}]")
        sensitive = bool(meta.get("sensitive")) or bool(shape.metadata.get("sensitive"))

        def check_list(value: Any, path: str, problems: list[Problem]) -> None:
            check_size(value, path, problems)
            found: list[Problem] = []
            for index, item in enumerate(value, 1):
                if item is not None:
                    check_item(item, f"{path}.{index}.member", found)
            if found:
                rules = declared + [r for r in dict.fromkeys(p.rule for p in found) if r not in declared]
                problems.append(Problem(path, value, f"Member must satisfy constraint: [{', '.join(rules)}]",
                                        sensitive))

        return check_list

    def _map(self, shape: Shape) -> _Check:
        check_size = self._sized(shape, len)
        check_key = self.compile(shape.key)
        check_value = self.compile(shape.value)

        def check_map(value: Any, path: str, problems: list[Problem]) -> None:
            check_size(value, path, problems)
            for index, (key, item) in enumerate(value.items(), 1):
                check_key(key, f"{path}.{index}.member.key", problems)
                if item is not None:
                    check_value(item, f"{path}.{index}.member.value", problems)

        return check_map

    def _string(self, shape: Shape, *, pattern: bool = True) -> _Check:
        pattern_source = shape.metadata.get("pattern") if pattern else None
        compiled = self._pattern(pattern_source) if pattern_source is not None else None
        enum = tuple(shape.enum) if getattr(shape, "enum", None) else ()
        allowed = frozenset(enum)
        check_size = self._sized(shape, _utf16_length)
        sensitive = bool(shape.metadata.get("sensitive"))
        pattern_rule = f"Member must satisfy regular expression pattern: {pattern_source}"
        enum_rule = f"Member must satisfy enum value set: [{', '.join(enum)}]"

        def check_string(value: Any, path: str, problems: list[Problem]) -> None:
            if not isinstance(value, str):
                return
            if compiled is not None and compiled.fullmatch(value) is None:
                problems.append(Problem(path, value, pattern_rule, sensitive))
            elif "\x00" in value:
                problems.append(Problem(path, value, _NUL_RULE, sensitive))
            check_size(value, path, problems)
            if allowed and value not in allowed:
                problems.append(Problem(path, value, enum_rule, sensitive))

        return check_string

    def _number(self, shape: Shape) -> _Check:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is None and high is None:
            return lambda value, path, problems: None
        sensitive = bool(shape.metadata.get("sensitive"))

        def check_number(value: Any, path: str, problems: list[Problem]) -> None:
            if low is not None and value < low:
                problems.append(Problem(path, value, f"Member must have value greater than or equal to {low}",
                                        sensitive))
            if high is not None and value > high:
                problems.append(Problem(path, value, f"Member must have value less than or equal to {high}",
                                        sensitive))

        return check_number

    @staticmethod
    def _sized(shape: Shape, measure: Callable[[Any], int]) -> _Check:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is None and high is None:
            return lambda value, path, problems: None
        sensitive = bool(shape.metadata.get("sensitive"))

        def check_size(value: Any, path: str, problems: list[Problem]) -> None:
            size = measure(value)
            if low is not None and size < low:
                problems.append(Problem(path, value, f"Member must have length greater than or equal to {low}",
                                        sensitive))
            if high is not None and size > high:
                problems.append(Problem(path, value, f"Member must have length less than or equal to {high}",
                                        sensitive))

        return check_size


# U+0000 is refused in every string, patterned or not: XML 1.0 cannot carry it back in a response, PostgreSQL
# cannot store it in a text column (the driver raises, which would surface as an internal failure), and no IAM
# value needs it. Checked here, once for every member, so both storage backends answer alike.
_NUL_RULE = "Member must not contain the character U+0000"


# --- Java regular expressions → Python ----------------------------------------------------------------------

_POSIX_CLASSES = {  # java.util.regex POSIX classes are US-ASCII only
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}
_JAVA_HORIZONTAL_SPACE = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_JAVA_VERTICAL_SPACE = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"
_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def compile_java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Java (``java.util.regex``) pattern from a service model as an equivalent Python pattern.

    Match it with ``fullmatch``. Compiled with ``re.ASCII`` because Java's ``\\w``, ``\\d``, ``\\s`` and ``\\b``
    are ASCII-only unless a flag says otherwise; Unicode classes such as ``\\p{L}`` are expanded explicitly.
    Raises :class:`UnsupportedPattern` for constructs that cannot be translated faithfully.
    """
    translated = translate_java_regex(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return re.compile(translated, re.ASCII)
        except (re.error, FutureWarning) as exc:
            raise UnsupportedPattern(f"cannot translate Java pattern {pattern!r}: {exc}") from None


def translate_java_regex(pattern: str) -> str:
    """The Python ``re`` source equivalent to the Java pattern ``pattern`` (see :func:`compile_java_regex`)."""
    # Java reads \uD83D\uDE00 as one supplementary code point; Python needs it as \U0001F600.
    pattern = _SURROGATE_PAIR.sub(
        lambda m: f"\\U{0x10000 + ((int(m.group(1), 16) - 0xD800) << 10) + (int(m.group(2), 16) - 0xDC00):08x}",
        pattern,
    )
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            i = _translate_escape(pattern, i, in_class, out)
            continue
        if in_class:
            if ch == "]" and not _class_is_empty(out):
                in_class = False
            elif ch == "[":
                raise UnsupportedPattern(f"nested character classes are not supported: {pattern!r}")
            elif ch == "&" and pattern.startswith("&&", i):
                raise UnsupportedPattern(f"character class intersection is not supported: {pattern!r}")
            elif ch in "-~|" and out and out[-1] == ch:
                out.append("\\" + ch)  # a doubled set operator would be a future Python set operation
                i += 1
                continue
        elif ch == "[":
            in_class = True
            out.append(ch)
            if pattern.startswith("^", i + 1):
                out.append("^")
                i += 1
            i += 1
            continue
        elif ch == "(" and pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")  # named group
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _class_is_empty(out: list[str]) -> bool:
    """True right after ``[`` or ``[^``, where Java (like Python) reads ``]`` as a literal."""
    return bool(out) and (out[-1] == "[" or (out[-1] == "^" and len(out) > 1 and out[-2] == "["))


def _translate_escape(pattern: str, i: int, in_class: bool, out: list[str]) -> int:
    """Translate the escape at ``pattern[i]`` (a backslash) into ``out``; return the index after it."""
    kind = pattern[i + 1]
    if kind in "pP":
        if pattern.startswith("{", i + 2):
            end = pattern.index("}", i + 2)
            name, after = pattern[i + 3 : end], end + 1
        else:
            name, after = pattern[i + 2 : i + 3], i + 3
        ranges = _property_ranges(name)
        if kind == "P" and in_class:
            raise UnsupportedPattern(f"negated property inside a class is not supported: {pattern!r}")
        out.append(ranges if in_class else f"[{'^' if kind == 'P' else ''}{ranges}]")
        return after
    if kind == "Q":
        end = pattern.find("\\E", i + 2)
        literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
        out.append(re.escape(literal))
        return len(pattern) if end < 0 else end + 2
    if kind == "x" and pattern.startswith("{", i + 2):
        end = pattern.index("}", i + 2)
        out.append(f"\\U{int(pattern[i + 3 : end], 16):08x}")
        return end + 1
    if kind in "hv":
        ranges = _JAVA_HORIZONTAL_SPACE if kind == "h" else _JAVA_VERTICAL_SPACE
        out.append(ranges if in_class else f"[{ranges}]")
        return i + 2
    if kind == "z":
        out.append("\\Z")
        return i + 2
    if kind == "Z":
        out.append("(?=\\n?\\Z)")
        return i + 2
    if kind in "RXGHVKk":
        raise UnsupportedPattern(f"\\{kind} is not supported: {pattern!r}")
    out.append(pattern[i : i + 2])
    return i + 2


def _property_ranges(name: str) -> str:
    """Character-class text (without brackets) for a Java ``\\p{name}``."""
    if name in _POSIX_CLASSES:
        return _POSIX_CLASSES[name]
    for prefix in ("general_category=", "gc=", "Is"):
        if name.startswith(prefix) and name[len(prefix) :] in _CATEGORY_NAMES:
            name = name[len(prefix) :]
    if name not in _CATEGORY_NAMES:
        raise UnsupportedPattern(f"unsupported Unicode property \\p{{{name}}}")
    return _category_class(name)


_CATEGORY_NAMES = frozenset(  # Unicode general categories and their one-letter groups, as \p{…} names them
    {"L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No"}
    | {"P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So"}
    | {"Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn"}
)


@functools.cache
def _category_class(name: str) -> str:
    """Class text for a Unicode general category (``L``) or subcategory (``Lu``).

    Derived from ``unicodedata`` in one pass over every code point (~0.2 s, once per process and only for
    patterns that use ``\\p{…}``); memoised as the constant it is.
    """
    ranges = [r for category, spans in _category_spans().items() if category.startswith(name) for r in spans]
    ranges.sort()
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in merged)


@functools.cache
def _category_spans() -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    previous, start = category("\x00"), 0
    for code in range(1, sys.maxunicode + 1):
        current = category(chr(code))
        if current != previous:
            spans.setdefault(previous, []).append((start, code - 1))
            previous, start = current, code
    spans.setdefault(previous, []).append((start, sys.maxunicode))
    return spans
