"""Inline policies of users, groups and roles end to end: put (create and replace), get, list (paged), delete,
the per-entity aggregate size quotas (2,048 / 5,120 / 10,240 characters other than white space)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.iam_support import POLICY, POLICY_2, TRUST, collect, doc, rejected, sized_policy, status_of

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Kind:
    noun: str  # User | Group | Role
    quota: int
    create: Callable[[Any, str], None]

    def call(self, iam: Any, verb: str, suffix: str = "policy") -> Callable[..., Any]:
        return getattr(iam, f"{verb}_{self.noun.lower()}_{suffix}")

    def owner(self, name: str) -> dict[str, str]:
        return {f"{self.noun}Name": name}


KINDS = [
    Kind("User", 2048, lambda iam, n: iam.create_user(UserName=n)),
    Kind("Group", 5120, lambda iam, n: iam.create_group(GroupName=n)),
    Kind("Role", 10240, lambda iam, n: iam.create_role(RoleName=n, AssumeRolePolicyDocument=TRUST)),
]
_ids = [k.noun for k in KINDS]


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_put_get_replace_delete(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    kind.call(iam, "put")(**kind.owner("owner"), PolicyName="first", PolicyDocument=POLICY)
    got = kind.call(iam, "get")(**kind.owner("OWNER"), PolicyName="first")
    assert got[f"{kind.noun}Name"] == "owner" and got["PolicyName"] == "first"
    assert got["PolicyDocument"] == json.loads(POLICY)
    kind.call(iam, "put")(**kind.owner("owner"), PolicyName="first", PolicyDocument=POLICY_2)  # replace
    assert kind.call(iam, "get")(**kind.owner("owner"), PolicyName="first")["PolicyDocument"] == json.loads(POLICY_2)
    assert kind.call(iam, "list", "policies")(**kind.owner("owner"))["PolicyNames"] == ["first"]
    kind.call(iam, "delete")(**kind.owner("owner"), PolicyName="first")
    assert kind.call(iam, "list", "policies")(**kind.owner("owner"))["PolicyNames"] == []


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_errors_change_nothing(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    kind.call(iam, "put")(**kind.owner("owner"), PolicyName="kept", PolicyDocument=POLICY)
    noun = kind.noun.lower()
    response = rejected(iam, "NoSuchEntity", kind.call(iam, "get"), **kind.owner("owner"), PolicyName="absent")
    assert response["Error"]["Message"] == f"The {noun} policy with name absent cannot be found."
    assert status_of(response) == 404
    rejected(iam, "NoSuchEntity", kind.call(iam, "delete"), **kind.owner("owner"), PolicyName="absent")
    response = rejected(iam, "NoSuchEntity", kind.call(iam, "put"), **kind.owner("ghost"), PolicyName="p",
                        PolicyDocument=POLICY)
    assert response["Error"]["Message"] == f"The {noun} with name ghost cannot be found."
    rejected(iam, "NoSuchEntity", kind.call(iam, "list", "policies"), **kind.owner("ghost"))
    for bad in ("{", doc({"Effect": "Allow", "Action": "s3:*"}),
                doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"})):
        rejected(iam, "MalformedPolicyDocument", kind.call(iam, "put"), **kind.owner("owner"), PolicyName="kept",
                 PolicyDocument=bad)
    rejected(iam, "ValidationError", kind.call(iam, "put"), **kind.owner("owner"), PolicyName="bad name",
             PolicyDocument=POLICY)


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_aggregate_size_quota(iam: Any, kind: Kind) -> None:
    """All of an entity's inline policies count together against its quota; white space is not counted."""
    kind.create(iam, "owner")
    put = kind.call(iam, "put")
    half = kind.quota // 2
    put(**kind.owner("owner"), PolicyName="a", PolicyDocument=sized_policy(half, indent=4))
    put(**kind.owner("owner"), PolicyName="b", PolicyDocument=sized_policy(kind.quota - half))  # exactly full
    response = rejected(iam, "LimitExceeded", put, **kind.owner("owner"), PolicyName="c",
                        PolicyDocument=sized_policy(120))
    assert response["Error"]["Message"] == (
        f"Maximum policy size of {kind.quota} bytes exceeded for {kind.noun.lower()} owner")
    assert status_of(response) == 409
    # Replacing a policy counts its new size instead of its old one.
    rejected(iam, "LimitExceeded", put, **kind.owner("owner"), PolicyName="b",
             PolicyDocument=sized_policy(kind.quota - half + 1))
    put(**kind.owner("owner"), PolicyName="b", PolicyDocument=sized_policy(200))
    put(**kind.owner("owner"), PolicyName="c", PolicyDocument=sized_policy(kind.quota - half - 200))


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_a_single_policy_over_the_quota(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    rejected(iam, "LimitExceeded", kind.call(iam, "put"), **kind.owner("owner"), PolicyName="big",
             PolicyDocument=sized_policy(kind.quota + 1))


@pytest.mark.parametrize("kind", KINDS, ids=_ids)
def test_list_inline_policies_pages(iam: Any, kind: Kind) -> None:
    kind.create(iam, "owner")
    names = [f"pol{i}" for i in range(7)]
    for n in reversed(names):
        kind.call(iam, "put")(**kind.owner("owner"), PolicyName=n, PolicyDocument=POLICY)
    assert collect(kind.call(iam, "list", "policies"), "PolicyNames", **kind.owner("owner"), MaxItems=3) == names


def test_inline_policies_are_per_owner(iam: Any) -> None:
    iam.create_user(UserName="same")
    iam.create_group(GroupName="same")
    iam.create_role(RoleName="same", AssumeRolePolicyDocument=TRUST)
    iam.put_user_policy(UserName="same", PolicyName="p", PolicyDocument=POLICY)
    assert iam.list_group_policies(GroupName="same")["PolicyNames"] == []
    assert iam.list_role_policies(RoleName="same")["PolicyNames"] == []
    iam.put_role_policy(RoleName="same", PolicyName="p", PolicyDocument=POLICY_2)
    assert iam.get_user_policy(UserName="same", PolicyName="p")["PolicyDocument"] == json.loads(POLICY)
    assert iam.get_role_policy(RoleName="same", PolicyName="p")["PolicyDocument"] == json.loads(POLICY_2)



def test_documents_round_trip_with_latin_1_and_markup_characters(iam: Any) -> None:
    document = doc({"Effect": "Allow", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bücket/<dir>&'quote\"/*"})
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=document)
    assert iam.get_user_policy(UserName="u", PolicyName="p")["PolicyDocument"] == json.loads(document)
