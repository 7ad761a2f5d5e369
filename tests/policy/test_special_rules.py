"""Service-specific evaluation rules AWS documents: `sts:GetCallerIdentity` needs no permission (STS API reference),
and a KMS key policy must allow the account before identity-based policies count for the key (KMS Developer Guide,
"Key policies in AWS KMS")."""

from __future__ import annotations

import pytest

from gatehouse.policy import DecisionKind, PolicyType

from ._support import ACCOUNT, ALICE, OTHER, allow, ctx, decide, deny, doc

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ALLOW_DECRYPT = doc(allow("kms:Decrypt", "*"))


def key_policy(principal: object, action: str = "kms:*") -> dict[str, object]:
    return doc({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"})


@pytest.mark.parametrize("principal", [
    ALICE, ROOT, f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1", f"arn:aws:sts::{ACCOUNT}:federated-user/carol",
    f"arn:aws:iam::{ACCOUNT}:role/app",
])
def test_get_caller_identity_is_allowed_under_every_deny(principal: str) -> None:
    decision = decide([doc(deny())], ctx("sts:GetCallerIdentity", "*", principal=principal),
                      scps=[[doc(deny())]], rcps=[[doc({"Effect": "Deny", "Principal": "*", "Action": "*",
                                                        "Resource": "*"})]],
                      boundary=doc(deny()))
    assert decision.kind is DecisionKind.ALLOW
    assert decision.matched == () and decision.rule and "needs no permission" in decision.rule


def test_get_caller_identity_needs_an_authenticated_principal() -> None:
    assert decide([], ctx("sts:GetCallerIdentity", "*", principal="*")).kind is DecisionKind.IMPLICIT_DENY


def test_other_sts_actions_are_still_decided_by_policies() -> None:
    assert decide([doc(deny())], ctx("sts:GetSessionToken", "*")).kind is DecisionKind.EXPLICIT_DENY


@pytest.mark.parametrize(("note", "key_pol", "identity", "principal", "expected"), [
    ("the default key policy trusts the account", key_policy(ROOT), [ALLOW_DECRYPT], ALICE, "Allow"),
    ("the bare account id trusts it too", key_policy(ACCOUNT), [ALLOW_DECRYPT], ALICE, "Allow"),
    ("a key policy naming only bob leaves alice's identity policy without effect", key_policy(BOB),
     [ALLOW_DECRYPT], ALICE, "ImplicitDeny"),
    ("the account must be trusted for the action asked", key_policy(ROOT, "kms:DescribeKey"), [ALLOW_DECRYPT],
     ALICE, "ImplicitDeny"),
    ("trusting the account delegates: the identity policy must still allow", key_policy(ROOT), [], ALICE,
     "ImplicitDeny"),
    ("a key policy naming the user grants on its own", key_policy(ALICE, "kms:Decrypt"), [], ALICE, "Allow"),
    ("the root user is locked out by a key policy that does not name the account", key_policy(BOB), [], ROOT,
     "ImplicitDeny"),
    ("the root user with the default key policy", key_policy(ROOT), [], ROOT, "Allow"),
    ("a key policy's deny wins", doc({"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
                                     {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
                                      "Resource": "*"}), [ALLOW_DECRYPT], ALICE, "ExplicitDeny"),
])
def test_kms_key_policy_must_trust_the_account(note: str, key_pol: dict[str, object], identity: list[dict[str, object]],
                                               principal: str, expected: str) -> None:
    decision = decide(identity, ctx("kms:Decrypt", KEY, principal=principal), resource=key_pol)
    assert decision.kind.value == expected, note
    if expected == "ImplicitDeny" and identity:
        assert decision.denied_by is PolicyType.RESOURCE


def test_kms_without_a_key_policy_follows_the_identity_policy() -> None:
    assert decide([ALLOW_DECRYPT], ctx("kms:Decrypt", KEY)).allowed


def test_kms_cross_account_needs_both_sides() -> None:
    other_key = KEY.replace(ACCOUNT, OTHER)
    trusted = key_policy(f"arn:aws:iam::{ACCOUNT}:root")
    assert decide([ALLOW_DECRYPT], ctx("kms:Decrypt", other_key), resource=trusted).allowed
    assert not decide([], ctx("kms:Decrypt", other_key), resource=trusted).allowed
    assert not decide([ALLOW_DECRYPT], ctx("kms:Decrypt", other_key), resource=key_policy(OTHER)).allowed


def test_other_services_resource_policies_are_unchanged() -> None:
    """Within one account, an S3 bucket policy naming someone else does not cancel an identity allow."""
    bucket_policy = doc({"Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "s3:*", "Resource": "*"})
    assert decide([doc(allow("s3:*", "*"))], ctx(), resource=bucket_policy).allowed
