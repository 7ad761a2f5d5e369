"""Every routed IAM and STS operation, called by principals that hold no permission, is refused before anything is
changed or revealed: a user with no policies, a role session whose role has none, and the restricted session
credentials of GetSessionToken (without MFA) and GetFederationToken.

The operation list comes from the router, so an operation added later without `Authorizer.require` fails here
until it is either guarded or listed as one of AWS's documented exemptions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from gatehouse.app import Application
from tests.security.support import ACCOUNT, ALLOW_ALL, Answer, Keys, call, ok, session_keys, user_with_key
from tests.security.world import NARROW, TRUST, World, params_for, populated

UNSIGNED = {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}  # the token or assertion is the credential
_REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    built = populated()
    yield built
    built.app.close()


def _snapshot(app: Application) -> list[bytes]:
    """What root sees of the account: anything a refused call changed shows up here."""
    reads = [("GetAccountAuthorizationDetails", {}), ("ListOpenIDConnectProviders", {}), ("ListSAMLProviders", {}),
             ("ListServerCertificates", {}), ("ListAccountAliases", {}), ("GetAccountPasswordPolicy", {}),
             ("ListVirtualMFADevices", {}), ("ListPolicies", {"Scope": "Local"}), ("ListInstanceProfiles", {}),
             ("ListRoleTags", {"RoleName": "r"}), ("GetAccountSummary", {})]
    for user in ("victim", "nobody"):
        reads += [(action, {"UserName": user}) for action in (
            "ListAccessKeys", "ListSSHPublicKeys", "ListServiceSpecificCredentials", "ListSigningCertificates",
            "ListMFADevices", "GetLoginProfile", "ListUserTags", "ListGroupsForUser")]
    return [_REQUEST_ID.sub(b"", call(app, "iam", action, params).body) for action, params in reads]


def _every_operation(app: Application) -> list[tuple[str, str]]:
    assert app.asgi is not None
    router = app.asgi.endpoint.router
    return [(service, op) for service in ("iam", "sts") for op in router.operations(service) if op not in UNSIGNED]


def _refusals(world: World, keys: Keys, values: dict[str, str]) -> dict[tuple[str, str], Answer]:
    return {(service, op): call(world.app, service, op, params_for(world.app, service, op, values), keys)
            for service, op in _every_operation(world.app)}


def test_router_serves_the_whole_api(world: World) -> None:
    operations = _every_operation(world.app)
    assert len(operations) > 150 and ("iam", "CreateUser") in operations and ("sts", "AssumeRole") in operations


@pytest.mark.parametrize("target", ["existing", "missing"])
def test_user_without_policies_is_refused_everything(world: World, target: str) -> None:
    name = f"nobody-{target}"
    keys = user_with_key(world.app, name)
    values = world.values if target == "existing" else world.ghosts
    before = _snapshot(world.app)
    answers = _refusals(world, keys, {**values, "OldPassword": "irrelevant-1!"})
    exempt = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken")}  # AWS: no permission needed
    wrong = {op: (a.status, a.code, a.message[:120]) for op, a in answers.items()
             if op not in exempt and a.code != "AccessDenied"}
    assert wrong == {}
    leaked = {op for op, a in answers.items() if op not in exempt and "because no identity-based policy" not in
              a.message}
    assert leaked == set()  # refused by the engine, not by an existence or validation check first
    assert answers[("sts", "GetCallerIdentity")].status == 200
    assert answers[("sts", "GetSessionToken")].status == 200
    assert _snapshot(world.app) == before


def test_role_session_without_policies_is_refused_everything(world: World) -> None:
    ok(world.app, "iam", "CreateRole", {"RoleName": "empty", "AssumeRolePolicyDocument": TRUST})
    assumer = user_with_key(world.app, "assumer", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/empty"}]}))
    session = session_keys(ok(world.app, "sts", "AssumeRole", {
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/empty", "RoleSessionName": "empty-session"}, assumer))
    before = _snapshot(world.app)
    answers = _refusals(world, session, world.values)
    expected = {("sts", "GetCallerIdentity"): None, ("iam", "ChangePassword"): "InvalidUserType"}  # not a user
    wrong = {op: (a.status, a.code) for op, a in answers.items() if a.code != expected.get(op, "AccessDenied")}
    assert wrong == {}
    assert answers[("sts", "GetCallerIdentity")].status == 200
    assert _snapshot(world.app) == before


def test_restricted_session_credentials(world: World) -> None:
    """GetSessionToken without MFA: no IAM, and of STS only AssumeRole and GetCallerIdentity. GetFederationToken:
    no IAM, and of STS only GetCallerIdentity. Both refused as an invalid token, even for an administrator."""
    admin = user_with_key(world.app, "admin", policy=ALLOW_ALL)
    user_session = session_keys(ok(world.app, "sts", "GetSessionToken", keys=admin))
    federated = session_keys(ok(world.app, "sts", "GetFederationToken", {"Name": "fed", "Policy": ALLOW_ALL},
                                keys=admin))
    before = _snapshot(world.app)
    for keys, allowed_sts in ((user_session, {"AssumeRole", "GetCallerIdentity"}), (federated, {"GetCallerIdentity"})):
        answers = _refusals(world, keys, world.values)
        wrong = {op: (a.status, a.code) for op, a in answers.items()
                 if op[0] == "iam" or op[1] not in allowed_sts if a.code != "InvalidClientTokenId"}
        assert wrong == {}
        assert answers[("sts", "GetCallerIdentity")].status == 200
    assert _snapshot(world.app) == before


def test_own_password_change_follows_the_password_policy(world: World) -> None:
    ok(world.app, "iam", "CreateUser", {"UserName": "changer"})
    ok(world.app, "iam", "CreateLoginProfile", {"UserName": "changer", "Password": "Changer-password-1!"})
    made = ok(world.app, "iam", "CreateAccessKey", {"UserName": "changer"})
    keys = Keys(made.text("AccessKeyId"), made.text("SecretAccessKey"))
    change = {"OldPassword": "Changer-password-1!", "NewPassword": "Changer-password-2!"}
    assert call(world.app, "iam", "ChangePassword", change, keys).code == "AccessDenied"
    ok(world.app, "iam", "UpdateAccountPasswordPolicy", {"MinimumPasswordLength": "8",
                                                         "AllowUsersToChangePassword": "true"})
    try:
        ok(world.app, "iam", "ChangePassword", change, keys)
        # The exemption is for the caller's own password only: nothing else opens up.
        assert call(world.app, "iam", "GetLoginProfile", {"UserName": "changer"}, keys).code == "AccessDenied"
        assert call(world.app, "iam", "UpdateLoginProfile", {"UserName": "victim", "Password": "Taken-over-1!"},
                    keys).code == "AccessDenied"
    finally:
        ok(world.app, "iam", "UpdateAccountPasswordPolicy", {"MinimumPasswordLength": "8"})


def test_deleted_session_policy_does_not_lift_the_session_limit(world: World) -> None:
    """A role session scoped down with PolicyArns kept its limit only while the policy existed: once the policy was
    deleted, the session got the role's full permissions."""
    ok(world.app, "iam", "CreateRole", {"RoleName": "powerful", "AssumeRolePolicyDocument": TRUST})
    ok(world.app, "iam", "PutRolePolicy", {"RoleName": "powerful", "PolicyName": "all", "PolicyDocument": ALLOW_ALL})
    scope = ok(world.app, "iam", "CreatePolicy", {"PolicyName": "scope", "PolicyDocument": NARROW}).text("Arn")
    broker = user_with_key(world.app, "broker", policy=ALLOW_ALL)
    session = session_keys(ok(world.app, "sts", "AssumeRole", {
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/powerful", "RoleSessionName": "scoped",
        "PolicyArns.member.1.arn": scope}, broker))
    assert call(world.app, "iam", "ListUsers", keys=session).code == "AccessDenied"
    ok(world.app, "iam", "DeletePolicy", {"PolicyArn": scope})
    assert call(world.app, "iam", "ListUsers", keys=session).code == "AccessDenied"
    assert call(world.app, "iam", "CreateUser", {"UserName": "escalated"}, session).code == "AccessDenied"
