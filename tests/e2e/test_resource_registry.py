"""The resource registry (Gatehouse's own JSON operations) through botocore and `gatehouse resource ...`: ARNs of
the caller's account only, no namespace Gatehouse serves itself, resource-based policies validated (Principal
required, located errors, the size quota), tags, authorization by `gatehouse:*` on the resource's ARN with its
tags, look-up before absence, and paging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.authorize import allow, gatehouse_client, note
from tests.support.servers import Endpoint

pytestmark = [pytest.mark.e2e]

GRANT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                                                             "Action": "notes:GetNote", "Resource": note(1)}]})


def code(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(**params)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_register_describe_list_and_deregister(gh: Endpoint) -> None:
    registry = gatehouse_client(gh)
    made = registry.register_resource(ResourceArn=note(1), Tags=[{"Key": "team", "Value": "blue"}],
                                      Policy=GRANT)["Resource"]
    assert made["ResourceArn"] == note(1) and made["Service"] == "notes" and made["HasPolicy"] is True
    assert code(registry.register_resource, ResourceArn=note(1))[0] == "ResourceAlreadyExistsException"
    for n in range(2, 6):
        registry.register_resource(ResourceArn=note(n))
    registry.register_resource(ResourceArn=f"arn:aws:queue:us-east-1:{ACCOUNT}:jobs")
    first = registry.list_resources(MaxResults=3)
    second = registry.list_resources(MaxResults=3, NextToken=first["NextToken"])
    listed = [r["ResourceArn"] for r in first["Resources"] + second["Resources"]]
    assert "NextToken" not in second and len(listed) == 6 and listed == sorted(listed)
    assert [r["ResourceArn"] for r in registry.list_resources(Service="queue")["Resources"]] == [
        f"arn:aws:queue:us-east-1:{ACCOUNT}:jobs"]
    assert json.loads(registry.get_resource_policy(ResourceArn=note(1))["Policy"]) == json.loads(GRANT)
    registry.deregister_resource(ResourceArn=note(1))
    assert code(registry.get_resource, ResourceArn=note(1))[0] == "ResourceNotFoundException"
    assert code(registry.deregister_resource, ResourceArn=note(1))[0] == "ResourceNotFoundException"


@pytest.mark.parametrize("arn, words", [
    (f"arn:aws:iam::{ACCOUNT}:user/alice", "Gatehouse's own"),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", "Gatehouse's own"),
    ("arn:aws:notes:us-east-1:210987654321:note/1", "not in this account"),
    (f"arn:aws-cn:notes:cn-north-1:{ACCOUNT}:note/1", "not in this account"),
    (f"arn:aws:notes:us-east-1:{ACCOUNT}:note/*", "no wildcards"),
    ("notes/1", "Invalid resource ARN"),
    (f"arn:aws:notes:us-east-1:{ACCOUNT}:note/é", "Invalid resource ARN"),
])
def test_only_the_callers_own_resources_can_be_registered(gh: Endpoint, arn: str, words: str) -> None:
    error, message = code(gatehouse_client(gh).register_resource, ResourceArn=arn)
    assert error == "InvalidParameterException" and words in message


def test_resource_policies_are_validated(gh: Endpoint) -> None:
    registry = gatehouse_client(gh)
    registry.register_resource(ResourceArn=note(1))
    error, message = code(registry.put_resource_policy, ResourceArn=note(1),
                          Policy=allow("notes:GetNote", note(1)))
    assert error == "MalformedPolicyDocumentException"
    assert message.startswith("Missing required field Principal") and "line 1, column" in message
    error, message = code(registry.put_resource_policy, ResourceArn=note(1), Policy='{"Version": ')
    assert error == "MalformedPolicyDocumentException"
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "notes:GetNote", "Resource": note(f"{n:05d}" + "x" * 200)}
        for n in range(100)]})
    error, message = code(registry.put_resource_policy, ResourceArn=note(1), Policy=big)
    assert error == "LimitExceededException" and "20480" in message
    assert code(registry.get_resource_policy, ResourceArn=note(1))[0] == "ResourceNotFoundException"
    registry.put_resource_policy(ResourceArn=note(1), Policy=GRANT)
    registry.delete_resource_policy(ResourceArn=note(1))
    assert registry.get_resource(ResourceArn=note(1))["Resource"]["HasPolicy"] is False


def test_tags(gh: Endpoint) -> None:
    registry = gatehouse_client(gh)
    registry.register_resource(ResourceArn=note(1), Tags=[{"Key": "team", "Value": "blue"}])
    registry.tag_resource(ResourceArn=note(1), Tags=[{"Key": "Team", "Value": "red"}, {"Key": "team", "Value": "x"}])
    registry.untag_resource(ResourceArn=note(1), TagKeys=["Team"])
    assert registry.get_resource(ResourceArn=note(1))["Resource"]["Tags"] == [{"Key": "team", "Value": "x"}]
    assert code(registry.tag_resource, ResourceArn=note(1), Tags=[{"Key": "aws:x", "Value": "1"}])[0] == (
        "InvalidParameterException")
    many = [{"Key": f"k{n}", "Value": "v"} for n in range(50)]
    assert code(registry.tag_resource, ResourceArn=note(1), Tags=many)[0] == "LimitExceededException"


def test_operations_are_authorized_on_the_resource_with_its_tags(gh: Endpoint) -> None:
    iam, registry = gh.client("iam"), gatehouse_client(gh)
    registry.register_resource(ResourceArn=note(1), Tags=[{"Key": "team", "Value": "blue"}])
    registry.register_resource(ResourceArn=note(2), Tags=[{"Key": "team", "Value": "red"}])
    iam.create_user(UserName="keeper")
    iam.put_user_policy(UserName="keeper", PolicyName="p", PolicyDocument=allow(
        "gatehouse:*Resource*", "*", Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}}))
    made = iam.create_access_key(UserName="keeper")["AccessKey"]
    keeper = gatehouse_client(gh, (made["AccessKeyId"], made["SecretAccessKey"]))
    keeper.put_resource_policy(ResourceArn=note(1), Policy=GRANT)
    error, message = code(keeper.put_resource_policy, ResourceArn=note(2), Policy=GRANT)
    assert error == "AccessDeniedException" and "gatehouse:PutResourcePolicy" in message
    # Absence is reported only to whoever may ask: a missing resource has no tags, so the keeper is refused.
    assert code(keeper.get_resource, ResourceArn=note(9))[0] == "AccessDeniedException"
    assert code(registry.get_resource, ResourceArn=note(9))[0] == "ResourceNotFoundException"
    assert code(keeper.register_resource, ResourceArn=note(3))[0] == "AccessDeniedException"


def test_the_cli(gh: Endpoint, tmp_path: Any) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(GRANT)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": gh.key, "AWS_SECRET_ACCESS_KEY": gh.secret,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "GATEHOUSE_ENDPOINT_URL": gh.url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gatehouse", "resource", *args], capture_output=True,
                              text=True, env=env, timeout=60)

    assert run("register", note(1), "--tag", "team=blue", "--policy", str(policy)).returncode == 0
    listed = run("list", "--output", "json")
    assert [r["ResourceArn"] for r in json.loads(listed.stdout)] == [note(1)]
    assert json.loads(run("get-policy", note(1)).stdout) == json.loads(GRANT)
    assert run("tag", note(1), "env=prod").returncode == 0
    assert run("untag", note(1), "team").returncode == 0
    got = json.loads(run("get", note(1), "--output", "json").stdout)
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert run("delete-policy", note(1)).returncode == 0
    failed = run("get-policy", note(1))
    assert failed.returncode == 1 and "ResourceNotFoundException" in failed.stderr
    assert run("put-policy", note(1), str(policy)).returncode == 0
    assert run("deregister", note(1)).returncode == 0
    assert json.loads(run("list", "--output", "json").stdout) == []


def test_the_authorize_command(gh: Endpoint) -> None:
    iam = gh.client("iam")
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="p", PolicyDocument=allow(
        "notes:GetNote", note("*"), Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": gh.key, "AWS_SECRET_ACCESS_KEY": gh.secret,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "GATEHOUSE_ENDPOINT_URL": gh.url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gatehouse", "authorize", "--principal",
                               f"arn:aws:iam::{ACCOUNT}:user/alice", "--action", "notes:GetNote", "--resource",
                               note(1), *args], capture_output=True, text=True, env=env, timeout=60)

    allowed = run("--context", "aws:SourceIp=203.0.113.9")
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["decision"] == "Allow"
    denied = run("--context", "aws:SourceIp=198.51.100.1")
    assert denied.returncode == 1 and json.loads(denied.stdout)["decision"] == "ImplicitDeny"
    refused = run("--context", "aws:PrincipalTag/x=y")
    assert refused.returncode == 1 and "derives this key" in refused.stderr
