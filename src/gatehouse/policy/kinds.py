"""The kinds of policy document, and which elements each kind must or must not have.

The same JSON language serves several purposes in AWS, with different grammar rules: identity policies (and the
permissions boundaries and session policies that use the same grammar) never name a principal, resource-based
policies must, a role trust policy must name a principal and has no resource, and the two AWS Organizations policy
types have their own restrictions (see `validate.py`).
"""

from __future__ import annotations

from enum import Enum


class PolicyKind(Enum):
    """What a policy document is for; decides which grammar rules apply."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"

    @property
    def principal_required(self) -> bool:
        return self in (PolicyKind.RESOURCE, PolicyKind.TRUST, PolicyKind.RCP)

    @property
    def principal_forbidden(self) -> bool:
        return self in (PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP)

    @property
    def resource_forbidden(self) -> bool:
        return self is PolicyKind.TRUST

    @property
    def alphanumeric_sids(self) -> bool:
        """IAM's own policies allow only [0-9A-Za-z] in a Sid; other services' resource policies allow more."""
        return self in (PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.TRUST)
