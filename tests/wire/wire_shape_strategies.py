"""Hypothesis strategies that generate values for any botocore shape, as boto3 would pass or receive them.

Used to drive the Query protocol against botocore's own serializer and parser over every IAM/STS operation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

# Text that survives every hop under test: no surrogates (not encodable), and for XML no characters XML 1.0
# cannot carry (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF). Markup characters and CR are kept on purpose.
_XML_SAFE = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"],
)
_TEXT = st.text(_XML_SAFE, max_size=12) | st.sampled_from(["", " ", "a&b", "<x>", "\r\n", "ünïcödé", "😀", "a b+c=d"])

_INT_LIMITS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def value_for(shape: Shape, *, for_output: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``shape``. Input values avoid what the Query wire cannot tell apart from absence (an empty
    nested structure or map sends no parameters); output timestamps are whole seconds, as AWS renders them."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return st.nothing()
        required = set(shape.required_members)
        members = {n: value_for(m, for_output=for_output, depth=depth + 1) for n, m in shape.members.items()}
        if shape.metadata.get("union"):  # a tagged union: exactly one member set
            return st.one_of([s.map(lambda v, n=n: {n: v}) for n, s in members.items() if not s.is_empty])
        fixed = {n: s for n, s in members.items() if n in required}
        optional = {n: s for n, s in members.items() if n not in required and not s.is_empty}
        strategy = st.fixed_dictionaries(fixed, optional=optional)
        return strategy if for_output or depth == 0 else strategy.filter(bool)
    if kind == "list":
        items = value_for(shape.member, for_output=for_output, depth=depth + 1)
        return st.just([]) if items.is_empty else st.lists(items, max_size=3)
    if kind == "map":
        return st.dictionaries(
            value_for(shape.key, for_output=for_output, depth=depth + 1),
            value_for(shape.value, for_output=for_output, depth=depth + 1),
            min_size=0 if for_output else 1,
            max_size=3,
        )
    if kind in ("string", "character"):
        enum = getattr(shape, "enum", None)
        return st.sampled_from(enum) if enum else _TEXT
    if kind in _INT_LIMITS:
        low, high = _INT_LIMITS[kind]
        return st.integers(shape.metadata.get("min", low), shape.metadata.get("max", high))
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if kind == "blob":
        return st.binary(max_size=16)
    if kind == "timestamp":
        moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC))
        return moments.map(lambda d: d.replace(microsecond=0)) if for_output else moments
    raise ValueError(f"no strategy for shape type {kind}")
