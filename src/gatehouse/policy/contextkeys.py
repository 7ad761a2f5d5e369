"""The condition keys policies refer to, for `GetContextKeysForPrincipalPolicy`/`GetContextKeysForCustomPolicy`.

AWS lists each key named in a `Condition` block, and each key read through a policy variable in a resource or a
condition value, once, in the case first written, sorted without regard to case.
"""

from __future__ import annotations

from collections.abc import Iterable

from .document import Policy
from .variables import parse_template, variable_keys


def context_keys(policies: Iterable[Policy]) -> list[str]:
    """Distinct condition keys referenced by `policies`, in AWS's order."""
    seen: dict[str, str] = {}

    def add(name: str) -> None:
        seen.setdefault(name.lower(), name)

    for policy in policies:
        variables = policy.variables_enabled
        for st in policy.statements:
            for clause in st.conditions:
                add(clause.key)
                for value in clause.values:
                    for name in _variables(value, variables):
                        add(name)
            for resource in (st.resources or ()) + (st.not_resources or ()):
                for name in _variables(resource, variables):
                    add(name)
    return sorted(seen.values(), key=str.lower)


def _variables(text: str, enabled: bool) -> list[str]:
    if not enabled or "${" not in text:
        return []
    try:
        return variable_keys(parse_template(text))
    except ValueError:
        return []
