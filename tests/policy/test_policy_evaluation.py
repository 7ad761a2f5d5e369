"""Policy-type interactions, each against the IAM User Guide's "Policy evaluation logic", "Cross-account policy
evaluation logic", "Permissions boundaries for IAM entities", "Session policies", and AWS Organizations' SCP and RCP
evaluation pages."""

from __future__ import annotations

from typing import Any

import pytest

from gatehouse.policy import DecisionKind, PolicyKind

from ._support import ACCOUNT, ALICE, OTHER, allow, ctx, decide, deny, doc

S3 = "arn:aws:s3:::bucket/key"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
FED = f"arn:aws:sts::{ACCOUNT}:federated-user/carol"
ALLOW_ALL = doc(allow())
ALLOW_S3 = doc(allow("s3:*", "*"))
DENY_S3 = doc(deny("s3:*", "*"))
NOTHING = doc(allow("sqs:*", "*"))


def rp(principal: Any, action: str = "s3:*", effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return doc({"Effect": effect, "Principal": principal, "Action": action, "Resource": "*", **extra})


CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, PolicyKind | None]] = [
    # identity-based
    ("no policy: implicit deny", {}, {}, "ImplicitDeny", PolicyKind.IDENTITY),
    ("identity allow", {"identity": [ALLOW_S3]}, {}, "Allow", None),
    ("allow in one of several policies is enough", {"identity": [NOTHING, ALLOW_S3]}, {}, "Allow", None),
    ("explicit deny overrides allow", {"identity": [ALLOW_ALL, DENY_S3]}, {}, "ExplicitDeny", PolicyKind.IDENTITY),
    # permissions boundary
    ("boundary and identity both allow", {"identity": [ALLOW_ALL], "boundary": ALLOW_S3}, {}, "Allow", None),
    ("boundary does not allow: implicit deny", {"identity": [ALLOW_ALL], "boundary": NOTHING}, {}, "ImplicitDeny",
     PolicyKind.BOUNDARY),
    ("boundary alone grants nothing", {"boundary": ALLOW_ALL}, {}, "ImplicitDeny", PolicyKind.IDENTITY),
    ("explicit deny in boundary", {"identity": [ALLOW_ALL], "boundary": doc(allow(), deny("s3:*"))}, {},
     "ExplicitDeny", PolicyKind.BOUNDARY),
    # SCPs
    ("SCP allows", {"identity": [ALLOW_S3], "scps": [[ALLOW_ALL]]}, {}, "Allow", None),
    ("SCP level without allow", {"identity": [ALLOW_S3], "scps": [[ALLOW_ALL], [NOTHING]]}, {}, "ImplicitDeny",
     PolicyKind.SCP),
    ("every SCP level must allow", {"identity": [ALLOW_S3], "scps": [[ALLOW_ALL], [ALLOW_S3], [ALLOW_ALL]]}, {},
     "Allow", None),
    ("one policy of a level is enough", {"identity": [ALLOW_S3], "scps": [[NOTHING, ALLOW_S3]]}, {}, "Allow",
     None),
    ("SCP explicit deny", {"identity": [ALLOW_S3], "scps": [[ALLOW_ALL, DENY_S3]]}, {}, "ExplicitDeny",
     PolicyKind.SCP),
    ("SCP alone grants nothing", {"scps": [[ALLOW_ALL]]}, {}, "ImplicitDeny", PolicyKind.IDENTITY),
    ("SCPs limit the root user", {"scps": [[NOTHING]]}, {"principal": ROOT}, "ImplicitDeny", PolicyKind.SCP),
    # RCPs
    ("RCP deny", {"identity": [ALLOW_S3], "rcps": [[doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                          "Resource": "*"})]]}, {}, "ExplicitDeny", PolicyKind.RCP),
    ("RCPs cannot grant, only deny (RCPFullAWSAccess implied)", {"identity": [ALLOW_S3], "rcps": [[doc(
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"})]]}, {}, "Allow", None),
    ("RCP with condition on principal account", {"identity": [ALLOW_S3], "rcps": [[doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OTHER}}})]]}, {}, "ExplicitDeny",
     PolicyKind.RCP),
    ("RCPs do not apply to service principals", {"resource": rp({"Service": "logs.amazonaws.com"}),
                                                 "rcps": [[doc({"Effect": "Deny", "Principal": "*", "Action": "*",
                                                                "Resource": "*"})]]},
     {"principal": "logs.amazonaws.com"}, "Allow", None),
    # root user
    ("root needs no identity policy in its account", {}, {"principal": ROOT}, "Allow", None),
    ("identity policies do not apply to root", {"identity": [DENY_S3]}, {"principal": ROOT}, "Allow", None),
    ("resource policy deny applies to root", {"resource": rp({"AWS": ACCOUNT}, effect="Deny")},
     {"principal": ROOT}, "ExplicitDeny", PolicyKind.RESOURCE),
    ("root across accounts needs the resource policy", {},
     {"principal": f"arn:aws:iam::{OTHER}:root", "resource_account": ACCOUNT}, "ImplicitDeny", PolicyKind.RESOURCE),
    ("root across accounts with resource policy", {"resource": rp({"AWS": OTHER})},
     {"principal": f"arn:aws:iam::{OTHER}:root", "resource_account": ACCOUNT}, "Allow", None),
    # resource-based policies, same account
    ("same account: resource policy naming the user grants alone", {"resource": rp({"AWS": ALICE})}, {}, "Allow",
     None),
    ("same account: user grant not limited by boundary", {"resource": rp({"AWS": ALICE}), "boundary": NOTHING}, {},
     "Allow", None),
    ("same account: identity or resource policy is enough", {"identity": [ALLOW_S3], "resource": rp(
        {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"})}, {}, "Allow", None),
    ("same account: account principal delegates to identity policies", {"resource": rp({"AWS": ACCOUNT})}, {},
     "ImplicitDeny", PolicyKind.IDENTITY),
    ("same account: account principal plus identity allow", {"resource": rp({"AWS": ROOT}),
                                                             "identity": [ALLOW_S3]}, {}, "Allow", None),
    ("same account: wildcard principal grants", {"resource": rp("*")}, {}, "Allow", None),
    ("same account: resource policy naming someone else", {"resource": rp({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"})},
     {}, "ImplicitDeny", PolicyKind.IDENTITY),
    ("resource policy explicit deny wins over identity allow", {"identity": [ALLOW_ALL], "resource": rp(
        {"AWS": ALICE}, effect="Deny")}, {}, "ExplicitDeny", PolicyKind.RESOURCE),
    ("resource policy for another action", {"resource": rp({"AWS": ALICE}, action="sqs:*")}, {}, "ImplicitDeny",
     PolicyKind.IDENTITY),
    ("resource policy condition", {"resource": rp({"AWS": ALICE}, Condition={
        "Bool": {"aws:SecureTransport": "true"}})}, {"keys": {"aws:SecureTransport": "false"}}, "ImplicitDeny",
     PolicyKind.IDENTITY),
    # role sessions
    ("session: identity allow (no session policy)", {"identity": [ALLOW_S3]}, {"principal": SESSION}, "Allow",
     None),
    ("session policy must allow too", {"identity": [ALLOW_ALL], "session": [NOTHING]}, {"principal": SESSION},
     "ImplicitDeny", PolicyKind.SESSION),
    ("session policy intersection", {"identity": [ALLOW_ALL], "session": [ALLOW_S3]}, {"principal": SESSION},
     "Allow", None),
    ("session policies: any of them may allow", {"identity": [ALLOW_ALL], "session": [NOTHING, ALLOW_S3]},
     {"principal": SESSION}, "Allow", None),
    ("session policy grants nothing alone", {"session": [ALLOW_ALL]}, {"principal": SESSION}, "ImplicitDeny",
     PolicyKind.IDENTITY),
    ("session policy explicit deny", {"identity": [ALLOW_ALL], "session": [doc(allow(), deny("s3:*"))]},
     {"principal": SESSION}, "ExplicitDeny", PolicyKind.SESSION),
    ("resource policy naming the session ARN is not limited by session policy",
     {"resource": rp({"AWS": SESSION}), "session": [NOTHING], "boundary": NOTHING}, {"principal": SESSION},
     "Allow", None),
    ("resource policy naming the role ARN stands in for identity", {"resource": rp({"AWS": ROLE})},
     {"principal": SESSION}, "Allow", None),
    ("resource policy naming the role ARN is limited by the session policy",
     {"resource": rp({"AWS": ROLE}), "session": [NOTHING]}, {"principal": SESSION}, "ImplicitDeny",
     PolicyKind.SESSION),
    ("resource policy naming the role ARN is limited by the boundary",
     {"resource": rp({"AWS": ROLE}), "boundary": NOTHING}, {"principal": SESSION}, "ImplicitDeny",
     PolicyKind.BOUNDARY),
    ("role ARN with a path names the session's role", {"resource": rp({"AWS": f"arn:aws:iam::{ACCOUNT}:role/p/app"})},
     {"principal": SESSION, "role_arn": f"arn:aws:iam::{ACCOUNT}:role/p/app"}, "Allow", None),
    # federated users (GetFederationToken)
    ("federated user without session policy is denied", {"identity": [ALLOW_ALL]}, {"principal": FED},
     "ImplicitDeny", PolicyKind.SESSION),
    ("federated user: identity and session policy", {"identity": [ALLOW_ALL], "session": [ALLOW_S3]},
     {"principal": FED}, "Allow", None),
    ("federated user: resource policy naming the session grants directly", {"resource": rp({"AWS": FED})},
     {"principal": FED}, "Allow", None),
    ("federated user: resource policy naming the IAM user is limited by the session policy",
     {"resource": rp({"AWS": f"arn:aws:iam::{ACCOUNT}:user/carol"}), "session": [NOTHING]}, {"principal": FED},
     "ImplicitDeny", PolicyKind.SESSION),
    # cross-account
    ("cross account: identity alone is not enough", {"identity": [ALLOW_S3]},
     {"resource_account": OTHER}, "ImplicitDeny", PolicyKind.RESOURCE),
    ("cross account: resource policy alone is not enough", {"resource": rp({"AWS": ALICE})},
     {"resource_account": OTHER}, "ImplicitDeny", PolicyKind.IDENTITY),
    ("cross account: both sides allow", {"identity": [ALLOW_S3], "resource": rp({"AWS": ALICE})},
     {"resource_account": OTHER}, "Allow", None),
    ("cross account: account principal is the resource side's consent", {"identity": [ALLOW_S3],
                                                                         "resource": rp({"AWS": ACCOUNT})},
     {"resource_account": OTHER}, "Allow", None),
    ("cross account: boundary still limits", {"identity": [ALLOW_S3], "resource": rp({"AWS": ALICE}),
                                              "boundary": NOTHING}, {"resource_account": OTHER}, "ImplicitDeny",
     PolicyKind.BOUNDARY),
    ("cross account: resource account taken from the ARN", {"identity": [ALLOW_ALL]},
     {"resource": f"arn:aws:sqs:us-east-1:{OTHER}:q", "action": "sqs:SendMessage"}, "ImplicitDeny",
     PolicyKind.RESOURCE),
    # service principals and anonymous callers
    ("service principal granted by resource policy", {"resource": rp({"Service": "cloudtrail.amazonaws.com"})},
     {"principal": "cloudtrail.amazonaws.com"}, "Allow", None),
    ("service principal not named", {"resource": rp({"Service": "ec2.amazonaws.com"})},
     {"principal": "cloudtrail.amazonaws.com"}, "ImplicitDeny", PolicyKind.RESOURCE),
    ("service principals are not subject to SCPs", {"resource": rp({"Service": "cloudtrail.amazonaws.com"}),
                                                    "scps": [[NOTHING]]},
     {"principal": "cloudtrail.amazonaws.com"}, "Allow", None),
    ("anonymous needs a public resource policy", {"resource": rp("*")}, {"principal": "*"}, "Allow", None),
    ("anonymous and an account principal", {"resource": rp({"AWS": ACCOUNT})}, {"principal": "*"}, "ImplicitDeny",
     PolicyKind.RESOURCE),
    # NotPrincipal
    ("NotPrincipal deny excludes only fully named principals", {"identity": [ALLOW_ALL], "resource": rp(
        {"AWS": [ALICE, ROOT]}, effect="Deny", **{})}, {}, "ExplicitDeny", PolicyKind.RESOURCE),
]


@pytest.mark.parametrize(("note", "policies", "request_kw", "expected", "denied_by"), CASES,
                         ids=[c[0] for c in CASES])
def test_interaction(note: str, policies: dict[str, Any], request_kw: dict[str, Any], expected: str,
                     denied_by: PolicyKind | None) -> None:
    request_kw = dict(request_kw)
    action = request_kw.pop("action", "s3:GetObject")
    resource = request_kw.pop("resource", S3)
    decision = decide(policies.get("identity"), ctx(action, resource, **request_kw),
                      **{k: v for k, v in policies.items() if k != "identity"})
    assert decision.kind.value == expected, note
    assert decision.denied_by is denied_by, note
    assert decision.error is None


def not_principal(effect: str, names: list[str]) -> dict[str, Any]:
    return doc({"Effect": effect, "NotPrincipal": {"AWS": names}, "Action": "s3:*", "Resource": "*"})


def test_not_principal_deny_spares_fully_named_user() -> None:
    policy = not_principal("Deny", [ALICE, ROOT])
    assert decide([ALLOW_ALL], ctx(), resource=policy).allowed
    assert decide([ALLOW_ALL], ctx(principal=f"arn:aws:iam::{ACCOUNT}:user/bob"), resource=policy).kind \
        is DecisionKind.EXPLICIT_DENY


def test_not_principal_deny_needs_the_account_listed() -> None:
    """AWS: without the account ARN in NotPrincipal, the deny still applies to the user."""
    assert decide([ALLOW_ALL], ctx(), resource=not_principal("Deny", [ALICE])).kind is DecisionKind.EXPLICIT_DENY


def test_not_principal_deny_always_applies_with_a_boundary() -> None:
    """AWS: NotPrincipal with Deny always denies principals that have a permissions boundary."""
    decision = decide([ALLOW_ALL], ctx(), resource=not_principal("Deny", [ALICE, ROOT]), boundary=ALLOW_ALL)
    assert decision.kind is DecisionKind.EXPLICIT_DENY


def test_not_principal_session_needs_role_and_session_and_account() -> None:
    names = [SESSION, ROLE, ROOT]
    assert decide([ALLOW_ALL], ctx(principal=SESSION), resource=not_principal("Deny", names)).allowed
    assert not decide([ALLOW_ALL], ctx(principal=SESSION), resource=not_principal("Deny", [SESSION, ROOT])).allowed


TRUST = [
    ("trust policy naming the user: no identity permission needed (same account)",
     {"AWS": ALICE}, [], "Allow", None),
    ("trust policy naming the account: identity permission needed", {"AWS": ACCOUNT}, [], "ImplicitDeny",
     PolicyKind.IDENTITY),
    ("trust policy naming the account plus identity allow", {"AWS": ACCOUNT},
     [doc(allow("sts:AssumeRole", ROLE))], "Allow", None),
    ("trust policy naming someone else", {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
     [doc(allow("sts:AssumeRole", "*"))], "ImplicitDeny", PolicyKind.TRUST),
]


@pytest.mark.parametrize(("note", "principal", "identity", "expected", "denied_by"), TRUST, ids=[t[0] for t in TRUST])
def test_assume_role_trust(note: str, principal: Any, identity: list[Any], expected: str,
                           denied_by: PolicyKind | None) -> None:
    trust = doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    decision = decide(identity, ctx("sts:AssumeRole", ROLE), resource=trust, trust=True)
    assert (decision.kind.value, decision.denied_by) == (expected, denied_by), note


def test_trust_policy_cross_account_needs_both_sides() -> None:
    trust = doc({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"})
    caller = f"arn:aws:iam::{OTHER}:user/dave"
    assert not decide([], ctx("sts:AssumeRole", ROLE, principal=caller), resource=trust, trust=True).allowed
    allowed = decide([doc(allow("sts:AssumeRole", ROLE))], ctx("sts:AssumeRole", ROLE, principal=caller),
                     resource=trust, trust=True)
    assert allowed.allowed


def test_trust_policy_for_a_service() -> None:
    trust = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert decide([], ctx("sts:AssumeRole", ROLE, principal="ec2.amazonaws.com"), resource=trust, trust=True).allowed
    assert not decide([], ctx("sts:AssumeRole", ROLE, principal="lambda.amazonaws.com"), resource=trust,
                      trust=True).allowed


def test_trust_policy_for_web_identity() -> None:
    trust = doc({"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"},
                 "Action": "sts:AssumeRoleWithWebIdentity",
                 "Condition": {"StringEquals": {"accounts.google.com:aud": "my-app"}}})
    request = ctx("sts:AssumeRoleWithWebIdentity", ROLE, principal="accounts.google.com",
                  keys={"accounts.google.com:aud": "my-app"})
    assert decide([], request, resource=trust, trust=True).allowed


def test_matched_statements_name_policy_sid_index_and_position() -> None:
    from gatehouse.policy import LabelledPolicy, PolicySet, compile_policy, evaluate, parse
    text = '{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    ps = PolicySet(identity=[LabelledPolicy(compile_policy(parse(text)), "arn:aws:iam::aws:policy/S3")])
    decision = evaluate(ps, ctx())
    (m,) = decision.matched
    assert (m.policy, m.sid, m.index, m.policy_type) == ("arn:aws:iam::aws:policy/S3", "A", 0, PolicyKind.IDENTITY)
    assert (m.start.line, m.start.column, m.end.line, m.end.column) == (1, 39, 1, 97)


def test_explicit_deny_lists_only_deny_statements() -> None:
    decision = decide([ALLOW_ALL, DENY_S3])
    assert [m.effect for m in decision.matched] == ["Deny"]


def test_an_error_in_evaluation_never_allows() -> None:
    from gatehouse.policy import PolicySet, RequestContext, evaluate

    class Broken(RequestContext):
        @property  # type: ignore[misc]
        def keys(self) -> Any:
            raise RuntimeError("boom")

    ps = PolicySet(identity=[])
    broken = Broken.__new__(Broken)
    decision = evaluate(ps, broken)
    assert decision.kind is DecisionKind.IMPLICIT_DENY and decision.error
