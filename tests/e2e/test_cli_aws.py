"""The AWS CLI (the `awscli` package) against Gatehouse: every kind of IAM entity, the CLI's own pagination
over Marker/MaxItems, file:// documents, waiters, output filtering, and AWS's errors with the CLI's exit codes.

Each `aws` call starts a Python process (about a second), so the calls here are chosen to cover the most ground
per call; boto3 covers the details elsewhere."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from tests.e2e.iam_support import POLICY, POLICY_2, TRUST
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

SERVICE_ERROR = (254, 255)  # the CLI's exit code when the service answered with an error (v2: 254, v1: 255)


def ok(result: subprocess.CompletedProcess) -> Any:
    assert result.returncode == 0, result.stderr[-1000:]
    return json.loads(result.stdout) if result.stdout.strip() else None


def failed(result: subprocess.CompletedProcess, code: str, operation: str) -> str:
    assert result.returncode in SERVICE_ERROR, (result.returncode, result.stdout[-500:], result.stderr[-500:])
    assert f"An error occurred ({code}) when calling the {operation} operation" in result.stderr, result.stderr
    return result.stderr


def test_users_with_cli_pagination(gh: Endpoint) -> None:
    iam = gh.client("iam")
    for i in range(7):
        iam.create_user(UserName=f"cli{i}", Path="/cli/")
    # --page-size makes the CLI walk every page (MaxItems=2, then Marker) and join them.
    out = ok(gh.aws("iam", "list-users", "--path-prefix", "/cli/", "--page-size", "2"))
    assert [u["UserName"] for u in out["Users"]] == [f"cli{i}" for i in range(7)]
    # --max-items stops early and hands out a token that resumes where it stopped.
    first = ok(gh.aws("iam", "list-users", "--max-items", "3", "--page-size", "2"))
    assert [u["UserName"] for u in first["Users"]] == ["cli0", "cli1", "cli2"] and first["NextToken"]
    rest = ok(gh.aws("iam", "list-users", "--max-items", "10", "--page-size", "2",
                     "--starting-token", first["NextToken"]))
    assert [u["UserName"] for u in rest["Users"]] == [f"cli{i}" for i in range(3, 7)]
    assert "NextToken" not in rest


def test_user_lifecycle_and_errors(gh: Endpoint) -> None:
    user = ok(gh.aws("iam", "create-user", "--user-name", "alice", "--path", "/team/",
                     "--tags", "Key=team,Value=blue", "Key=env,Value=dev"))["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/alice" and user["UserId"].startswith("AIDA")
    failed(gh.aws("iam", "create-user", "--user-name", "ALICE"), "EntityAlreadyExists", "CreateUser")
    err = failed(gh.aws("iam", "get-user", "--user-name", "ghost"), "NoSuchEntity", "GetUser")
    assert "The user with name ghost cannot be found." in err
    err = failed(gh.aws("iam", "create-user", "--user-name", "bad name!"), "ValidationError", "CreateUser")
    assert "at 'userName' failed to satisfy constraint" in err
    ok(gh.aws("iam", "update-user", "--user-name", "alice", "--new-user-name", "alicia"))
    ok(gh.aws("iam", "wait", "user-exists", "--user-name", "alicia"))
    tags = ok(gh.aws("iam", "list-user-tags", "--user-name", "alicia"))["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "blue", "env": "dev"}
    gh.client("iam").create_access_key(UserName="alicia")
    failed(gh.aws("iam", "delete-user", "--user-name", "alicia"), "DeleteConflict", "DeleteUser")
    # --query and text output
    result = gh.aws("iam", "get-user", "--user-name", "alicia", "--query", "User.Path", "--output", "text")
    assert result.returncode == 0 and result.stdout.strip() == "/team/"


def test_managed_policy_versions_from_files(gh: Endpoint, tmp_path: Path) -> None:
    first, second = tmp_path / "v1.json", tmp_path / "v2.json"
    first.write_text(POLICY)
    second.write_text(POLICY_2)
    policy = ok(gh.aws("iam", "create-policy", "--policy-name", "cli-policy", "--path", "/cli/",
                       "--policy-document", f"file://{first}", "--description", "from the CLI"))["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/cli/cli-policy"
    version = ok(gh.aws("iam", "create-policy-version", "--policy-arn", arn, "--policy-document",
                        f"file://{second}", "--set-as-default"))["PolicyVersion"]
    assert version["VersionId"] == "v2" and version["IsDefaultVersion"] is True
    document = ok(gh.aws("iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v2"))
    assert document["PolicyVersion"]["Document"] == json.loads(POLICY_2)
    failed(gh.aws("iam", "delete-policy-version", "--policy-arn", arn, "--version-id", "v2"), "DeleteConflict",
           "DeletePolicyVersion")
    failed(gh.aws("iam", "create-policy", "--policy-name", "broken", "--policy-document", '{"Statement": 1}'),
           "MalformedPolicyDocument", "CreatePolicy")
    local = ok(gh.aws("iam", "list-policies", "--scope", "Local"))["Policies"]
    assert [p["PolicyName"] for p in local] == ["cli-policy"]
    # The CLI follows the markers: pages of 500 through the whole catalogue.
    aws = ok(gh.aws("iam", "list-policies", "--scope", "AWS", "--page-size", "500"))["Policies"]
    assert [p["PolicyName"] for p in aws] == [p.name for p in AwsManagedPolicies().all()]
    assert len(aws) > 1000 and "AdministratorAccess" in [p["PolicyName"] for p in aws]


def test_roles_inline_and_attached_policies(gh: Endpoint, tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(TRUST)
    role = ok(gh.aws("iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document",
                     f"file://{trust}", "--max-session-duration", "7200", "--description", "via cli"))["Role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(TRUST) and role["MaxSessionDuration"] == 7200
    failed(gh.aws("iam", "update-role", "--role-name", "cli-role", "--max-session-duration", "99999"),
           "ValidationError", "UpdateRole")
    ok(gh.aws("iam", "put-role-policy", "--role-name", "cli-role", "--policy-name", "inline",
              "--policy-document", POLICY))
    got = ok(gh.aws("iam", "get-role-policy", "--role-name", "cli-role", "--policy-name", "inline"))
    assert got["PolicyDocument"] == json.loads(POLICY)
    ok(gh.aws("iam", "attach-role-policy", "--role-name", "cli-role", "--policy-arn",
              "arn:aws:iam::aws:policy/ReadOnlyAccess"))
    attached = ok(gh.aws("iam", "list-attached-role-policies", "--role-name", "cli-role"))["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    entities = ok(gh.aws("iam", "list-entities-for-policy", "--policy-arn",
                         "arn:aws:iam::aws:policy/ReadOnlyAccess"))
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["cli-role"]
    failed(gh.aws("iam", "delete-role", "--role-name", "cli-role"), "DeleteConflict", "DeleteRole")


def test_groups_keys_and_instance_profiles(gh: Endpoint) -> None:
    iam = gh.client("iam")
    iam.create_user(UserName="bob")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=TRUST)
    ok(gh.aws("iam", "create-group", "--group-name", "devs"))
    ok(gh.aws("iam", "add-user-to-group", "--group-name", "devs", "--user-name", "bob"))
    assert [u["UserName"] for u in ok(gh.aws("iam", "get-group", "--group-name", "devs"))["Users"]] == ["bob"]
    key = ok(gh.aws("iam", "create-access-key", "--user-name", "bob"))["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    ok(gh.aws("iam", "update-access-key", "--user-name", "bob", "--access-key-id", key["AccessKeyId"],
              "--status", "Inactive"))
    listed = ok(gh.aws("iam", "list-access-keys", "--user-name", "bob"))["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key["AccessKeyId"], "Inactive")]
    ok(gh.aws("iam", "create-instance-profile", "--instance-profile-name", "web-profile"))
    ok(gh.aws("iam", "add-role-to-instance-profile", "--instance-profile-name", "web-profile", "--role-name", "web"))
    failed(gh.aws("iam", "add-role-to-instance-profile", "--instance-profile-name", "web-profile", "--role-name",
                  "web"), "LimitExceeded", "AddRoleToInstanceProfile")
    profile = ok(gh.aws("iam", "get-instance-profile", "--instance-profile-name", "web-profile"))["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["web"]


def test_account_operations(gh: Endpoint) -> None:
    ok(gh.aws("iam", "create-account-alias", "--account-alias", "cli-alias"))
    assert ok(gh.aws("iam", "list-account-aliases"))["AccountAliases"] == ["cli-alias"]
    gh.client("iam").create_user(UserName="counted")
    summary = ok(gh.aws("iam", "get-account-summary"))["SummaryMap"]
    assert summary["Users"] == 1 and summary["AccountAccessKeysPresent"] == 1
    ok(gh.aws("iam", "set-security-token-service-preferences", "--global-endpoint-token-version", "v2Token"))
    assert gh.client("iam").get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    details = ok(gh.aws("iam", "get-account-authorization-details", "--filter", "User", "--page-size", "1"))
    assert [u["UserName"] for u in details["UserDetailList"]] == ["counted"]
    role = ok(gh.aws("iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com"))["Role"]
    task = ok(gh.aws("iam", "delete-service-linked-role", "--role-name", role["RoleName"]))["DeletionTaskId"]
    status = ok(gh.aws("iam", "get-service-linked-role-deletion-status", "--deletion-task-id", task))
    assert status["Status"] == "SUCCEEDED"


def test_identity_credentials_and_partitions(gh: Endpoint) -> None:
    ident = ok(gh.aws("sts", "get-caller-identity"))
    assert ident == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}
    # The account is in the aws partition: a signature scoped to a region of another partition is refused.
    failed(gh.aws("--region", "cn-north-1", "sts", "get-caller-identity"), "SignatureDoesNotMatch",
           "GetCallerIdentity")
    failed(gh.aws("iam", "list-users", secret="not-the-secret"), "SignatureDoesNotMatch", "ListUsers")
    failed(gh.aws("sts", "get-caller-identity", key="AKIANOSUCHKEY0000000"), "InvalidClientTokenId",
           "GetCallerIdentity")
    iam = gh.client("iam")
    iam.create_user(UserName="plain")
    key = iam.create_access_key(UserName="plain")["AccessKey"]
    failed(gh.aws("iam", "list-users", key=key["AccessKeyId"], secret=key["SecretAccessKey"]), "AccessDenied",
           "ListUsers")
