"""Service-linked roles end to end: creation on behalf of a service, protection from changes
(UnmodifiableEntity), deletion through a task and GetServiceLinkedRoleDeletionStatus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.iam_support import ARN, POLICY, READ_ONLY, TRUST, expect, rejected, status_of

pytestmark = pytest.mark.e2e

ROLE = "AWSServiceRoleForElasticBeanstalk"
PATH = "/aws-service-role/elasticbeanstalk.amazonaws.com/"


@pytest.fixture
def linked(iam: Any) -> dict[str, Any]:
    return iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")["Role"]


def test_create_service_linked_role(iam: Any, linked: dict[str, Any]) -> None:
    assert linked["RoleName"] == ROLE and linked["Path"] == PATH
    assert linked["Arn"] == f"{ARN}:role{PATH}{ROLE}"
    assert linked["RoleId"].startswith("AROA")
    statement = linked["AssumeRolePolicyDocument"]["Statement"]
    assert statement == [{"Effect": "Allow", "Principal": {"Service": "elasticbeanstalk.amazonaws.com"},
                          "Action": "sts:AssumeRole"}]
    assert iam.get_role(RoleName=ROLE)["Role"]["RoleId"] == linked["RoleId"]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/aws-service-role/")["Roles"]] == [ROLE]


def test_create_with_suffix_and_description(iam: Any) -> None:
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="mine",
                                          Description="for scaling")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling_mine" and role["Description"] == "for scaling"
    # Application Auto Scaling's roles take no custom suffix (the table says so).
    rejected(iam, "InvalidInput", iam.create_service_linked_role,
             AWSServiceName="dynamodb.application-autoscaling.amazonaws.com", CustomSuffix="mine")


def test_create_errors(iam: Any, linked: dict[str, Any]) -> None:
    response = rejected(iam, "InvalidInput", iam.create_service_linked_role,
                        AWSServiceName="elasticbeanstalk.amazonaws.com")
    assert ROLE in response["Error"]["Message"]
    rejected(iam, "InvalidInput", iam.create_service_linked_role, AWSServiceName="not-a-service-principal")
    # A well-formed principal of no service with a linked role (AWS's answer too).
    rejected(iam, "InvalidInput", iam.create_service_linked_role, AWSServiceName="lambda.amazonaws.com")


def test_protected_from_changes(iam: Any, linked: dict[str, Any]) -> None:
    attempts = [
        (iam.delete_role, {}),
        (iam.update_assume_role_policy, {"PolicyDocument": TRUST}),
        (iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": POLICY}),
        (iam.attach_role_policy, {"PolicyArn": READ_ONLY}),
        (iam.put_role_permissions_boundary, {"PermissionsBoundary": READ_ONLY}),
        (iam.delete_role_permissions_boundary, {}),
        (iam.update_role, {"MaxSessionDuration": 7200}),
    ]
    for call, params in attempts:
        response = rejected(iam, "UnmodifiableEntity", call, RoleName=ROLE, **params)
        assert response["Error"]["Message"] == (
            f"Cannot perform the operation on the protected role '{ROLE}' - this role is only modifiable by AWS")
        assert status_of(response) == 400


def test_description_of_a_service_linked_role_may_be_edited(iam: Any, linked: dict[str, Any]) -> None:
    iam.update_role(RoleName=ROLE, Description="edited")
    assert iam.get_role(RoleName=ROLE)["Role"]["Description"] == "edited"
    assert iam.update_role_description(RoleName=ROLE, Description="again")["Role"]["Description"] == "again"


def test_delete_through_a_task(iam: Any, linked: dict[str, Any]) -> None:
    task = iam.delete_service_linked_role(RoleName=ROLE)["DeletionTaskId"]
    assert task.startswith(f"task{PATH}{ROLE}/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    expect("NoSuchEntity", iam.get_role, RoleName=ROLE)
    again = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")["Role"]
    assert again["RoleId"] != linked["RoleId"]


def test_delete_errors(iam: Any) -> None:
    iam.create_role(RoleName="ordinary", AssumeRolePolicyDocument=TRUST)
    rejected(iam, "InvalidInput", iam.delete_service_linked_role, RoleName="ordinary")
    rejected(iam, "NoSuchEntity", iam.delete_service_linked_role, RoleName="ghost")
    response = rejected(iam, "NoSuchEntity", iam.get_service_linked_role_deletion_status,
                        DeletionTaskId="task/aws-service-role/x.amazonaws.com/AWSServiceRoleForX/none")
    assert status_of(response) == 404


def test_an_instance_profile_blocks_deletion(iam: Any, linked: dict[str, Any]) -> None:
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName=ROLE)
    rejected(iam, "DeleteConflict", iam.delete_service_linked_role, RoleName=ROLE)
    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName=ROLE)
    task = iam.delete_service_linked_role(RoleName=ROLE)["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"


def test_service_linked_roles_count_and_list_like_roles(iam: Any, linked: dict[str, Any]) -> None:
    assert iam.get_account_summary()["SummaryMap"]["Roles"] == 1
    [detail] = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    assert detail["Path"] == PATH and json.dumps(detail["AssumeRolePolicyDocument"]).count("elasticbeanstalk") == 1
