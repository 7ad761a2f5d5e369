"""CloudTrail's LookupEvents through the real server's JSON 1.1 endpoint: boto3's `cloudtrail` client finds the
calls the single exit recorded (a served write and a refused call), with no secret in any record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.servers import Endpoint


def test_boto3_cloudtrail_looks_up_what_the_single_exit_recorded(gh: Endpoint) -> None:
    iam, trail = gh.client("iam"), gh.client("cloudtrail")
    iam.create_user(UserName="traced")
    secret = iam.create_access_key(UserName="traced")["AccessKey"]["SecretAccessKey"]
    with pytest.raises(ClientError):
        iam.get_user(UserName="nobody-here")
    found: dict[str, Any] = {}
    for name in ("CreateUser", "CreateAccessKey", "GetUser"):
        events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        assert events["Events"], name
        found[name] = json.loads(events["Events"][0]["CloudTrailEvent"])
    assert found["CreateUser"]["requestParameters"] == {"userName": "traced"}
    assert found["GetUser"]["errorCode"] == "NoSuchEntity"
    assert secret not in json.dumps(found)
    with pytest.raises(ClientError) as bad:
        trail.lookup_events(MaxResults=500)
    assert bad.value.response["Error"]["Code"] in ("ValidationException", "InvalidMaxResultsException")
