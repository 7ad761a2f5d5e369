"""Policy documents as IAM accepts them: valid for their kind (checked by the policy engine) and within AWS's size
quotas, which count characters other than white space.

Documents are stored, and returned, exactly as submitted, white space included (as AWS returns them), so AWS's
quotas alone would let one account store ~128 KiB of padding per document across thousands of documents. Gatehouse
adds one quota of its own: the UTF-8 bytes of every document an account stores (managed policy versions, inline
policies, role trust policies), white space included, at most `DOCUMENT_BYTES_PER_ACCOUNT`; a write that would
pass it is refused with LimitExceeded and changes nothing."""

from __future__ import annotations

from gatehouse.errors import LimitExceeded, MalformedPolicyDocument
from gatehouse.policy import PolicyKind, validate
from gatehouse.storage.repository import UnitOfWork

MANAGED_POLICY_MAX = 6144
TRUST_POLICY_MAX = 2048
INLINE_MAX = {"user": 2048, "group": 5120, "role": 10240}
_WHITESPACE = str.maketrans("", "", " \t\r\n")
# 64 MiB: ten times what AWS's default quotas allow compact (1,500 policies x 5 versions x 6,144 characters is
# 46 MB at most, far beyond any real account), and small enough that summing it on a write stays in milliseconds.
DOCUMENT_BYTES_PER_ACCOUNT = 64 * 1024 * 1024


def policy_size(document: str) -> int:
    return len(document.translate(_WHITESPACE))


class PolicyDocuments:
    """Checks a document before it is stored; raises AWS's errors with AWS's wording."""

    def __init__(self, account_bytes: int = DOCUMENT_BYTES_PER_ACCOUNT) -> None:
        self.account_bytes = account_bytes

    def check_stored(self, tx: UnitOfWork) -> None:
        """After a document is written in `tx`: the account's stored documents within their quota, or
        LimitExceeded (raised inside the unit of work, so the write is undone)."""
        if tx.accounts.document_bytes() > self.account_bytes:
            raise LimitExceeded(f"Cannot exceed quota for PolicyDocumentBytesPerAccount: {self.account_bytes}")

    def check(self, document: str, kind: PolicyKind = PolicyKind.IDENTITY, *, require_version: bool = False) -> None:
        """IAM's first objection to `document`, if any: the validator lists problems in IAM's check order."""
        problems = validate(document, kind=kind, require_version=require_version)
        if problems:
            raise MalformedPolicyDocument(problems[0].message)

    def check_managed(self, document: str) -> None:
        if policy_size(document) > MANAGED_POLICY_MAX:
            raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")
        # Managed policies need the current language version (inline ones may still omit it): CreatePolicy with no
        # Version or "2008-10-17" is refused after the syntax checks and before every other one (LocalStack's
        # AWS-validated test_iam_policies.snapshot.json, invalid-1, -2, -60, -65, -66; "2013-10-17" is a syntax
        # error, invalid-3).
        self.check(document, require_version=True)

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
