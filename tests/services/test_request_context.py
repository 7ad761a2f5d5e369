"""The request context of an action, from the reference's keys, the entity found and what the request says."""

from __future__ import annotations

import pytest

from gatehouse.model import OwnerKind, Tag
from gatehouse.services.authorization_reference import AuthorizationReference
from gatehouse.services.request_context import RequestFacts, Target, action_keys, provided

REFERENCE = AuthorizationReference.shipped()
BOUNDARY = "arn:aws:iam::123456789012:policy/Boundary"
USER = "arn:aws:iam::123456789012:user/mallory"


def keys(action: str, target: Target, facts: RequestFacts | None = None, tags: list[Tag] | None = None) -> dict:
    return action_keys(REFERENCE, action, target, facts, (lambda: tags) if tags is not None else None)


def test_the_targets_current_boundary_where_the_reference_lists_it() -> None:
    user = Target(USER, OwnerKind.USER, boundary=BOUNDARY)
    for action in ("iam:DeleteUserPermissionsBoundary", "iam:PutUserPolicy", "iam:AttachUserPolicy",
                   "iam:DeleteUserPolicy", "iam:DetachUserPolicy"):
        assert keys(action, user)["iam:PermissionsBoundary"] == BOUNDARY, action
    assert "iam:PermissionsBoundary" not in keys("iam:GetUser", user)  # not listed for GetUser
    assert "iam:PermissionsBoundary" not in keys("iam:DeleteUserPermissionsBoundary", Target(USER, OwnerKind.USER))


def test_the_boundary_being_set_wins_over_the_current_one() -> None:
    user = Target(USER, OwnerKind.USER, boundary=BOUNDARY)
    other = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert keys("iam:PutUserPermissionsBoundary", user, RequestFacts(permissions_boundary=other))[
        "iam:PermissionsBoundary"] == other


def test_resource_tags_follow_the_resource_type() -> None:
    tags = [Tag("tier", "admin")]
    role = keys("sts:AssumeRole", Target("arn:aws:iam::123456789012:role/Admin", OwnerKind.ROLE), tags=tags)
    assert role["aws:ResourceTag/tier"] == role["iam:ResourceTag/tier"] == "admin"
    policy = keys("iam:CreatePolicyVersion", Target("arn:aws:iam::123456789012:policy/P", OwnerKind.POLICY),
                  tags=tags)
    assert policy == {"aws:ResourceTag/tier": "admin"}  # iam:ResourceTag is for users and roles only
    group = keys("iam:AddUserToGroup", Target("arn:aws:iam::123456789012:group/G", OwnerKind.GROUP), tags=tags)
    assert group == {}


def test_tags_are_read_only_when_a_loader_is_given() -> None:
    read = []

    def loader() -> list[Tag]:
        read.append(1)
        return [Tag("k", "v")]

    target = Target(USER, OwnerKind.USER, tags=loader)
    assert action_keys(REFERENCE, "iam:GetUser", target, None, None) == {}
    assert action_keys(REFERENCE, "iam:GetUser", target, None, target.tags) == {
        "aws:ResourceTag/k": "v", "iam:ResourceTag/k": "v"}
    assert len(read) == 1


def test_request_facts_become_the_keys_the_action_lists_only() -> None:
    facts = RequestFacts(tags=[Tag("team", "blue")], policy_arn=BOUNDARY, passed_to_service="ec2.amazonaws.com")
    assert keys("iam:CreateUser", Target(USER, OwnerKind.USER), facts) == {
        "aws:RequestTag/team": "blue", "aws:TagKeys": ["team"]}
    assert keys("iam:AttachGroupPolicy", Target("arn:aws:iam::123456789012:group/G", OwnerKind.GROUP), facts) == {
        "iam:PolicyARN": BOUNDARY}
    passed = keys("iam:PassRole", Target("arn:aws:iam::123456789012:role/R", OwnerKind.ROLE), facts)
    assert passed == {"iam:PassedToService": "ec2.amazonaws.com"}
    assert keys("iam:UntagUser", Target(USER, OwnerKind.USER), RequestFacts(tag_keys=["a", "b"])) == {
        "aws:TagKeys": ["a", "b"]}


def test_action_keys_cannot_be_smuggled_in_as_extra() -> None:
    with pytest.raises(ValueError, match="iam:PolicyARN"):
        RequestFacts(extra={"iam:PolicyARN": BOUNDARY})
    assert keys("sts:AssumeRole", Target("arn:aws:iam::123456789012:role/R", OwnerKind.ROLE),
                RequestFacts(session_name="s", extra={"aws:MultiFactorAuthPresent": "true"})) == {
        "sts:RoleSessionName": "s", "aws:MultiFactorAuthPresent": "true"}


def test_every_key_of_a_routed_action_is_provided_or_explained() -> None:
    """The keys the mechanism cannot set are the ones no request to Gatehouse can carry (the walk in
    tests/security/test_request_context_keys.py lists why)."""
    unexplained = {"iam:RoleTemplateARN", "iam:FIDO-certification", "iam:FIDO-FIPS-140-2-certification",
                   "iam:FIDO-FIPS-140-3-certification", "iam:RegisterSecurityKey", "sts:RoleAuthorizedByIdp"}
    for name in ("iam:CreateRole", "iam:EnableMFADevice", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRole",
                 "iam:PassRole", "sts:GetWebIdentityToken", "iam:CreateServiceSpecificCredential"):
        spec = REFERENCE.action(name)
        assert spec is not None
        for key in spec.condition_keys:
            if key.split(":", 1)[0] in ("aws", "iam", "sts") and key not in unexplained:
                assert provided(key), (name, key)
