"""Service last accessed data through the real server with boto3: a group's and a managed policy's job, and
GetServiceLastAccessedDetailsWithEntities naming the member who used IAM."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.support.servers import Endpoint


def test_boto3_group_and_policy_jobs_name_the_entities(gh: Endpoint) -> None:
    iam = gh.client("iam")
    tag = uuid.uuid4().hex[:8]
    group, member, idle = f"lad-{tag}", f"lad-user-{tag}", f"lad-idle-{tag}"
    iam.create_group(GroupName=group)
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    policy_arn = iam.create_policy(PolicyName=f"lad-{tag}", PolicyDocument=document)["Policy"]["Arn"]
    iam.attach_group_policy(GroupName=group, PolicyArn=policy_arn)
    for name in (member, idle):
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName=group, UserName=name)
    key = iam.create_access_key(UserName=member)["AccessKey"]
    gh.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).get_user(UserName=member)

    for target in (f"arn:aws:iam::{gh.account}:group/{group}", policy_arn):
        job = iam.generate_service_last_accessed_details(Arn=target, Granularity="ACTION_LEVEL")["JobId"]
        services = iam.get_service_last_accessed_details(JobId=job)["ServicesLastAccessed"]
        used = {s["ServiceNamespace"]: s for s in services}["iam"]
        assert used["LastAuthenticatedEntity"].endswith(f":user/{member}")
        assert "GetUser" in [a["ActionName"] for a in used["TrackedActionsLastAccessed"]]
        got = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="iam")
        assert got["JobStatus"] == "COMPLETED"
        details = got["EntityDetailsList"]
        assert [d["EntityInfo"]["Name"] for d in details] == [member, idle]
        assert details[0]["EntityInfo"]["Type"] == "USER" and "LastAuthenticated" in details[0]
        assert "LastAuthenticated" not in details[1]
    with pytest.raises(ClientError) as missing:
        iam.get_service_last_accessed_details_with_entities(JobId=str(uuid.uuid4()), ServiceNamespace="iam")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
