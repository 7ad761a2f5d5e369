"""STS durations, messages and PackedPolicySize as AWS documents and answers them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.e2e.iam_support import expect, unvalidated
from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

ARN = f"arn:aws:iam::{ACCOUNT}"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"{ARN}:root"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
SESSION_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def lifetime(credentials: dict[str, Any]) -> float:
    return (credentials["Expiration"] - dt.datetime.now(dt.UTC)).total_seconds()


def user_clients(gh: Endpoint, iam: Any) -> tuple[Any, Any]:
    iam.create_user(UserName="u")
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    return gh.client("sts", key["AccessKeyId"], key["SecretAccessKey"]), key


def test_root_sessions_are_capped_at_one_hour_silently(sts: Any) -> None:
    """GetSessionToken and GetFederationToken, DurationSeconds: "Sessions for Amazon Web Services account owners are
    restricted to a maximum of 3,600 seconds (one hour). If the duration is longer than one hour, the session for
    Amazon Web Services account owners defaults to one hour." (botocore model, both operations). No error."""
    for credentials in (sts.get_session_token(DurationSeconds=7200)["Credentials"],
                        sts.get_session_token()["Credentials"],
                        sts.get_federation_token(Name="fed", DurationSeconds=129600)["Credentials"]):
        assert 3500 < lifetime(credentials) <= 3600


def test_user_session_durations(gh: Endpoint, iam: Any) -> None:
    """IAM users: 900 s to 129,600 s, 12 hours by default (same documentation)."""
    user_sts, _ = user_clients(gh, iam)
    assert 43100 < lifetime(user_sts.get_session_token()["Credentials"]) <= 43200
    assert 129500 < lifetime(user_sts.get_session_token(DurationSeconds=129600)["Credentials"]) <= 129600
    assert 43100 < lifetime(user_sts.get_federation_token(Name="fed")["Credentials"]) <= 43200


def test_assume_role_duration_messages(gh: Endpoint, iam: Any) -> None:
    """"The requested DurationSeconds exceeds the MaxSessionDuration set for this role." and "... the 1 hour session
    limit for roles assumed by role chaining." (ValidationError, 400; AssumeRole's documented failure cases)."""
    user_sts, _ = user_clients(gh, iam)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    response = expect("ValidationError", user_sts.assume_role, RoleArn=role, RoleSessionName="s1",
                      DurationSeconds=7201)
    assert response["Error"]["Message"] == \
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    creds = user_sts.assume_role(RoleArn=role, RoleSessionName="s1", DurationSeconds=7200)["Credentials"]
    assert 7100 < lifetime(creds) <= 7200
    chained = gh.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    response = expect("ValidationError", chained.assume_role, RoleArn=role, RoleSessionName="s2",
                      DurationSeconds=3601)
    assert response["Error"]["Message"] == \
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    loose = unvalidated(gh, "sts")
    response = expect("ValidationError", loose.assume_role, RoleArn=role, RoleSessionName="s", DurationSeconds=100)
    assert response["Error"]["Message"] == (
        "2 validation errors detected: Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have "
        "length greater than or equal to 2; Value '100' at 'durationSeconds' failed to satisfy constraint: Member "
        "must have value greater than or equal to 900")


def test_root_cannot_assume_roles(iam: Any, sts: Any) -> None:
    """'Roles may not be assumed by root accounts.' (AccessDenied, 403)."""
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    response = expect("AccessDenied", sts.assume_role, RoleArn=role, RoleSessionName="s1")
    assert response["Error"]["Message"] == "Roles may not be assumed by root accounts."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_packed_policy_size_only_with_session_policies_or_tags(gh: Endpoint, iam: Any) -> None:
    """PackedPolicySize is "the packed size of the session policies and session tags combined passed in the
    request" (AssumeRole's response): present when some were passed, between 0 and 100."""
    user_sts, _ = user_clients(gh, iam)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    assert "PackedPolicySize" not in user_sts.assume_role(RoleArn=role, RoleSessionName="plain")
    with_policy = user_sts.assume_role(RoleArn=role, RoleSessionName="scoped", Policy=SESSION_POLICY)
    with_tags = user_sts.assume_role(RoleArn=role, RoleSessionName="tagged", Tags=[{"Key": "team", "Value": "x"}])
    assert 0 < with_policy["PackedPolicySize"] <= 100 and 0 < with_tags["PackedPolicySize"] <= 100
    federated = user_sts.get_federation_token(Name="fed", Policy=SESSION_POLICY)
    assert 0 < federated["PackedPolicySize"] <= 100
    assert federated["FederatedUser"] == {"FederatedUserId": f"{ACCOUNT}:fed",
                                          "Arn": f"arn:aws:sts::{ACCOUNT}:federated-user/fed"}


def test_get_federation_token_always_answers_packed_policy_size(gh: Endpoint, iam: Any) -> None:
    """GetFederationToken with a Name only answers PackedPolicySize 0 (LocalStack's AWS-validated
    test_sts.snapshot.json, "get-federation-token"); AssumeRole without session policies or tags leaves it out
    (same file, "assume-role")."""
    user_sts, _ = user_clients(gh, iam)
    assert user_sts.get_federation_token(Name="fed")["PackedPolicySize"] == 0


def test_transitive_tag_conflict_wording(gh: Endpoint, iam: Any) -> None:
    """Chaining with a session tag that a transitive tag of the calling session already sets: InvalidParameterValue
    "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the
    calling session." (LocalStack's AWS-validated test_sts.snapshot.json, override-transitive-tag-error)."""
    user_sts, _ = user_clients(gh, iam)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    creds = user_sts.assume_role(RoleArn=role, RoleSessionName="first", Tags=[{"Key": "team", "Value": "a"}],
                                 TransitiveTagKeys=["team"])["Credentials"]
    chained = gh.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
    response = expect("InvalidParameterValue", chained.assume_role, RoleArn=role, RoleSessionName="second",
                      Tags=[{"Key": "TEAM", "Value": "b"}])
    assert response["Error"]["Message"] == ("One of the specified transitive tag keys can't be set because it "
                                            "conflicts with a transitive tag key from the calling session.")
