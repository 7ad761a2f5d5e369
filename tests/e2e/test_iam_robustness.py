"""Random sequences of IAM operations over a small pool of names (so that they collide, conflict and refer to
things that are gone): every answer is a success or a sender error AWS defines for that operation, never a server
fault, and the account stays self-consistent (summary counts, listings and authorization details agree)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.iam_support import ARN, POLICY, POLICY_2, READ_ONLY, TRUST, collect, snapshot
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

NAMES = st.sampled_from(["a", "A", "b", "c"])
POLICIES = st.sampled_from([f"{ARN}:policy/a", f"{ARN}:policy/b", READ_ONLY, f"{ARN}:policy/p/a"])
PATHS = st.sampled_from(["/", "/p/", "/q/"])
TAGS = st.lists(st.fixed_dictionaries({"Key": st.sampled_from(["k", "K", "j"]), "Value": st.sampled_from(["", "v"])}),
                max_size=2)
VERSIONS = st.sampled_from(["v1", "v2", "v3"])

OPERATIONS = st.one_of(
    st.tuples(st.just("create_user"), st.fixed_dictionaries({"UserName": NAMES, "Path": PATHS, "Tags": TAGS})),
    st.tuples(st.just("delete_user"), st.fixed_dictionaries({"UserName": NAMES})),
    st.tuples(st.just("update_user"), st.fixed_dictionaries({"UserName": NAMES, "NewUserName": NAMES})),
    st.tuples(st.just("create_group"), st.fixed_dictionaries({"GroupName": NAMES})),
    st.tuples(st.just("delete_group"), st.fixed_dictionaries({"GroupName": NAMES})),
    st.tuples(st.just("add_user_to_group"), st.fixed_dictionaries({"GroupName": NAMES, "UserName": NAMES})),
    st.tuples(st.just("remove_user_from_group"), st.fixed_dictionaries({"GroupName": NAMES, "UserName": NAMES})),
    st.tuples(st.just("create_role"), st.fixed_dictionaries({"RoleName": NAMES, "AssumeRolePolicyDocument":
                                                             st.just(TRUST)})),
    st.tuples(st.just("delete_role"), st.fixed_dictionaries({"RoleName": NAMES})),
    st.tuples(st.just("create_policy"), st.fixed_dictionaries({"PolicyName": NAMES, "PolicyDocument": st.just(POLICY),
                                                               "Path": st.sampled_from(["/", "/p/"])})),
    st.tuples(st.just("delete_policy"), st.fixed_dictionaries({"PolicyArn": POLICIES})),
    st.tuples(st.just("create_policy_version"), st.fixed_dictionaries({"PolicyArn": POLICIES, "PolicyDocument":
                                                                       st.just(POLICY_2),
                                                                       "SetAsDefault": st.booleans()})),
    st.tuples(st.just("delete_policy_version"), st.fixed_dictionaries({"PolicyArn": POLICIES, "VersionId": VERSIONS})),
    st.tuples(st.just("set_default_policy_version"), st.fixed_dictionaries({"PolicyArn": POLICIES,
                                                                            "VersionId": VERSIONS})),
    st.tuples(st.just("attach_user_policy"), st.fixed_dictionaries({"UserName": NAMES, "PolicyArn": POLICIES})),
    st.tuples(st.just("detach_user_policy"), st.fixed_dictionaries({"UserName": NAMES, "PolicyArn": POLICIES})),
    st.tuples(st.just("attach_role_policy"), st.fixed_dictionaries({"RoleName": NAMES, "PolicyArn": POLICIES})),
    st.tuples(st.just("attach_group_policy"), st.fixed_dictionaries({"GroupName": NAMES, "PolicyArn": POLICIES})),
    st.tuples(st.just("put_user_permissions_boundary"), st.fixed_dictionaries({"UserName": NAMES,
                                                                               "PermissionsBoundary": POLICIES})),
    st.tuples(st.just("put_role_policy"), st.fixed_dictionaries({"RoleName": NAMES, "PolicyName": NAMES,
                                                                 "PolicyDocument": st.just(POLICY)})),
    st.tuples(st.just("delete_role_policy"), st.fixed_dictionaries({"RoleName": NAMES, "PolicyName": NAMES})),
    st.tuples(st.just("put_user_policy"), st.fixed_dictionaries({"UserName": NAMES, "PolicyName": NAMES,
                                                                 "PolicyDocument": st.just(POLICY)})),
    st.tuples(st.just("create_access_key"), st.fixed_dictionaries({"UserName": NAMES})),
    st.tuples(st.just("tag_user"), st.fixed_dictionaries({"UserName": NAMES, "Tags": TAGS})),
    st.tuples(st.just("untag_role"), st.fixed_dictionaries({"RoleName": NAMES, "TagKeys": st.lists(
        st.sampled_from(["k", "K", "j"]), max_size=2)})),
    st.tuples(st.just("tag_policy"), st.fixed_dictionaries({"PolicyArn": POLICIES, "Tags": TAGS})),
    st.tuples(st.just("create_instance_profile"), st.fixed_dictionaries({"InstanceProfileName": NAMES})),
    st.tuples(st.just("delete_instance_profile"), st.fixed_dictionaries({"InstanceProfileName": NAMES})),
    st.tuples(st.just("add_role_to_instance_profile"), st.fixed_dictionaries({"InstanceProfileName": NAMES,
                                                                              "RoleName": NAMES})),
    st.tuples(st.just("remove_role_from_instance_profile"), st.fixed_dictionaries({"InstanceProfileName": NAMES,
                                                                                   "RoleName": NAMES})),
)

# Sender errors an operation may answer with here (everything else, and any 5xx, is a failure).
ALLOWED = {"NoSuchEntity", "EntityAlreadyExists", "DeleteConflict", "LimitExceeded", "InvalidInput",
           "UnmodifiableEntity"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=st.lists(OPERATIONS, min_size=1, max_size=25))
def test_random_operation_sequences_never_fault(dev_server: Endpoint, ops: list[tuple[str, dict[str, Any]]]) -> None:
    dev_server.reset()
    iam = dev_server.client("iam")
    for operation, params in ops:
        if "Tags" in params and not params["Tags"]:
            params = {k: v for k, v in params.items() if k != "Tags"}
        if operation in ("tag_user", "tag_policy") and "Tags" not in params:
            continue
        try:
            getattr(iam, operation)(**params)
        except ClientError as e:
            error, status = e.response["Error"], e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status < 500, (operation, params, error)
            assert error["Code"] in ALLOWED, (operation, params, error)
    state = snapshot(iam)
    summary = state["summary"]
    assert summary["Users"] == len(state["users"]) == len(state["details"]["UserDetailList"])
    assert summary["Groups"] == len(state["groups"]) == len(state["details"]["GroupDetailList"])
    assert summary["Roles"] == len(state["roles"]) == len(state["details"]["RoleDetailList"])
    assert summary["Policies"] == len(state["policies"])
    assert summary["InstanceProfiles"] == len(state["profiles"])
    for policy in state["policies"]:
        users = collect(iam.list_entities_for_policy, "PolicyUsers", PolicyArn=policy["Arn"],
                        PolicyUsageFilter="PermissionsPolicy")
        attached = sum(1 for u in state["details"]["UserDetailList"]
                       for p in u["AttachedManagedPolicies"] if p["PolicyArn"] == policy["Arn"])
        assert len(users) == attached
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == [policy["DefaultVersionId"]]
