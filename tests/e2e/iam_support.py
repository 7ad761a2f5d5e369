"""Helpers for the end-to-end IAM suites: documents, expected errors, paging, and whole-account snapshots.

`rejected(iam, code, call, **params)` is the workhorse of the error-path tests: it snapshots everything the
account holds, makes the call, checks AWS's error code, snapshots again and asserts that nothing changed.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint

ARN = f"arn:aws:iam::{ACCOUNT}"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# The six AWS managed policies Gatehouse wrote by hand before it shipped AWS's catalogue: still there, now as AWS
# has them (the whole catalogue is gatehouse.services.iam.aws_managed.AwsManagedPolicies).
AWS_MANAGED = ("AdministratorAccess", "IAMFullAccess", "IAMReadOnlyAccess", "IAMUserChangePassword",
               "PowerUserAccess", "ReadOnlyAccess")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


POLICY = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
POLICY_2 = doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"})
TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
TRUST_ACCOUNT = doc({"Effect": "Allow", "Principal": {"AWS": f"{ARN}:root"}, "Action": "sts:AssumeRole"})


def sized_policy(size: int, *, indent: int | None = None) -> str:
    """An identity policy counting exactly `size` characters other than white space (as IAM counts sizes)."""
    def build(pad: int) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/" + "x" * pad}]},
            indent=indent)
    base = non_whitespace(build(0))
    assert size >= base, f"a policy cannot be smaller than {base} characters"
    out = build(size - base)
    assert non_whitespace(out) == size
    return out


def non_whitespace(text: str) -> int:
    return len("".join(text.split()))


# --- errors ----------------------------------------------------------------------------------------------


def expect(code: str, call: Callable[..., Any], /, *args: Any, **params: Any) -> dict[str, Any]:
    """Call, expecting AWS error `code`; return the error response (Error, ResponseMetadata)."""
    with pytest.raises(ClientError) as info:
        call(*args, **params)
    response = info.value.response
    assert response["Error"]["Code"] == code, response["Error"]
    return response


def status_of(response: dict[str, Any]) -> int:
    return response["ResponseMetadata"]["HTTPStatusCode"]


def rejected(iam: Any, code: str, call: Callable[..., Any], /, *args: Any, **params: Any) -> dict[str, Any]:
    """`expect`, and the account is exactly as it was before the request."""
    before = snapshot(iam)
    response = expect(code, call, *args, **params)
    after = snapshot(iam)
    assert after == before, f"{code} was answered but state changed"
    return response


def unvalidated(ep: Endpoint, service: str = "iam") -> Any:
    """A root client that lets values botocore would refuse (below a minimum, empty) through to the server."""
    return boto3.client(service, endpoint_url=ep.url, aws_access_key_id=ep.key, aws_secret_access_key=ep.secret,
                        region_name="us-east-1",
                        config=Config(parameter_validation=False, retries={"max_attempts": 1}))


# --- paging ----------------------------------------------------------------------------------------------


def pages(call: Callable[..., dict[str, Any]], key: str, /, limit: int = 200, **params: Any
          ) -> list[list[Any]]:
    """Every page of a Marker/MaxItems listing. Checks the paging contract on each page: never more than
    MaxItems items, a Marker exactly when IsTruncated."""
    out: list[list[Any]] = []
    marker: str | None = None
    for _ in range(limit):
        page = call(**params, **({"Marker": marker} if marker else {}))
        items = page[key]
        if "MaxItems" in params:
            assert len(items) <= params["MaxItems"], f"{len(items)} items for MaxItems={params['MaxItems']}"
        out.append(items)
        if not page["IsTruncated"]:
            assert "Marker" not in page, page
            return out
        assert page.get("Marker"), "IsTruncated without a Marker"
        marker = page["Marker"]
    raise AssertionError(f"paging did not end after {limit} pages")


def collect(call: Callable[..., dict[str, Any]], key: str, /, **params: Any) -> list[Any]:
    return [item for page in pages(call, key, **params) for item in page]


# --- snapshots -------------------------------------------------------------------------------------------


def _clean(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def snapshot(iam: Any) -> dict[str, Any]:
    """Everything an account holds, as the API shows it (root's view)."""
    details: dict[str, list[Any]] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [],
                                     "Policies": []}
    marker = None
    while True:
        page = iam.get_account_authorization_details(**({"Marker": marker} if marker else {}))
        for key in details:
            details[key] += page[key]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    users = collect(iam.list_users, "Users")
    keys = {u["UserName"]: [(k["AccessKeyId"], k["Status"]) for k in
                            iam.list_access_keys(UserName=u["UserName"])["AccessKeyMetadata"]] for u in users}
    keys["<root>"] = [(k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys()["AccessKeyMetadata"]]
    profiles = [_clean(iam.get_instance_profile(InstanceProfileName=p["InstanceProfileName"]))
                for p in collect(iam.list_instance_profiles, "InstanceProfiles")]
    local = collect(iam.list_policies, "Policies", Scope="Local")
    policy_tags = {p["Arn"]: iam.list_policy_tags(PolicyArn=p["Arn"])["Tags"] for p in local}
    return {
        "details": details,
        "users": users,
        "roles": collect(iam.list_roles, "Roles"),
        "groups": collect(iam.list_groups, "Groups"),
        "keys": keys,
        "profiles": profiles,
        "policies": local,
        "policy_tags": policy_tags,
        "aliases": iam.list_account_aliases()["AccountAliases"],
        "summary": iam.get_account_summary()["SummaryMap"],
    }


# --- raw signed requests ---------------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded; charset=utf-8"


def signed(url: str, body: str, *, key: str = "test", secret: str = "test", when: dt.datetime | None = None,
           service: str = "iam", region: str = "us-east-1") -> botocore.awsrequest.AWSRequest:
    """A SigV4-signed Query request (botocore's signer), optionally signed at another (naive UTC) time."""
    req = botocore.awsrequest.AWSRequest("POST", url + "/", data=body, headers={"Content-Type": FORM})
    signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), service, region)
    if when is None:
        signer.add_auth(req)
        return req
    # botocore reads the clock through get_current_datetime (newer) or datetime.datetime.utcnow (older).
    fixed = when.replace(tzinfo=None)

    class Fixed(dt.datetime):
        @classmethod
        def utcnow(cls) -> dt.datetime:  # type: ignore[override]
            return fixed

    had_now = hasattr(botocore.auth, "get_current_datetime")
    orig_now, orig_dt = getattr(botocore.auth, "get_current_datetime", None), botocore.auth.datetime.datetime
    if had_now:
        botocore.auth.get_current_datetime = lambda *a, **kw: fixed  # type: ignore[attr-defined]
    else:
        botocore.auth.datetime.datetime = Fixed  # type: ignore[misc]
    try:
        signer.add_auth(req)
    finally:
        if had_now:
            botocore.auth.get_current_datetime = orig_now  # type: ignore[attr-defined]
        botocore.auth.datetime.datetime = orig_dt  # type: ignore[misc]
    assert req.headers["X-Amz-Date"] == fixed.strftime("%Y%m%dT%H%M%SZ"), "could not sign at another time"
    return req


def send(req: botocore.awsrequest.AWSRequest, body: str | bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Send a prepared request, optionally with another body or extra headers (after signing)."""
    data = req.body if body is None else body
    if isinstance(data, str):
        data = data.encode()
    r = urllib.request.Request(req.url, data=data, headers={**dict(req.headers), **(headers or {})},
                               method=req.method)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def error_code(text: str) -> str:
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else ""
