"""Managed-policy attachments of users, groups and roles end to end: attach (idempotent), detach, list
attached (PathPrefix, paging), the quota of ten per entity, and attachment counts on the policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.iam_support import ADMIN, ARN, POLICY, READ_ONLY, TRUST, collect, rejected, status_of

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Kind:
    noun: str
    create: Callable[[Any, str], None]

    def call(self, iam: Any, verb: str) -> Callable[..., Any]:
        if verb == "list":
            return getattr(iam, f"list_attached_{self.noun.lower()}_policies")
        return getattr(iam, f"{verb}_{self.noun.lower()}_policy")

    def owner(self, name: str) -> dict[str, str]:
        return {f"{self.noun}Name": name}


KINDS = [
    Kind("User", lambda iam, n: iam.create_user(UserName=n)),
    Kind("Group", lambda iam, n: iam.create_group(GroupName=n)),
    Kind("Role", lambda iam, n: iam.create_role(RoleName=n, AssumeRolePolicyDocument=TRUST)),
]
_ids = [k.noun for k in KINDS]


def _attached(iam: Any, kind: Kind, name: str, **kw: Any) -> list[str]:
    return [p["PolicyArn"] for p in collect(kind.call(iam, "list"), "AttachedPolicies", **kind.owner(name), **kw)]


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_attach_list_detach(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    local = iam.create_policy(PolicyName="local", PolicyDocument=POLICY)["Policy"]["Arn"]
    kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=local)
    kind.call(iam, "attach")(**kind.owner("OWNER"), PolicyArn=READ_ONLY)
    kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=local)  # idempotent
    listed = kind.call(iam, "list")(**kind.owner("owner"))["AttachedPolicies"]
    assert listed == [{"PolicyName": "local", "PolicyArn": local},
                      {"PolicyName": "ReadOnlyAccess", "PolicyArn": READ_ONLY}]
    assert iam.get_policy(PolicyArn=local)["Policy"]["AttachmentCount"] == 1
    assert iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["AttachmentCount"] == 1
    kind.call(iam, "detach")(**kind.owner("owner"), PolicyArn=local)
    assert _attached(iam, kind, "owner") == [READ_ONLY]
    assert iam.get_policy(PolicyArn=local)["Policy"]["AttachmentCount"] == 0


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_attach_errors_change_nothing(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    missing = f"{ARN}:policy/absent"
    response = rejected(iam, "NoSuchEntity", kind.call(iam, "attach"), **kind.owner("owner"), PolicyArn=missing)
    assert response["Error"]["Message"] == f"Policy {missing} does not exist or is not attachable."
    rejected(iam, "NoSuchEntity", kind.call(iam, "attach"), **kind.owner("owner"),
             PolicyArn="arn:aws:iam::aws:policy/NotShipped")
    rejected(iam, "NoSuchEntity", kind.call(iam, "attach"), **kind.owner("ghost"), PolicyArn=READ_ONLY)
    response = rejected(iam, "InvalidInput", kind.call(iam, "attach"), **kind.owner("owner"),
                        PolicyArn="arn:aws:s3:::not-a-policy-arn")
    assert status_of(response) == 400
    response = rejected(iam, "NoSuchEntity", kind.call(iam, "detach"), **kind.owner("owner"), PolicyArn=READ_ONLY)
    assert response["Error"]["Message"] == f"Policy {READ_ONLY} was not found."
    rejected(iam, "NoSuchEntity", kind.call(iam, "list"), **kind.owner("ghost"))


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_at_most_ten_attached_policies(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    arns = [iam.create_policy(PolicyName=f"p{i:02d}", PolicyDocument=POLICY)["Policy"]["Arn"] for i in range(11)]
    for arn in arns[:10]:
        kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=arn)
    response = rejected(iam, "LimitExceeded", kind.call(iam, "attach"), **kind.owner("owner"), PolicyArn=arns[10])
    assert response["Error"]["Message"] == f"Cannot exceed quota for PoliciesPer{kind.noun}: 10"
    rejected(iam, "LimitExceeded", kind.call(iam, "attach"), **kind.owner("owner"), PolicyArn=ADMIN)
    kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=arns[0])  # already attached: still fine
    kind.call(iam, "detach")(**kind.owner("owner"), PolicyArn=arns[0])
    kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=arns[10])
    assert _attached(iam, kind, "owner") == arns[1:]


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_list_attached_path_prefix_and_paging(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    arns = [iam.create_policy(PolicyName=f"p{i}", PolicyDocument=POLICY, Path="/a/" if i % 2 else "/b/")
            ["Policy"]["Arn"] for i in range(7)]
    for arn in arns:
        kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=arn)
    kind.call(iam, "attach")(**kind.owner("owner"), PolicyArn=ADMIN)
    assert _attached(iam, kind, "owner", MaxItems=3) == [ADMIN, *arns]
    assert _attached(iam, kind, "owner", PathPrefix="/a/", MaxItems=2) == [arns[1], arns[3], arns[5]]
    assert _attached(iam, kind, "owner", PathPrefix="/none/") == []


def test_attachment_counts_and_entities_across_kinds(iam: Any) -> None:
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=POLICY)["Policy"]["Arn"]
    for kind in KINDS:
        kind.create(iam, "x")
        kind.call(iam, "attach")(**kind.owner("x"), PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    out = iam.list_entities_for_policy(PolicyArn=arn)
    assert [len(out[k]) for k in ("PolicyUsers", "PolicyGroups", "PolicyRoles")] == [1, 1, 1]
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Policies"] == 1


def test_detaching_from_one_owner_leaves_the_others(iam: Any) -> None:
    iam.create_user(UserName="a")
    iam.create_user(UserName="b")
    iam.attach_user_policy(UserName="a", PolicyArn=ADMIN)
    iam.attach_user_policy(UserName="b", PolicyArn=ADMIN)
    iam.detach_user_policy(UserName="a", PolicyArn=ADMIN)
    assert iam.list_attached_user_policies(UserName="a")["AttachedPolicies"] == []
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="b")["AttachedPolicies"]] == [ADMIN]
    assert iam.get_policy(PolicyArn=ADMIN)["Policy"]["AttachmentCount"] == 1
