"""SCP and RCP evaluation, pure: a table of cases, each with the rule of AWS's "SCP evaluation" / "RCP evaluation" it
shows. Levels run from the organization root through the OUs to the account; every SCP level must allow, any
explicit Deny (SCP or RCP) denies; RCPs only deny (RCPFullAWSAccess allows at every level)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from gatehouse.organization import (
    FULL_AWS_ACCESS,
    RCP,
    RCP_FULL_AWS_ACCESS,
    SCP,
    OrgAccount,
    Organization,
    OrgPolicy,
    OrgShape,
    OrgUnit,
)
from gatehouse.policy import DecisionKind, PolicyKind, PolicySet, Principal, RequestContext, evaluate
from tests.policy._support import ACCOUNT, OTHER, allow, compiled, deny, doc

FULL = doc(allow())
RCP_FULL = doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
DENY_CREATE_USER = doc(deny("iam:CreateUser"))
ALLOW_IAM_ONLY = doc(allow("iam:*"))
OUTSIDERS = doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
                 "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdefghij"}}})
ADMIN = doc(allow())


def scp(*levels: list[dict[str, Any]]) -> list[list[Any]]:
    return [[compiled(d, PolicyKind.SCP) for d in level] for level in levels]


def rcp(*levels: list[dict[str, Any]]) -> list[list[Any]]:
    return [[compiled(d, PolicyKind.RCP) for d in level] for level in levels]


@dataclass(frozen=True)
class Case:
    note: str
    principal: str
    action: str
    identity: tuple[dict[str, Any], ...]
    scps: list[list[Any]]
    rcps: list[list[Any]]
    want: DecisionKind
    keys: dict[str, Any] | None = None
    resource: str = "*"
    by: PolicyKind | None = None


USER = f"arn:aws:iam::{ACCOUNT}:user/admin"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/OrganizationAccountAccessRole/s"
A, D, IMPLICIT = DecisionKind.ALLOW, DecisionKind.EXPLICIT_DENY, DecisionKind.IMPLICIT_DENY

CASES = [
    Case("FullAWSAccess at every level changes nothing", USER, "iam:CreateUser", (ADMIN,),
         scp([FULL], [FULL], [FULL]), [], A),
    Case("a Deny at an OU denies an administrator", USER, "iam:CreateUser", (ADMIN,),
         scp([FULL], [FULL, DENY_CREATE_USER], [FULL]), [], D, by=PolicyKind.SCP),
    Case("the Deny names one action: others stay allowed", USER, "iam:CreateGroup", (ADMIN,),
         scp([FULL], [FULL, DENY_CREATE_USER], [FULL]), [], A),
    Case("an SCP binds the account's root user too", ROOT, "iam:CreateUser", (),
         scp([FULL, DENY_CREATE_USER], [FULL]), [], D, by=PolicyKind.SCP),
    Case("the root, with SCPs allowing, needs no identity policy", ROOT, "iam:CreateUser", (),
         scp([FULL], [FULL]), [], A),
    Case("a level without an Allow for the action denies implicitly (every level must allow)", USER,
         "sts:GetSessionToken", (ADMIN,), scp([FULL], [ALLOW_IAM_ONLY], [FULL]), [], IMPLICIT, by=PolicyKind.SCP),
    Case("an Allow at every level but the account's is not enough", USER, "iam:CreateUser", (ADMIN,),
         scp([FULL], [FULL], []), [], IMPLICIT, by=PolicyKind.SCP),
    Case("SCPs never grant: without an identity Allow it stays denied", USER, "iam:CreateUser", (),
         scp([FULL], [FULL]), [], IMPLICIT, by=PolicyKind.IDENTITY),
    Case("an assumed-role session is bound like any principal", ROLE_SESSION, "iam:CreateUser", (ADMIN,),
         scp([FULL], [DENY_CREATE_USER, FULL]), [], D, by=PolicyKind.SCP),
    Case("RCPFullAWSAccess alone changes nothing", USER, "sts:AssumeRole", (ADMIN,),
         [], rcp([RCP_FULL], [RCP_FULL]), A, keys={"aws:PrincipalOrgID": "o-abcdefghij"}),
    Case("an RCP Deny on principals outside the organization: inside, allowed", USER, "sts:AssumeRole", (ADMIN,),
         [], rcp([RCP_FULL], [RCP_FULL, OUTSIDERS]), A, keys={"aws:PrincipalOrgID": "o-abcdefghij"}),
    Case("the same RCP denies a principal of another organization", USER, "sts:AssumeRole", (ADMIN,),
         [], rcp([RCP_FULL], [RCP_FULL, OUTSIDERS]), D, keys={"aws:PrincipalOrgID": "o-zzzzzzzzzz"},
         by=PolicyKind.RCP),
    Case("...and one in no organization (IfExists: the absent key matches, so the Deny applies)", USER,
         "sts:AssumeRole", (ADMIN,), [], rcp([RCP_FULL], [OUTSIDERS]), D, by=PolicyKind.RCP),
    Case("an RCP Deny binds the root user too", ROOT, "sts:AssumeRole", (),
         [], rcp([RCP_FULL, OUTSIDERS]), D, keys={"aws:PrincipalOrgID": "o-zzzzzzzzzz"}, by=PolicyKind.RCP),
    Case("an RCP's Deny wins over SCPs that allow", USER, "sts:AssumeRole", (ADMIN,),
         scp([FULL]), rcp([OUTSIDERS]), D, keys={"aws:PrincipalOrgID": "o-zzzzzzzzzz"}, by=PolicyKind.RCP),
]


@pytest.mark.parametrize("case", CASES, ids=[c.note for c in CASES])
def test_organization_policies(case: Case) -> None:
    ps = PolicySet(identity=[compiled(d) for d in case.identity], scps=case.scps, rcps=case.rcps)
    ctx = RequestContext(Principal.from_arn(case.principal), case.action, case.resource, keys=case.keys)
    decision = evaluate(ps, ctx)
    assert decision.kind is case.want, (case.note, decision)
    if case.by is not None:
        assert decision.denied_by is case.by, (case.note, decision)


def test_service_principals_are_not_bound_by_scps_or_rcps() -> None:
    """SCPs bind IAM principals; neither binds an AWS service principal (a resource policy grants it)."""
    resource = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    ps = PolicySet(resource=compiled(resource, PolicyKind.TRUST), scps=scp([DENY_CREATE_USER]),
                   rcps=rcp([doc({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"})]), trust=True)
    ctx = RequestContext(Principal.from_arn("ec2.amazonaws.com"), "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/r")
    assert evaluate(ps, ctx).kind is DecisionKind.ALLOW


# --- the organization's shape: paths, levels, membership ------------------------------------------------------

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _shape() -> OrgShape:
    org = Organization("o-abcdefghij", ACCOUNT, "r-ab12", "ALL", NOW, 7, (SCP, RCP))
    units = {"ou-ab12-11111111": OrgUnit("ou-ab12-11111111", org.org_id, "r-ab12", "Sandbox", NOW),
             "ou-ab12-22222222": OrgUnit("ou-ab12-22222222", org.org_id, "ou-ab12-11111111", "Deep", NOW)}
    accounts = {a: OrgAccount(a, org.org_id, parent, a, f"{a}@x.invalid", "CREATED", NOW)
                for a, parent in ((ACCOUNT, "r-ab12"), (OTHER, "ou-ab12-22222222"))}
    deny_users = OrgPolicy("p-deny0001", org.org_id, SCP, "deny", "", "{}")
    policies = {p.policy_id: p for p in (FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS, deny_users)}
    attachments = {t: (FULL_AWS_ACCESS.policy_id, RCP_FULL_AWS_ACCESS.policy_id)
                   for t in ("r-ab12", *units, *accounts)}
    attachments["ou-ab12-11111111"] += (deny_users.policy_id,)
    return OrgShape(org, units, accounts, policies, attachments)


def test_paths_run_from_the_root_to_the_account() -> None:
    shape = _shape()
    assert shape.path(OTHER) == ("r-ab12", "ou-ab12-11111111", "ou-ab12-22222222", OTHER)
    assert shape.org_path(OTHER) == "o-abcdefghij/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"
    assert shape.org_path(ACCOUNT) == "o-abcdefghij/r-ab12/"


def test_levels_hold_each_levels_policies_of_one_type() -> None:
    shape = _shape()
    names = [[p.name for p in level] for level in shape.levels(OTHER, SCP)]
    assert names == [["FullAWSAccess"], ["FullAWSAccess", "deny"], ["FullAWSAccess"], ["FullAWSAccess"]]
    assert [[p.name for p in level] for level in shape.levels(OTHER, RCP)] == [["RCPFullAWSAccess"]] * 4


def test_the_management_account_is_not_a_member() -> None:
    """The management account is exempt from SCPs (and its resources from RCPs): it is not a member."""
    shape = _shape()
    assert not shape.is_member(ACCOUNT)
    assert shape.is_member(OTHER)
    assert not shape.is_member("999999999999")
