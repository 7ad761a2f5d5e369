"""Workloads in process, on SQLite and PostgreSQL: registration (authorized as gatehouse:RegisterWorkload and
iam:PassRole, the token kept only as its hash), the container credentials endpoint (sessions of the profile's role
named after the workload, its tags as session tags, a fresh set before the old one runs low), revocation that stops
issued sessions at once, removal of the role from the profile, refused and throttled tokens, and the audit trail's
record of which workload obtained which session."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sqlalchemy import select, text
from starlette.datastructures import Headers

from gatehouse.app import Application, build
from gatehouse.settings import Secret, Settings
from gatehouse.storage.sql import tables as t
from tests.security.support import ACCOUNT, HOST, ROOT, Keys, asgi_request, call, ok, user_with_key
from tests.support import MASTER_KEY

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
LIST_ROLES_FOR_DATA = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}}]})
PATH = "/_gatehouse/workload-credentials"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest) -> Iterator[tuple[Application, Clock]]:
    clock = Clock()
    if request.param == "sqlite":
        settings = Settings(dev=True)
    else:
        settings = Settings(db_url=request.getfixturevalue("pg_url"), master_key=Secret(MASTER_KEY),
                            account_id=ACCOUNT, root_access_key_id=ROOT.key,
                            root_secret_access_key=Secret(ROOT.secret), enforce=True)
    app = build(settings, clock=clock)
    app.bootstrap()
    ok(app, "iam", "CreateRole", {"RoleName": "app", "AssumeRolePolicyDocument": TRUST})
    ok(app, "iam", "PutRolePolicy", {"RoleName": "app", "PolicyName": "p", "PolicyDocument": LIST_ROLES_FOR_DATA})
    ok(app, "iam", "CreateInstanceProfile", {"InstanceProfileName": "app-profile"})
    ok(app, "iam", "AddRoleToInstanceProfile", {"InstanceProfileName": "app-profile", "RoleName": "app"})
    yield app, clock
    app.close()


def gatehouse(app: Application, operation: str, params: dict[str, Any] | None = None, keys: Keys = ROOT
              ) -> tuple[int, dict[str, Any]]:
    """A signed call of Gatehouse's own JSON 1.1 service."""
    assert app.asgi is not None
    body = json.dumps(params or {})
    request = AWSRequest("POST", f"http://{HOST}/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"Gatehouse_20261201.{operation}",
        "Host": HOST})
    SigV4Auth(Credentials(keys.key, keys.secret, keys.token), "gatehouse", "us-east-1").add_auth(request)
    status, payload = app.asgi.endpoint.handle("POST", "/", "", Headers(headers=dict(request.headers)),
                                               body.encode(), "127.0.0.1", False)
    return status, json.loads(payload or b"{}")


def register(app: Application, workload_id: str, keys: Keys = ROOT, **extra: Any) -> dict[str, Any]:
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile",
                                                         "WorkloadId": workload_id, **extra}, keys)
    assert status == 200, answer
    return answer


def fetch(app: Application, token: str | None) -> tuple[int, dict[str, Any]]:
    answer = asgi_request(app, "GET", PATH, headers={"Authorization": token} if token is not None else {})
    return answer.status, answer.json()


def session(body: dict[str, Any]) -> Keys:
    return Keys(body["AccessKeyId"], body["SecretAccessKey"], body["Token"])


def test_a_registered_workload_gets_a_session_of_the_profiles_role(world: tuple[Application, Clock]) -> None:
    app, clock = world
    reg = register(app, "web-1", Tags=[{"Key": "team", "Value": "data"}])
    assert reg["WorkloadId"] == "web-1" and reg["Token"].startswith("ghw_")
    assert reg["CredentialsUri"].endswith(PATH) and reg["CredentialsUri"].startswith("http://")
    status, body = fetch(app, reg["Token"])
    assert status == 200, body
    assert body["AccessKeyId"].startswith("ASIA") and body["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/app"
    assert body["Expiration"] == (clock.now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    creds = session(body)
    who = ok(app, "sts", "GetCallerIdentity", keys=creds)
    assert who.text("Arn") == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/web-1"
    ok(app, "iam", "ListRoles", keys=creds)  # allowed by the role's policy, through the workload's tag
    assert call(app, "iam", "CreateUser", {"UserName": "x"}, creds).code == "AccessDenied"


def test_the_workloads_tags_are_its_sessions_principal_tags(world: tuple[Application, Clock]) -> None:
    app, _ = world
    token = register(app, "plain")["Token"]
    untagged = session(fetch(app, token)[1])
    assert call(app, "iam", "ListRoles", keys=untagged).code == "AccessDenied"
    assert gatehouse(app, "TagWorkload", {"WorkloadId": "plain", "Tags": [{"Key": "team", "Value": "data"}]})[0] == 200
    tagged = session(fetch(app, token)[1])  # new tags: a new session, at once
    assert tagged.key != untagged.key
    ok(app, "iam", "ListRoles", keys=tagged)
    assert call(app, "iam", "ListRoles", keys=untagged).code == "AccessDenied"  # sessions keep their tags
    assert gatehouse(app, "UntagWorkload", {"WorkloadId": "plain", "TagKeys": ["team"]})[0] == 200
    assert call(app, "iam", "ListRoles", keys=session(fetch(app, token)[1])).code == "AccessDenied"
    listed = gatehouse(app, "GetWorkload", {"WorkloadId": "plain"})[1]
    assert listed["Workload"]["Tags"] == []


def test_the_token_is_kept_only_as_its_hash(world: tuple[Application, Clock]) -> None:
    app, _ = world
    reg = register(app, "web-1")
    with app.store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t.workloads))]
    assert len(rows) == 1 and rows[0]["token_hash"] == hashlib.sha256(reg["Token"].encode()).hexdigest()
    assert reg["Token"] not in json.dumps(rows, default=str)
    status, listed = gatehouse(app, "ListWorkloads")
    assert status == 200 and reg["Token"] not in json.dumps(listed)
    assert [w["WorkloadId"] for w in listed["Workloads"]] == ["web-1"]
    assert listed["Workloads"][0]["RoleName"] == "app" and listed["Workloads"][0]["Status"] == "Active"


def test_wrong_or_missing_tokens_get_nothing_and_are_throttled(world: tuple[Application, Clock]) -> None:
    app, _ = world
    register(app, "web-1")
    assert fetch(app, None)[0] == 401
    assert fetch(app, "")[0] == 401
    status, body = fetch(app, "ghw_not-the-token")
    assert status == 401 and "AccessKeyId" not in body
    for _ in range(20):
        fetch(app, "ghw_guess")
    assert fetch(app, "ghw_guess")[0] == 429


def test_revoking_stops_new_issues_and_issued_sessions_at_once(world: tuple[Application, Clock]) -> None:
    app, _ = world
    reg = register(app, "web-1")
    creds = session(fetch(app, reg["Token"])[1])
    ok(app, "sts", "GetCallerIdentity", keys=creds)
    assert gatehouse(app, "RevokeWorkload", {"WorkloadId": "web-1"})[0] == 200
    assert fetch(app, reg["Token"])[0] == 401
    assert call(app, "sts", "GetCallerIdentity", keys=creds).code == "InvalidClientTokenId"
    status, got = gatehouse(app, "GetWorkload", {"WorkloadId": "web-1"})
    assert status == 200 and got["Workload"]["Status"] == "Revoked" and "RevokeDate" in got["Workload"]
    # The id may be registered again; the old sessions stay refused (they are bound to the old registration).
    again = register(app, "web-1")
    fresh = session(fetch(app, again["Token"])[1])
    ok(app, "sts", "GetCallerIdentity", keys=fresh)
    assert call(app, "sts", "GetCallerIdentity", keys=creds).code == "InvalidClientTokenId"
    assert fetch(app, reg["Token"])[0] == 401


def test_removing_the_role_from_the_profile_stops_new_issues(world: tuple[Application, Clock]) -> None:
    app, _ = world
    reg = register(app, "web-1")
    assert fetch(app, reg["Token"])[0] == 200
    ok(app, "iam", "RemoveRoleFromInstanceProfile", {"InstanceProfileName": "app-profile", "RoleName": "app"})
    status, body = fetch(app, reg["Token"])
    assert status == 403 and "AccessKeyId" not in body


def test_a_fresh_set_comes_before_the_old_one_runs_low(world: tuple[Application, Clock]) -> None:
    app, clock = world
    reg = register(app, "web-1")
    first = fetch(app, reg["Token"])[1]
    assert fetch(app, reg["Token"])[1]["AccessKeyId"] == first["AccessKeyId"]  # reused while plenty remains
    clock.now += dt.timedelta(minutes=31)  # under half of the hour left
    second = fetch(app, reg["Token"])[1]
    assert second["AccessKeyId"] != first["AccessKeyId"] and second["Expiration"] > first["Expiration"]


def test_ttl_defaults_to_an_hour_and_is_capped_by_the_role(world: tuple[Application, Clock]) -> None:
    app, clock = world
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile", "WorkloadId": "w-1",
                                                         "TtlSeconds": 7200})
    assert status == 400 and "MaxSessionDuration" in answer["message"], answer
    reg = register(app, "short", TtlSeconds=900)
    body = fetch(app, reg["Token"])[1]
    assert body["Expiration"] == (clock.now + dt.timedelta(seconds=900)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile", "WorkloadId": "w-1",
                                               "TtlSeconds": 60})[0] == 400  # below the model's 900


def test_registration_refusals(world: tuple[Application, Clock]) -> None:
    app, _ = world
    register(app, "web-1")
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile", "WorkloadId": "WEB-1"})
    assert status == 409 and answer["__type"].endswith("EntityAlreadyExists"), answer
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "nope"})
    assert status == 404 and answer["__type"].endswith("NoSuchEntity"), answer
    ok(app, "iam", "CreateRole", {"RoleName": "lambda-only", "AssumeRolePolicyDocument": TRUST.replace(
        "ec2.amazonaws.com", "lambda.amazonaws.com")})
    ok(app, "iam", "CreateInstanceProfile", {"InstanceProfileName": "odd"})
    ok(app, "iam", "AddRoleToInstanceProfile", {"InstanceProfileName": "odd", "RoleName": "lambda-only"})
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "odd"})
    assert status == 400 and "ec2.amazonaws.com" in answer["message"], answer
    with app.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workloads")).scalar() == 1  # nothing half-written


def test_registration_needs_register_and_pass_role(world: tuple[Application, Clock]) -> None:
    app, _ = world
    nobody = user_with_key(app, "nobody")
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile"}, nobody)
    assert status == 400 and answer["__type"].endswith("AccessDeniedException"), answer
    register_only = user_with_key(app, "registrar", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "gatehouse:*", "Resource": "*"}]}))
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile"}, register_only)
    assert "iam:PassRole" in answer.get("message", answer.get("Message", "")), answer
    both = user_with_key(app, "admin", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "gatehouse:RegisterWorkload",
         "Resource": f"arn:aws:gatehouse::{ACCOUNT}:workload/web-*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/app",
         "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]}))
    register(app, "web-2", both)
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile",
                                                         "WorkloadId": "db-1"}, both)
    assert status == 400 and "gatehouse:RegisterWorkload" in answer.get("message", ""), answer
    # Absence is not told to whoever may not look.
    status, answer = gatehouse(app, "GetWorkload", {"WorkloadId": "missing"}, nobody)
    assert answer["__type"].endswith("AccessDeniedException"), answer
    assert gatehouse(app, "GetWorkload", {"WorkloadId": "missing"})[0] == 404
    assert gatehouse(app, "RevokeWorkload", {"WorkloadId": "web-2"}, nobody)[0] == 400
    assert gatehouse(app, "GetWorkloadCredentials", {"WorkloadId": "web-2"}, register_only)[0] == 400


def test_get_workload_credentials_for_an_allowed_caller(world: tuple[Application, Clock]) -> None:
    app, _ = world
    register(app, "web-1")
    status, answer = gatehouse(app, "GetWorkloadCredentials", {"WorkloadId": "web-1"})
    assert status == 200, answer
    creds = answer["Credentials"]
    who = ok(app, "sts", "GetCallerIdentity", keys=Keys(creds["AccessKeyId"], creds["SecretAccessKey"],
                                                        creds["SessionToken"]))
    assert who.text("Arn").endswith(":assumed-role/app/web-1")
    gatehouse(app, "RevokeWorkload", {"WorkloadId": "web-1"})
    assert gatehouse(app, "GetWorkloadCredentials", {"WorkloadId": "web-1"})[0] == 400


def test_the_trail_records_which_workload_obtained_which_session(world: tuple[Application, Clock]) -> None:
    app, _ = world
    reg = register(app, "web-1")
    body = fetch(app, reg["Token"])[1]
    assert app.trail is not None
    app.trail.flush()
    with app.store.engine.connect() as conn:
        records = [json.loads(r) for r in conn.execute(select(t.audit_events.c.record).where(
            t.audit_events.c.event_name == "GetWorkloadCredentials")).scalars()]
    assert len(records) == 1, records
    record = records[0]
    assert record["eventSource"] == "gatehouse.amazonaws.com" and record["recipientAccountId"] == ACCOUNT
    assert record["requestParameters"] == {"workloadId": "web-1"}
    assert record["responseElements"]["credentials"]["accessKeyId"] == body["AccessKeyId"]
    assert "secretAccessKey" not in json.dumps(record) and body["Token"] not in json.dumps(record)
    assert record["responseElements"]["assumedRoleUser"]["arn"].endswith("assumed-role/app/web-1")
    with app.store.engine.connect() as conn:
        registered = [r for r in conn.execute(select(t.audit_events.c.record).where(
            t.audit_events.c.event_name == "RegisterWorkload")).scalars()]
    assert registered and reg["Token"] not in registered[0]


def test_tags_that_cannot_fit_a_session_are_refused_before_anything_is_written(
        world: tuple[Application, Clock]) -> None:
    app, _ = world
    big = [{"Key": f"k{i:03d}", "Value": secrets.token_hex(120)} for i in range(50)]
    status, answer = gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile", "WorkloadId": "big",
                                                         "Tags": big})
    assert status == 400 and answer["__type"].endswith("PackedPolicyTooLarge"), answer
    assert gatehouse(app, "GetWorkload", {"WorkloadId": "big"})[0] == 404
    register(app, "small")
    status, answer = gatehouse(app, "TagWorkload", {"WorkloadId": "small", "Tags": big})
    assert status == 400 and answer["__type"].endswith("PackedPolicyTooLarge"), answer
    assert gatehouse(app, "GetWorkload", {"WorkloadId": "small"})[1]["Workload"]["Tags"] == []


def test_the_signed_operation_refuses_when_the_role_is_gone(world: tuple[Application, Clock]) -> None:
    app, _ = world
    register(app, "web-1")
    ok(app, "iam", "RemoveRoleFromInstanceProfile", {"InstanceProfileName": "app-profile", "RoleName": "app"})
    status, answer = gatehouse(app, "GetWorkloadCredentials", {"WorkloadId": "web-1"})
    assert status == 400 and answer["__type"].endswith("AccessDeniedException"), answer


def test_workload_tags_and_request_tags_in_policies(world: tuple[Application, Clock]) -> None:
    app, _ = world
    register(app, "data-1", Tags=[{"Key": "team", "Value": "data"}])
    register(app, "web-9", Tags=[{"Key": "team", "Value": "web"}])
    keys = user_with_key(app, "ops", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["gatehouse:RevokeWorkload", "gatehouse:GetWorkload"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "data"}}},
        {"Effect": "Allow", "Action": "gatehouse:RegisterWorkload", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "data"}, "ForAllValues:StringEquals": {
             "aws:TagKeys": ["team"]}}},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}))
    assert gatehouse(app, "GetWorkload", {"WorkloadId": "data-1"}, keys)[0] == 200
    assert gatehouse(app, "RevokeWorkload", {"WorkloadId": "web-9"}, keys)[0] == 400
    assert gatehouse(app, "RevokeWorkload", {"WorkloadId": "data-1"}, keys)[0] == 200
    assert gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile", "WorkloadId": "x-1"}, keys)[
        0] == 400
    assert gatehouse(app, "RegisterWorkload", {"InstanceProfileName": "app-profile", "WorkloadId": "x-2", "Tags": [
        {"Key": "team", "Value": "data"}, {"Key": "env", "Value": "prod"}]}, keys)[0] == 400
    register(app, "x-3", keys, Tags=[{"Key": "team", "Value": "data"}])


def test_the_roles_boundary_bounds_the_workloads_session(world: tuple[Application, Clock]) -> None:
    app, _ = world
    ok(app, "iam", "CreatePolicy", {"PolicyName": "only-get-user", "PolicyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})})
    ok(app, "iam", "PutRolePermissionsBoundary", {"RoleName": "app", "PermissionsBoundary":
                                                  f"arn:aws:iam::{ACCOUNT}:policy/only-get-user"})
    creds = session(fetch(app, register(app, "bounded", Tags=[{"Key": "team", "Value": "data"}])["Token"])[1])
    assert call(app, "iam", "ListRoles", keys=creds).code == "AccessDenied"  # allowed by the role, not the boundary


def test_the_credentials_uri_follows_the_public_url() -> None:
    app = build(Settings(dev=True, public_url="https://gatehouse.example/base/"))
    try:
        app.bootstrap()
        ok(app, "iam", "CreateRole", {"RoleName": "app", "AssumeRolePolicyDocument": TRUST})
        ok(app, "iam", "CreateInstanceProfile", {"InstanceProfileName": "app-profile"})
        ok(app, "iam", "AddRoleToInstanceProfile", {"InstanceProfileName": "app-profile", "RoleName": "app"})
        reg = register(app, "web-1")
        assert reg["CredentialsUri"] == "https://gatehouse.example/base" + PATH
        assert asgi_request(app, "GET", "/base" + PATH, headers={"Authorization": reg["Token"]}).status == 200
        assert asgi_request(app, "GET", PATH, headers={"Authorization": reg["Token"]}).status == 404
    finally:
        app.close()


def test_sessions_chained_from_a_workloads_stop_with_it(world: tuple[Application, Clock]) -> None:
    app, _ = world
    ok(app, "iam", "CreateRole", {"RoleName": "next", "AssumeRolePolicyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}}]})})
    ok(app, "iam", "PutRolePolicy", {"RoleName": "app", "PolicyName": "chain", "PolicyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})})
    creds = session(fetch(app, register(app, "web-1")["Token"])[1])
    chained = ok(app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/next", "RoleSessionName": "chain"},
                 creds)
    second = Keys(chained.text("AccessKeyId"), chained.text("SecretAccessKey"), chained.text("SessionToken"))
    ok(app, "sts", "GetCallerIdentity", keys=second)
    gatehouse(app, "RevokeWorkload", {"WorkloadId": "web-1"})
    assert call(app, "sts", "GetCallerIdentity", keys=second).code == "InvalidClientTokenId"
