"""Error codes, HTTP statuses and messages as AWS words them, with the evidence for each wording.

Evidence is quoted from public threads that show real AWS answers (issue trackers of terraform-provider-aws,
boto3, ansible, pulumi, ...) or from AWS's API reference and the botocore model."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.iam_support import expect, rejected, status_of, unvalidated
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

ARN = f"arn:aws:iam::{ACCOUNT}"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def trust(*principals: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}]})


def message(response: dict[str, Any]) -> str:
    return response["Error"]["Message"]


def test_no_such_entity_wording(iam: Any) -> None:
    # "The user with name ansible.creation2 cannot be found." (ansible/ansible#45593, AddUserToGroup)
    assert message(expect("NoSuchEntity", iam.get_user, UserName="ghost")) == \
        "The user with name ghost cannot be found."
    # "The role with name  cannot be found." (prowler-cloud/prowler#2872, ListRolePolicies)
    response = expect("NoSuchEntity", iam.list_role_policies, RoleName="ghost")
    assert message(response) == "The role with name ghost cannot be found." and status_of(response) == 404
    # "The role policy with name AWSLambdaBasicExecutionRole cannot be found." (aws/aws-cli#6139, DeleteRolePolicy)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"))
    assert message(expect("NoSuchEntity", iam.delete_role_policy, RoleName="r", PolicyName="Basic")) == \
        "The role policy with name Basic cannot be found."
    # "NoSuchEntity: Policy arn:aws:iam::...:policy/... was not found." on a detach (pulumi/pulumi-aws#501)
    assert message(expect("NoSuchEntity", iam.detach_role_policy, RoleName="r", PolicyArn=f"{ARN}:policy/nope")) == \
        f"Policy {ARN}:policy/nope was not found."
    # "NoSuchEntity: Policy arn:aws:iam::aws:policy/service-role/ConfigRole does not exist or is not attachable."
    # (AttachRolePolicy, quoted from a terraform apply log in a public repository)
    assert message(expect("NoSuchEntity", iam.attach_role_policy, RoleName="r",
                          PolicyArn="arn:aws:iam::aws:policy/service-role/ConfigRole")) == \
        "Policy arn:aws:iam::aws:policy/service-role/ConfigRole does not exist or is not attachable."


def test_list_entities_for_a_missing_policy_is_worded_as_attaching(iam: Any) -> None:
    """ListEntitiesForPolicy on a missing policy answers 'Policy <ARN> does not exist or is not attachable.', not
    GetPolicy's 'was not found.': a public AWS SDK v3 caller of ListEntitiesForPolicyCommand matches on it
    ("Error message when policy does not exist at 2024/01 is \" Policy <Policy ARN> does not exist or is not
    attachable.\"")."""
    response = expect("NoSuchEntity", iam.list_entities_for_policy, PolicyArn=f"{ARN}:policy/gone")
    assert message(response) == f"Policy {ARN}:policy/gone does not exist or is not attachable."
    assert message(expect("NoSuchEntity", iam.get_policy, PolicyArn=f"{ARN}:policy/gone")) == \
        f"Policy {ARN}:policy/gone was not found."


def test_remove_user_not_in_group_succeeds(iam: Any) -> None:
    """RemoveUserFromGroup for a user who is not a member answers success; so does AddUserToGroup twice
    (cloud-custodian/cloud-custodian#4730: "in both the cases, there's no error returned. I tried both the cases
    using the policy and cli")."""
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.remove_user_from_group(GroupName="g", UserName="u")
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.add_user_to_group(GroupName="g", UserName="u")
    assert [u["UserName"] for u in iam.get_group(GroupName="g")["Users"]] == ["u"]


def test_delete_conflicts(iam: Any) -> None:
    # "Cannot delete entity, must remove users from group first. (Service: AmazonIdentityManagement; Status Code:
    # 409; Error Code: DeleteConflict ...)" (go-to-k/delstack#40)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    response = rejected(iam, "DeleteConflict", iam.delete_group, GroupName="g")
    assert message(response) == "Cannot delete entity, must remove users from group first."
    assert status_of(response) == 409


def test_limit_exceeded_wording(iam: Any) -> None:
    # "Cannot exceed quota for PoliciesPerRole: 10 (Service: Iam, Status Code: 409 ...)" (aws/eks-hybrid#741)
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"))
    for i in range(10):
        arn = iam.create_policy(PolicyName=f"p{i}", PolicyDocument=POLICY)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    response = rejected(iam, "LimitExceeded", iam.attach_role_policy, RoleName="r",
                        PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert message(response) == "Cannot exceed quota for PoliciesPerRole: 10" and status_of(response) == 409


def test_groups_per_account_quota(iam: Any) -> None:
    """300 groups per account (IAM and AWS STS quotas; GetAccountSummary's GroupsQuota), then LimitExceeded in the
    "Cannot exceed quota for <Name>: <N>" form AWS uses for the other per-account quotas ("Cannot exceed quota for
    RolesPerAccount: 1000", terraform logs in public repositories); the quota name GroupsPerAccount follows that
    pattern and is unconfirmed."""
    for i in range(300):
        iam.create_group(GroupName=f"g{i}")
    response = rejected(iam, "LimitExceeded", iam.create_group, GroupName="one-more")
    assert message(response) == "Cannot exceed quota for GroupsPerAccount: 300"
    assert iam.get_account_summary()["SummaryMap"]["GroupsQuota"] == 300


def test_instance_profiles_per_account_quota(gh: Endpoint, iam: Any) -> None:
    """'Cannot exceed quota for InstanceProfilesPerAccount: 1000', HTTP 409 (ansible/workshops#1801, a
    CreateInstanceProfile answer quoted with its response metadata)."""
    clients = [gh.client("iam") for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: clients[i % 4].create_instance_profile(InstanceProfileName=f"p{i}"), range(1000)))
    response = expect("LimitExceeded", iam.create_instance_profile, InstanceProfileName="one-more")
    assert message(response) == "Cannot exceed quota for InstanceProfilesPerAccount: 1000"
    assert status_of(response) == 409
    assert iam.get_account_summary()["SummaryMap"]["InstanceProfiles"] == 1000


def test_trust_policy_naming_a_missing_principal_is_refused(iam: Any) -> None:
    """AWS resolves IAM users and roles named in a trust policy when it is saved: 'MalformedPolicyDocument: Invalid
    principal in policy: "AWS":"arn:aws:iam::085167882865:user/cloud_user"' (CreateRole) and
    '... "AWS":"arn:aws:iam::104506445608:role/admin"' (UpdateAssumeRolePolicy), both quoted in public
    repositories; a role cannot name itself at creation (it does not exist yet), and a name differing only in case
    is another name. Terraform retries this error while a just-created principal propagates."""
    missing = f"{ARN}:user/alice"
    response = rejected(iam, "MalformedPolicyDocument", iam.create_role, RoleName="r",
                        AssumeRolePolicyDocument=trust(f"{ARN}:root", missing))
    assert message(response) == f'Invalid principal in policy: "AWS":"{missing}"' and status_of(response) == 400
    rejected(iam, "MalformedPolicyDocument", iam.create_role, RoleName="self",
             AssumeRolePolicyDocument=trust(f"{ARN}:role/self"))
    iam.create_user(UserName="alice", Path="/team/")
    rejected(iam, "MalformedPolicyDocument", iam.create_role, RoleName="r", AssumeRolePolicyDocument=trust(missing))
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:user/team/alice"))
    response = rejected(iam, "MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="r",
                        PolicyDocument=trust(f"{ARN}:user/team/Alice"))
    assert message(response) == f'Invalid principal in policy: "AWS":"{ARN}:user/team/Alice"'
    # Now the role exists, it may trust itself; another account's principals cannot be checked from here.
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=trust(f"{ARN}:role/r", "arn:aws:iam::210987654321:"
                                                                     "role/elsewhere"))


def test_own_user_name_needs_user_credentials(gh: Endpoint, iam: Any) -> None:
    """Without UserName, with role credentials: ValidationError 'Must specify userName when calling with non-User
    credentials' (quoted by terraform-provider-aws's aws_iam_access_key importer and by `aws iam get-user` under
    AWS SSO)."""
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"))
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    creds = gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
        RoleArn=f"{ARN}:role/r", RoleSessionName="s1")["Credentials"]
    session = gh.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    for call in (session.get_user, session.list_access_keys):
        response = expect("ValidationError", call)
        assert message(response) == "Must specify userName when calling with non-User credentials"
        assert status_of(response) == 400


def test_account_alias_rules(gh: Endpoint, iam: Any) -> None:
    """An alias "cannot be a 12 digit number" (IAM User Guide, IAM and AWS STS quotas, name requirements); the
    model's pattern does not say so. Creating another alias replaces the account's one (checked against a live
    account in floci-io/floci#2103)."""
    loose = unvalidated(gh)
    response = expect("ValidationError", loose.create_account_alias, AccountAlias="123456789012")
    assert message(response).startswith("The specified value for accountAlias is invalid.")
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias="first-alias")
    iam.create_account_alias(AccountAlias="1234567890123")  # 13 digits: allowed
    assert iam.list_account_aliases()["AccountAliases"] == ["1234567890123"]


# --- AWS's answers as recorded in LocalStack's AWS-validated snapshots (github.com/localstack/localstack,
# tests/aws/services/iam/*.snapshot.json: each records real AWS responses, "recorded-date" 2026) ---------------


def test_policy_version_operations_on_a_missing_policy(iam: Any) -> None:
    """GetPolicyVersion / SetDefaultPolicyVersion on a policy that does not exist: "Policy ... version v1 does
    not exist or is not attachable." (test_iam_policies.snapshot.json, err-get-version-nonexistent-policy,
    err-set-default-nonexistent-policy)."""
    arn = f"{ARN}:policy/TestNonExistingPolicy"
    for call in (iam.get_policy_version, iam.set_default_policy_version, iam.delete_policy_version):
        response = expect("NoSuchEntity", call, PolicyArn=arn, VersionId="v1")
        assert message(response) == f"Policy {arn} version v1 does not exist or is not attachable."


def test_policy_arn_that_is_no_arn(iam: Any) -> None:
    """AttachRolePolicy with a value that is no ARN: ValidationError "ARN longpolicynamebutnoarn is not valid.";
    a permissions boundary naming something other than a policy: InvalidInput "ARN ... is not valid."
    (test_iam_roles.snapshot.json, non-existent-malformed-policy-arn, put-invalid-boundary-error)."""
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"))
    response = rejected(iam, "ValidationError", iam.attach_role_policy, RoleName="r",
                        PolicyArn="longpolicynamebutnoarn")
    assert message(response) == "ARN longpolicynamebutnoarn is not valid."
    response = rejected(iam, "InvalidInput", iam.put_role_permissions_boundary, RoleName="r",
                        PermissionsBoundary=f"{ARN}:not_a_policy/invalid")
    assert message(response) == f"ARN {ARN}:not_a_policy/invalid is not valid."


def test_membership_removals(iam: Any) -> None:
    """RemoveUserFromGroup reports a missing user before a missing group (test_iam_groups.snapshot.json,
    remove-from-unknown-group); RemoveRoleFromInstanceProfile of a role not in the profile: "Role X in Instance
    Profile Y cannot be found." (test_iam_instance_profiles.snapshot.json, remove-unattached-role-error)."""
    response = expect("NoSuchEntity", iam.remove_user_from_group, GroupName="no-group", UserName="any-user")
    assert message(response) == "The user with name any-user cannot be found."
    iam.create_user(UserName="u")
    response = expect("NoSuchEntity", iam.remove_user_from_group, GroupName="no-group", UserName="u")
    assert message(response) == "The group with name no-group cannot be found."
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"))
    iam.create_instance_profile(InstanceProfileName="ip")
    response = rejected(iam, "NoSuchEntity", iam.remove_role_from_instance_profile, InstanceProfileName="ip",
                        RoleName="r")
    assert message(response) == "Role r in Instance Profile ip cannot be found."


def test_openid_connect_provider_errors(gh: Endpoint, iam: Any) -> None:
    """A URL that is no URL: ValidationError "Invalid Open ID Connect Provider URL"; deleting twice: NoSuchEntity
    "OpenId connect Provider <arn> cannot be found." (test_iam_oidc.snapshot.json; the API reference's old "This
    operation is idempotent" no longer holds, and the current botocore model no longer says it)."""
    response = expect("ValidationError", unvalidated(gh).create_open_id_connect_provider, Url="example.org",
                      ThumbprintList=["a" * 40])
    assert message(response) == "Invalid Open ID Connect Provider URL"
    arn = iam.create_open_id_connect_provider(Url="https://oidc.example.com", ClientIDList=["app"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    response = expect("NoSuchEntity", iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    assert message(response) == f"OpenId connect Provider {arn} cannot be found."


def test_virtual_mfa_device_errors_and_markers(iam: Any) -> None:
    """test_iam_mfa.snapshot.json: "MFA device already exists." (create-duplicate-error), "MFA Device with serial
    number ... does not exist." (delete-nonexistent-error, deactivate-nonexistent-mfa-error), and a foreign Marker:
    ValidationError "Invalid Marker." (list-invalid-marker-error)."""
    iam.create_virtual_mfa_device(VirtualMFADeviceName="phone")
    response = expect("EntityAlreadyExists", iam.create_virtual_mfa_device, VirtualMFADeviceName="phone")
    assert message(response) == "MFA device already exists."
    missing = f"{ARN}:mfa/nonexistent-device"
    response = expect("NoSuchEntity", iam.delete_virtual_mfa_device, SerialNumber=missing)
    assert message(response) == f"MFA Device with serial number {missing} does not exist."
    iam.create_user(UserName="u")
    response = expect("NoSuchEntity", iam.deactivate_mfa_device, UserName="u", SerialNumber=missing)
    assert message(response) == f"MFA Device with serial number {missing} does not exist."
    for call in (iam.list_virtual_mfa_devices, iam.list_users, iam.list_access_keys):
        response = expect("ValidationError", call, Marker="not-a-marker")
        assert message(response) == "Invalid Marker."


def test_tag_limit_wording(iam: Any) -> None:
    """Past 50 tags: LimitExceeded "The number of tags has reached the maximum limit.", 409
    (test_iam_oidc.snapshot.json, tags-limit-error)."""
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"),
                    Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(50)])
    response = rejected(iam, "LimitExceeded", iam.tag_role, RoleName="r", Tags=[{"Key": "one-more", "Value": "v"}])
    assert message(response) == "The number of tags has reached the maximum limit." and status_of(response) == 409


def test_managed_policies_need_the_current_language_version(iam: Any) -> None:
    """CreatePolicy (and CreatePolicyVersion) without a Version, or with "2008-10-17": "Policy document must be
    version 2012-10-17 or greater." (test_iam_policies.snapshot.json, invalid-1, invalid-2). Inline policies may
    still leave the version out."""
    statement = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket"}
    for document in ({"Statement": statement}, {"Version": "2008-10-17", "Statement": statement}):
        response = rejected(iam, "MalformedPolicyDocument", iam.create_policy, PolicyName="p",
                            PolicyDocument=json.dumps(document))
        assert message(response) == "Policy document must be version 2012-10-17 or greater."
    arn = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]["Arn"]
    response = rejected(iam, "MalformedPolicyDocument", iam.create_policy_version, PolicyArn=arn,
                        PolicyDocument=json.dumps({"Statement": statement}))
    assert message(response) == "Policy document must be version 2012-10-17 or greater."
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="legacy", PolicyDocument=json.dumps({"Statement": statement}))


def test_trust_policy_wording(iam: Any) -> None:
    """UpdateAssumeRolePolicy: "AssumeRole policy may only specify STS AssumeRole actions." for sts:InvalidAction,
    "Has prohibited field Resource" (no full stop), "This policy contains invalid Json"
    (test_iam_roles.snapshot.json, test_update_assume_role_policy_errors)."""
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(f"{ARN}:root"))
    base = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    cases = [("not valid json", "This policy contains invalid Json"),
             (json.dumps({"Version": "2012-10-17", "Statement": [{**base, "Action": "sts:InvalidAction"}]}),
              "AssumeRole policy may only specify STS AssumeRole actions."),
             (json.dumps({"Version": "2012-10-17", "Statement": [{**base, "Resource": "arn:aws:s3:::example_bucket"}]}),
              "Has prohibited field Resource")]
    for document, wording in cases:
        response = rejected(iam, "MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="r",
                            PolicyDocument=document)
        assert message(response) == wording
