"""Policy variables: `${aws:username}`, defaults `${aws:PrincipalTag/team, 'none'}`, escapes `${*}` `${?}` `${$}`.

AWS substitutes variables only in policies whose `Version` is 2012-10-17 (in 2008-10-17 policies `${...}` is plain
text), only in the resource part of `Resource`/`NotResource` ARNs and in String, ARN and Bool condition values. A
substituted value is always literal text: a user name containing `*` does not become a wildcard. The escapes exist so
that a pattern can contain a literal `*`, `?` or `$`.

A variable whose key is absent from the request (or multivalued) and has no default has no value ("Policy variables
with no value" in "IAM policy elements: Variables and tags"): a `Resource` entry that uses it matches no resource
(and as a `NotResource` entry excludes none), and a condition value that uses it is effectively null, which the
inverted operators (`StringNotEquals`, ...) match (`conditions.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_VAR = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class VariableSyntaxError(ValueError):
    """A `${` without a closing brace, or an empty or malformed variable."""


@dataclass(frozen=True, slots=True)
class Var:
    """A variable reference; `key` is the lower-cased context key name it reads."""

    name: str
    key: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Escaped:
    """A character written as `${*}`, `${?}` or `${$}`: always literal, never a wildcard."""

    char: str


Part = str | Var | Escaped
Template = tuple[Part, ...]


def parse_template(text: str, *, variables: bool = True) -> Template:
    """Split `text` into literal chunks, variables and escapes.

    With `variables=False` (a 2008-10-17 policy) the whole text is one literal chunk.
    """
    if not variables or "${" not in text:
        return (text,) if text else ()
    parts: list[Part] = []
    pos = 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            break
        end = text.find("}", start)
        if end < 0:
            raise VariableSyntaxError(f"Missing closing brace in policy variable: {text[start:]}")
        if start > pos:
            parts.append(text[pos:start])
        inner = text[start + 2 : end]
        if inner in _ESCAPES:
            parts.append(Escaped(_ESCAPES[inner]))
        else:
            parts.append(_variable(inner))
        pos = end + 1
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _variable(inner: str) -> Var:
    # `name, 'default'` is split by hand: the regular expression it replaces (`^\s*([^,]+?)\s*,\s*'([^']*)'\s*$`)
    # backtracked quadratically on a long run of spaces, and white space is free of the policy size quota.
    before, comma, after = inner.partition(",")
    after = after.strip()
    if comma and before.strip() and len(after) >= 2 and after[0] == after[-1] == "'" and "'" not in after[1:-1]:
        name, default = before.strip(), after[1:-1]
    else:
        name, default = inner.strip(), None
    if not name or "${" in name or "'" in name or "," in name:
        raise VariableSyntaxError(f"Invalid policy variable: ${{{inner}}}")
    return Var(name, name.lower(), default)


def has_variables(template: Template) -> bool:
    """True when substitution can change the text (variables or escapes present)."""
    return any(not isinstance(p, str) for p in template)


def variable_keys(template: Template) -> list[str]:
    """The context keys a template reads, as written in the policy."""
    return [p.name for p in template if isinstance(p, Var)]


def resolve(template: Template, keys: dict[str, Any]) -> list[tuple[str, bool]] | None:
    """Substitute variables from `keys` (lower-cased names).

    Returns `(text, literal)` chunks: `literal` is False for the policy's own text (where `*` and `?` keep their
    wildcard meaning in pattern contexts) and True for substituted values and escapes. Returns None when a
    variable cannot be resolved.
    """
    out: list[tuple[str, bool]] = []
    for part in template:
        if isinstance(part, str):
            out.append((part, False))
        elif isinstance(part, Escaped):
            out.append((part.char, True))
        else:
            value = keys.get(part.key)
            if value.__class__ is not str:
                if part.default is None:
                    return None
                value = part.default
            out.append((value, True))
    return out


def resolve_text(template: Template, keys: dict[str, Any]) -> str | None:
    """Substitute and join: the value a String/ARN/Bool operator compares with, or None if unresolvable."""
    chunks = resolve(template, keys)
    if chunks is None:
        return None
    return "".join(text for text, _ in chunks)
