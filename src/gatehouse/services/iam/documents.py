"""Policy documents as IAM accepts them: valid for their kind (checked by the policy engine) and within AWS's size
quotas, which count characters other than white space."""

from __future__ import annotations

import json

from gatehouse.errors import LimitExceeded, MalformedPolicyDocument
from gatehouse.policy import PolicyKind, validate

MANAGED_POLICY_MAX = 6144
TRUST_POLICY_MAX = 2048
INLINE_MAX = {"user": 2048, "group": 5120, "role": 10240}
_WHITESPACE = str.maketrans("", "", " \t\r\n")


def policy_size(document: str) -> int:
    return len(document.translate(_WHITESPACE))


def _legacy_version(document: str) -> bool:
    try:
        parsed = json.loads(document)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the stack; not an internal failure
        return False  # the validator reports the syntax
    return isinstance(parsed, dict) and parsed.get("Version", "2008-10-17") == "2008-10-17"


class PolicyDocuments:
    """Checks a document before it is stored; raises AWS's errors with AWS's wording."""

    def check(self, document: str, kind: PolicyKind = PolicyKind.IDENTITY) -> None:
        problems = validate(document, kind=kind)
        if problems:
            raise MalformedPolicyDocument(problems[0].message)

    def check_managed(self, document: str) -> None:
        if policy_size(document) > MANAGED_POLICY_MAX:
            raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")
        if _legacy_version(document):
            # Managed policies need the current language version (inline ones may still omit it): CreatePolicy with
            # no Version or "2008-10-17" is refused so, before any other check (LocalStack's AWS-validated
            # test_iam_policies.snapshot.json, invalid-1, -2, -60, -65, -66).
            raise MalformedPolicyDocument("Policy document must be version 2012-10-17 or greater.")
        self.check(document)

    def check_trust(self, document: str) -> None:
        if policy_size(document) > TRUST_POLICY_MAX:
            raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")
        self.check(document, PolicyKind.TRUST)

    def check_inline(self, document: str, owner: str, owner_name: str, others: list[str]) -> None:
        """Inline policies count together: the sum over all of an entity's inline policies has a quota."""
        self.check(document)
        limit = INLINE_MAX[owner]
        if policy_size(document) + sum(policy_size(d) for d in others) > limit:
            raise LimitExceeded(f"Maximum policy size of {limit} bytes exceeded for {owner} {owner_name}")
