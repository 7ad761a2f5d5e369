"""SimulateCustomPolicy decides every document the policy grammar accepts: rules IAM applies only when it stores a
policy (here, a region in an IAM resource ARN) do not refuse a hypothetical document, while grammar errors still
answer InvalidInput."""

from __future__ import annotations

import json

from tests.security.support import call, new_app, ok

REGIONAL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam:*:*:user/*"}]})
NO_RESOURCE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser"}]})


def test_simulate_custom_policy_evaluates_what_iam_would_not_store() -> None:
    app = new_app()
    try:
        params = {"PolicyInputList.member.1": REGIONAL, "ActionNames.member.1": "iam:GetUser",
                  "ResourceArns.member.1": "arn:aws:iam::123456789012:user/alice"}
        assert ok(app, "iam", "SimulateCustomPolicy", params).text("EvalDecision") == "allowed"
        refused = call(app, "iam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument": REGIONAL})
        assert refused.code == "MalformedPolicyDocument" and "cannot contain region information" in refused.message
        bad = call(app, "iam", "SimulateCustomPolicy", {**params, "PolicyInputList.member.1": NO_RESOURCE})
        assert bad.code == "InvalidInput" and "must contain resources" in bad.message
    finally:
        app.close()
