"""The condition operator names: parsing `ForAnyValue:StringLikeIfExists` into its parts.

Kept apart from `conditions.py` (which evaluates) because validation needs the names and value rules without
compiling anything.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from .dates import aws_date

# base operator (lower-case) -> (canonical name, family, negated)
BASE_OPERATORS: dict[str, tuple[str, str, bool]] = {
    name.lower(): (name, family, negated)
    for name, family, negated in (
        ("StringEquals", "string", False),
        ("StringNotEquals", "string", True),
        ("StringEqualsIgnoreCase", "string_ic", False),
        ("StringNotEqualsIgnoreCase", "string_ic", True),
        ("StringLike", "string_like", False),
        ("StringNotLike", "string_like", True),
        ("NumericEquals", "numeric_eq", False),
        ("NumericNotEquals", "numeric_eq", True),
        ("NumericLessThan", "numeric_lt", False),
        ("NumericLessThanEquals", "numeric_le", False),
        ("NumericGreaterThan", "numeric_gt", False),
        ("NumericGreaterThanEquals", "numeric_ge", False),
        ("DateEquals", "date_eq", False),
        ("DateNotEquals", "date_eq", True),
        ("DateLessThan", "date_lt", False),
        ("DateLessThanEquals", "date_le", False),
        ("DateGreaterThan", "date_gt", False),
        ("DateGreaterThanEquals", "date_ge", False),
        ("Bool", "bool", False),
        ("BinaryEquals", "binary", False),
        ("IpAddress", "ip", False),
        ("NotIpAddress", "ip", True),
        ("ArnEquals", "arn", False),
        ("ArnLike", "arn", False),
        ("ArnNotEquals", "arn", True),
        ("ArnNotLike", "arn", True),
        ("Null", "null", False),
    )
}

# Families whose values may contain policy variables ("Where you can use policy variables").
VARIABLE_FAMILIES = frozenset({"string", "string_ic", "string_like", "arn", "bool"})


@dataclass(frozen=True, slots=True)
class Operator:
    """A parsed condition operator."""

    text: str
    name: str  # canonical base name, e.g. "StringLike"
    family: str
    negated: bool
    set_op: str | None  # "any", "all" or None
    if_exists: bool


@functools.lru_cache(maxsize=1024)
def parse_operator(text: str) -> Operator | None:
    """Parse an operator name; None when it is not one IAM knows."""
    rest = text
    set_op = None
    lowered = rest.lower()
    if lowered.startswith("forallvalues:"):
        set_op, rest = "all", rest[len("ForAllValues:") :]
    elif lowered.startswith("foranyvalue:"):
        set_op, rest = "any", rest[len("ForAnyValue:") :]
    if_exists = False
    if rest.lower().endswith("ifexists"):
        if_exists, rest = True, rest[: -len("IfExists")]
    entry = BASE_OPERATORS.get(rest.lower())
    if entry is None:
        return None
    name, family, negated = entry
    if family == "null" and (if_exists or set_op):
        return None
    return Operator(text, name, family, negated, set_op, if_exists)


def parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """Epoch seconds for an ISO 8601 date/time (W3C profile) or an epoch number; None when neither.

    Anything IAM's own date parser reads (`dates.aws_date`: "01T", "2016-12-13t2:00:00+23") is read the same way,
    so a policy value IAM accepts always names an instant.
    """
    text = text.strip()
    if not text:
        return None
    digits = text.lstrip("-").replace(".", "", 1)
    if digits.isascii() and digits.isdigit():  # not isdigit() alone: "²" is a digit that float() refuses
        return float(text)
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return aws_date(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@functools.lru_cache(maxsize=4096)
def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR (an address alone means /32 or /128); None when malformed."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_bool(text: str) -> bool | None:
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


def parse_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
