"""Condition operators compiled to small functions `(ctx, missing) -> bool`.

Semantics ("IAM JSON policy elements: Condition operators", "Single-valued vs. multivalued context keys"):
* Several values for one key are OR'd: the key matches when it matches any policy value. Several keys, and several
  operators, are AND'd (the statement compiler does that).
* A key missing from the request makes a positive operator false and a negated one (`StringNotEquals`,
  `ArnNotLike`, `NotIpAddress`, ...) true. `...IfExists` makes a missing key true. `Null` tests presence itself.
* `ForAnyValue:` is true when at least one request value satisfies the operator; false for a missing key or an
  empty set. `ForAllValues:` is true when every request value satisfies it; true for a missing key or empty set.
  With a negated operator the test per request value is the negation ("matches none of the policy values").
* Without a set operator a multivalued key is read as a set all the same: a positive operator holds when some
  value matches, a negated one when no value matches.
* A request value that cannot be read as the operator's type (a number, a date, an IP address) matches nothing.
* A policy variable with no value (its key absent from the request, or multivalued, and no default) is
  "effectively null" (IAM User Guide, "Policy variables with no value"): the policy value that holds it is equal to,
  like, or the same ARN as no request value. So `StringEquals`/`StringLike`/`ArnLike` do not match on it, and the
  inverted operators (`StringNotEquals`, `StringNotEqualsIgnoreCase`, `StringNotLike`, `ArnNotEquals`,
  `ArnNotLike`) do: `Deny ... StringNotEquals {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}` denies a
  principal without a `Team` tag.

Keys absent from the request are appended to `missing` (for the simulator's `MissingContextValues`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from .document import ConditionClause
from .operators import (
    Operator,
    parse_base64,
    parse_bool,
    parse_date,
    parse_network,
    parse_number,
    parse_operator,
)
from .patterns import ArnPattern, chunks_regex, compile_glob
from .variables import Template, has_variables, parse_template, resolve, resolve_text

ConditionFn = Callable[[Any, list[str] | None], bool]
Test = Callable[[str, Any], bool]  # (request value, ctx) -> matches some policy value


def compile_condition(clause: ConditionClause, *, variables: bool) -> ConditionFn:
    """One operator/key pair as a function of the request context."""
    op = parse_operator(clause.operator)
    if op is None:  # parse() rejects these; be safe for hand-built documents.
        raise ValueError(f"unknown condition operator {clause.operator}")
    key = clause.key.lower()
    name = clause.key
    if op.family == "null":
        return _null(key, name, clause.values)
    templates = [parse_template(v, variables=variables) for v in clause.values]
    dynamic = variables and any(has_variables(t) for t in templates)
    test = _TESTS[op.family](op, clause.values, templates, dynamic)
    return _wrap(op, key, name, test, _fast(op, clause.values, dynamic))


def _wrap(op: Operator, key: str, name: str, test: Test, fast: Callable[[str], bool] | None) -> ConditionFn:
    negated, set_op = op.negated, op.set_op
    if op.if_exists or set_op == "all":
        missing_result = True
    elif set_op == "any":
        missing_result = False
    else:
        missing_result = negated

    def slow(value: Any, ctx: Any, missing: list[str] | None) -> bool:
        if value is None or (value.__class__ is tuple and not value):
            if missing is not None and value is None:
                missing.append(name)
            return missing_result
        values = (value,) if value.__class__ is str else value
        results = [test(v, ctx) for v in values]
        if set_op == "all":
            return all(r != negated for r in results)
        if set_op == "any":
            return any(r != negated for r in results)
        return any(results) != negated

    if fast is not None and set_op is None and not negated:
        def condition(ctx: Any, missing: list[str] | None) -> bool:
            value = ctx.keys.get(key)
            if value.__class__ is str:
                return fast(value)
            return slow(value, ctx, missing)
    elif fast is not None and set_op is None:
        def condition(ctx: Any, missing: list[str] | None) -> bool:
            value = ctx.keys.get(key)
            if value.__class__ is str:
                return not fast(value)
            return slow(value, ctx, missing)
    else:
        def condition(ctx: Any, missing: list[str] | None) -> bool:
            return slow(ctx.keys.get(key), ctx, missing)
    return condition


def _null(key: str, name: str, values: tuple[str, ...]) -> ConditionFn:
    wanted = {parse_bool(v) for v in values}

    def condition(ctx: Any, missing: list[str] | None) -> bool:
        value = ctx.keys.get(key)
        absent = value is None or (value.__class__ is tuple and not value)
        if value is None and missing is not None:
            missing.append(name)
        return absent in wanted
    return condition


# -- per-family tests --------------------------------------------------------------------------------------------


def _fast(op: Operator, values: tuple[str, ...], dynamic: bool) -> Callable[[str], bool] | None:
    """A single-string test with no variables to resolve, for the common case; None to use the generic path."""
    if dynamic:
        return None
    if op.family == "string":
        return frozenset(values).__contains__
    if op.family == "bool":
        wanted = frozenset(v.lower() for v in values)
        return lambda v: v.lower() in wanted
    if op.family == "ip":
        return _ip_test(values)
    if op.family.startswith("date_"):
        return _date_test(op.family, values)
    return None


def _string(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    if not dynamic:
        wanted = frozenset(values)
        return lambda v, ctx: v in wanted

    def test(v: str, ctx: Any) -> bool:
        # A template with no value resolves to None, which equals no request value.
        return any(resolve_text(t, ctx.keys) == v for t in templates)
    return test


def _string_ic(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    if not dynamic:
        wanted = frozenset(v.lower() for v in values)
        return lambda v, ctx: v.lower() in wanted

    def test(v: str, ctx: Any) -> bool:
        lowered = v.lower()
        for t in templates:
            text = resolve_text(t, ctx.keys)
            if text is not None and text.lower() == lowered:
                return True
        return False
    return test


def _string_like(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    if not dynamic:
        regexes = [compile_glob(v) for v in values]
        return lambda v, ctx: any(r.fullmatch(v) is not None for r in regexes)
    import re

    memo: dict[tuple[str, ...], re.Pattern[str]] = {}

    def test(v: str, ctx: Any) -> bool:
        for t in templates:
            chunks = resolve(t, ctx.keys)
            if chunks is None:  # no value: like nothing
                continue
            memo_key = tuple(text for text, _ in chunks)
            regex = memo.get(memo_key)
            if regex is None:
                if len(memo) > 256:
                    memo.clear()
                regex = memo[memo_key] = re.compile(chunks_regex(chunks), re.DOTALL)
            if regex.fullmatch(v) is not None:
                return True
        return False
    return test


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _numeric(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    compare = _COMPARE[op.family.split("_")[1]]
    wanted = [n for n in (parse_number(v) for v in values) if n is not None]

    def test(v: str, ctx: Any) -> bool:
        n = parse_number(v)
        return n is not None and any(compare(n, w) for w in wanted)
    return test


def _is_canonical_time(text: str) -> bool:
    """`YYYY-MM-DDTHH:MM:SSZ`: such strings order like the instants they name."""
    return len(text) == 20 and text[4] == "-" and text[7] == "-" and text[10] == "T" and text[13] == ":" \
        and text[19] == "Z"


def _date_test(family: str, values: tuple[str, ...]) -> Callable[[str], bool]:
    compare = _COMPARE[family.split("_")[1]]
    wanted = [(d, v) for d, v in ((parse_date(v), v) for v in values) if d is not None]
    canonical = all(_is_canonical_time(v) for _, v in wanted)

    def test(v: str) -> bool:
        if canonical and _is_canonical_time(v):
            return any(compare(v, w) for _, w in wanted)  # type: ignore[arg-type]
        d = parse_date(v)
        return d is not None and any(compare(d, w) for w, _ in wanted)
    return test


def _date(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    test = _date_test(op.family, values)
    return lambda v, ctx: test(v)


def _bool(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    return _string_ic(op, values, templates, dynamic)


def _binary(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    wanted = {b for b in (parse_base64(v) for v in values) if b is not None}

    def test(v: str, ctx: Any) -> bool:
        decoded = parse_base64(v)
        return (decoded if decoded is not None else v.encode()) in wanted
    return test


def _parse_ip(text: str) -> tuple[int, int] | None:
    """(version, integer) of an address; IPv4 without the ipaddress module, which is slow for the common case."""
    parts = text.split(".")
    if len(parts) == 4:
        try:
            a, b, c, d = (int(p) for p in parts)
        except ValueError:
            return None
        if 0 <= a <= 255 and 0 <= b <= 255 and 0 <= c <= 255 and 0 <= d <= 255:
            return 4, (a << 24) | (b << 16) | (c << 8) | d
        return None
    try:
        address = ipaddress.ip_address(text.strip().split("/")[0])
    except ValueError:
        return None
    return address.version, int(address)


def _ip_test(values: tuple[str, ...]) -> Callable[[str], bool]:
    networks = []
    for value in values:
        net = parse_network(value)
        if net is not None:
            networks.append((net.version, int(net.network_address), int(net.netmask)))
    v4 = [(addr, mask) for version, addr, mask in networks if version == 4]

    def test(v: str) -> bool:
        parts = v.split(".")
        if len(parts) == 4 and v4:
            try:
                a, b, c, d = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])
            except ValueError:
                return False
            if 0 <= a <= 255 and 0 <= b <= 255 and 0 <= c <= 255 and 0 <= d <= 255:
                number = (a << 24) | (b << 16) | (c << 8) | d
                for addr, mask in v4:
                    if number & mask == addr:
                        return True
            return False
        parsed = _parse_ip(v)
        if parsed is None:
            return False
        version, number = parsed
        return any(version == nv and number & mask == addr for nv, addr, mask in networks)
    return test


def _ip(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    test = _ip_test(values)
    return lambda v, ctx: test(v)


def _arn(op: Operator, values: tuple[str, ...], templates: list[Template], dynamic: bool) -> Test:
    patterns = [ArnPattern(v, variables=dynamic) for v in values]

    def test(v: str, ctx: Any) -> bool:
        # `matches` is None for a pattern whose variable has no value: it names no ARN.
        return any(pattern.matches(v, ctx.keys) for pattern in patterns)
    return test


_TESTS: dict[str, Callable[[Operator, tuple[str, ...], list[Template], bool], Test]] = {
    "string": _string,
    "string_ic": _string_ic,
    "string_like": _string_like,
    "numeric_eq": _numeric,
    "numeric_lt": _numeric,
    "numeric_le": _numeric,
    "numeric_gt": _numeric,
    "numeric_ge": _numeric,
    "date_eq": _date,
    "date_lt": _date,
    "date_le": _date,
    "date_gt": _date,
    "date_ge": _date,
    "bool": _bool,
    "binary": _binary,
    "ip": _ip,
    "arn": _arn,
}
