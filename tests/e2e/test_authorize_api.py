"""POST /authorize and /authorize/batch against a real server, on SQLite and PostgreSQL: the application's own
SigV4 signature and its `gatehouse:Authorize`, principals named by ARN or by their forwarded signed request,
same-account and cross-account decisions with the registry's resource policies, session policies, the audit
trail, and refusals with AWS-style JSON errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import ACCOUNT, MASTER_KEY
from tests.support.authorize import (
    OTHER,
    World,
    allow,
    authorize,
    build_world,
    create_account,
    forwarded,
    gatehouse_client,
    http,
    note,
    signed_headers,
)
from tests.support.servers import persistent_args, running

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.xdist_group("authorize-api")]

NOTES = "http://notes.example:8080"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, pg_schema_factory: Any, tmp_path_factory: Any) -> Iterator[World]:
    if request.param == "postgresql":
        db = pg_schema_factory()
        args, extra = persistent_args(db_url=db)
        store_args = ["--db", db]
    else:
        data = str(tmp_path_factory.mktemp("data"))
        args, extra = persistent_args(data_dir=data)
        store_args = ["--data", data]
    env = {"GATEHOUSE_MASTER_KEY": MASTER_KEY} if request.param == "postgresql" else {}
    with running(*args, env=env) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        other = create_account(store_args, env)
        yield build_world(ep, other)


def ask(world: World, principal: str | dict[str, Any], action: str = "notes:GetNote", resource: str = note(1),
        as_: str = "notes-app", **extra: Any) -> tuple[int, Any]:
    who = {"signed_request": principal} if isinstance(principal, dict) else {"principal": principal}
    return authorize(world.ep, world.keys[as_], {"request": {**who, "action": action, "resource": resource, **extra}})


def test_unsigned_and_badly_signed_calls_are_refused(world: World) -> None:
    body = json.dumps({"request": {"principal": f"arn:aws:iam::{ACCOUNT}:user/alice", "action": "notes:GetNote",
                                   "resource": note(1)}}).encode()
    status, error = http("POST", world.ep.url + "/authorize", body, {"Content-Type": "application/json"})
    assert status == 403 and error["__type"] == "MissingAuthenticationTokenException"
    key = world.keys["notes-app"]
    status, error = authorize(world.ep, (key[0], "not-the-secret"), {"request": {}})
    assert status == 403 and error["__type"] == "InvalidSignatureException"
    status, error = http("POST", world.ep.url + "/authorize/batch", body, {"Content-Type": "application/json"})
    assert status == 403 and error["__type"] == "MissingAuthenticationTokenException"


def test_the_application_needs_gatehouse_authorize_on_the_resource(world: World) -> None:
    status, error = ask(world, f"arn:aws:iam::{ACCOUNT}:user/alice", as_="bob")
    assert status == 403 and error["__type"] == "AccessDeniedException"
    assert "gatehouse:Authorize" in error["message"]
    # Another account's resource is never the application's to decide.
    status, error = ask(world, f"arn:aws:iam::{ACCOUNT}:user/alice", resource=note(1, OTHER))
    assert status == 403 and error["__type"] == "AccessDeniedException"


def test_principal_by_arn_with_and_without_a_matching_policy(world: World) -> None:
    status, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/alice", resource=note(2))
    assert status == 200, line
    assert line["decision"] == "Allow" and line["principal"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert line["matched"] == [{"policy": "user/alice/p", "sid": None, "statement": 0}]
    status, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/bob", resource=note(2))
    assert status == 200 and line["decision"] == "ImplicitDeny" and line["matched"] == []
    assert line["reason"] == (f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: notes:GetNote "
                              f"on resource: {note(2)} because no identity-based policy allows the notes:GetNote "
                              "action")


def test_same_account_resource_policy_grants_alone_and_its_deny_wins(world: World) -> None:
    status, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/erin")
    assert status == 200 and line["decision"] == "Allow"
    assert line["matched"] == [{"policy": "resource", "sid": "Readers", "statement": 0}]
    _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/erin", resource=note(2))
    assert line["decision"] == "ImplicitDeny"
    _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:root", action="notes:DeleteNote")
    assert line["decision"] == "ExplicitDeny"
    assert line["matched"] == [{"policy": "resource", "sid": "NoDeletes", "statement": 1}]
    assert "with an explicit deny in a resource-based policy" in line["reason"]


def test_cross_account_needs_both_identity_and_resource_policy(world: World) -> None:
    carol, dave = world.keys["carol"], world.keys["dave"]
    url = f"{NOTES}/notes/1"
    status, line = ask(world, forwarded("GET", url, carol))
    assert status == 200 and line["decision"] == "Allow", line
    assert line["principal"] == f"arn:aws:iam::{OTHER}:user/carol"
    assert {m["policy"] for m in line["matched"]} == {"resource", "user/carol/p"}
    _, line = ask(world, forwarded("GET", url, dave))
    assert line["decision"] == "ImplicitDeny"
    assert "because no identity-based policy allows the notes:GetNote action" in line["reason"]
    # Note 2 has no resource policy: carol's identity policy alone does not reach another account's resource.
    _, line = ask(world, forwarded("GET", f"{NOTES}/notes/2", carol), resource=note(2))
    assert line["decision"] == "ImplicitDeny"
    assert "because no resource-based policy allows the notes:GetNote action" in line["reason"]
    # Another account's principal must prove itself: an ARN alone is refused.
    status, error = ask(world, f"arn:aws:iam::{OTHER}:user/carol")
    assert status == 403 and error["__type"] == "AccessDeniedException"


def test_forwarded_requests_are_authenticated(world: World) -> None:
    alice = world.keys["alice"]
    request = forwarded("GET", f"{NOTES}/notes/1", alice)
    request["headers"]["Authorization"] = request["headers"]["Authorization"][:-4] + "0000"
    status, line = ask(world, request)
    assert status == 200 and line["code"] == "InvalidSignatureException" and "decision" not in line
    request = forwarded("GET", f"{NOTES}/notes/1", (alice[0], "wrong"))
    _, line = ask(world, request)
    assert line["code"] == "InvalidSignatureException"
    request = forwarded("GET", f"{NOTES}/notes/1", ("AKIAUNKNOWNKEY000000", "x"))
    _, line = ask(world, request)
    assert line["code"] == "UnrecognizedClientException"
    # A request signed for Gatehouse itself is not the application's to forward.
    _, line = ask(world, forwarded("POST", world.ep.url + "/", alice, b"Action=ListUsers", service="iam"))
    assert line["code"] == "AccessDeniedException"
    # A signature for one service is not spent on another's actions.
    _, line = ask(world, forwarded("GET", f"{NOTES}/notes/1", alice, service="billing"))
    assert line["code"] == "InvalidSignatureException" and "correct service: 'notes'" in line["error"]
    # The body is part of what was signed.
    request = forwarded("PUT", f"{NOTES}/notes/1", alice, b"hello")
    assert ask(world, request)[1]["decision"] == "Allow"
    request["body"] = "hellO"
    assert ask(world, request)[1]["code"] == "InvalidSignatureException"


def test_session_policies_of_a_forwarded_session_apply(world: World) -> None:
    iam = world.ep.client("iam")
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                 "Principal": {"AWS": alice}}]})
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=allow("notes:GetNote", note("*")))
    sts = world.ep.client("sts", *world.keys["alice"])
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="s1",
                            Policy=allow("notes:GetNote", note(2)))["Credentials"]
    key = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    _, line = ask(world, forwarded("GET", f"{NOTES}/notes/2", key), resource=note(2))
    assert line["decision"] == "Allow" and line["principal"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"
    _, line = ask(world, forwarded("GET", f"{NOTES}/notes/3", key), resource=note(3))
    assert line["decision"] == "ImplicitDeny" and "session policy" in line["reason"]
    # The assumed-role ARN alone is decided with the role's policies (no session policy is known without it).
    _, line = ask(world, f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1", resource=note(3))
    assert line["decision"] == "Allow" and line["principal"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"
    _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:role/reader", resource=note(3))
    assert line["decision"] == "Allow" and line["matched"] == [{"policy": "role/reader/p", "sid": None,
                                                                "statement": 0}]
    status, error = ask(world, f"arn:aws:sts::{ACCOUNT}:assumed-role/nobody/s1", resource=note(3))
    assert status == 404 and error["__type"] == "ResourceNotFoundException"


def test_principal_arns_resolve_as_iam_resolves_names(world: World) -> None:
    iam = world.ep.client("iam")
    iam.create_user(UserName="Grace", Path="/team/")
    iam.put_user_policy(UserName="Grace", PolicyName="p", PolicyDocument=allow("notes:GetNote", note("*")))
    _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/team/grace", resource=note(2))
    assert line["decision"] == "Allow" and line["principal"] == f"arn:aws:iam::{ACCOUNT}:user/team/Grace"
    status, error = ask(world, f"arn:aws:iam::{ACCOUNT}:user/Grace", resource=note(2))  # the path must match
    assert status == 404 and error["__type"] == "ResourceNotFoundException"
    status, error = ask(world, "not-an-arn", resource=note(2))
    assert status == 403 and error["__type"] == "AccessDeniedException"


def test_policies_are_looked_up_never_supplied(world: World) -> None:
    status, error = authorize(world.ep, world.keys["notes-app"], {
        "request": {"principal": f"arn:aws:iam::{ACCOUNT}:user/bob", "action": "notes:GetNote",
                    "resource": note(1)}, "policies": {"identity": [json.loads(allow("*", "*"))]}})
    assert status == 400 and "never supplied" in error["message"]
    status, error = ask(world, f"arn:aws:iam::{ACCOUNT}:user/bob", policies={"identity": []})
    assert status == 400 and "never supplied" in error["message"]
    status, error = ask(world, f"arn:aws:iam::{ACCOUNT}:user/bob", context={"aws:PrincipalTag/team": "blue"})
    assert status == 400 and "derives this key" in error["message"]


def test_context_keys_reach_the_conditions(world: World) -> None:
    iam = world.ep.client("iam")
    iam.put_user_policy(UserName="bob", PolicyName="office", PolicyDocument=allow(
        "notes:GetNote", note("*"), Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                                               "StringEquals": {"aws:ResourceTag/team": "blue"}}))
    try:
        _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/bob", context={"aws:SourceIp": "203.0.113.7"})
        assert line["decision"] == "Allow", line
        _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/bob", context={"aws:SourceIp": "198.51.100.1"})
        assert line["decision"] == "ImplicitDeny"
        _, line = ask(world, f"arn:aws:iam::{ACCOUNT}:user/bob", resource=note(2),
                           context={"aws:SourceIp": "203.0.113.7"})
        assert line["decision"] == "ImplicitDeny"  # note 2 has no team tag
    finally:
        iam.delete_user_policy(UserName="bob", PolicyName="office")


def test_batch_answers_a_list_in_order(world: World) -> None:
    requests = [
        {"id": "a", "principal": f"arn:aws:iam::{ACCOUNT}:user/alice", "action": "notes:GetNote",
         "resource": note(2)},
        {"principal": f"arn:aws:iam::{ACCOUNT}:user/bob", "action": "notes:GetNote", "resource": note(2)},
        {"id": "bad", "principal": f"arn:aws:iam::{ACCOUNT}:user/bob", "action": "no-colon"},
        {"id": "other", "principal": f"arn:aws:iam::{ACCOUNT}:user/alice", "action": "notes:GetNote",
         "resource": note(1, OTHER)},
    ]
    status, lines = authorize(world.ep, world.keys["notes-app"], {"requests": requests}, "/authorize/batch")
    assert status == 200 and isinstance(lines, list)
    assert [(x["id"], x.get("decision"), x.get("code")) for x in lines] == [
        ("a", "Allow", None), (1, "ImplicitDeny", None), ("bad", None, "InvalidParameterException"),
        ("other", None, "AccessDeniedException")]
    status, error = authorize(world.ep, world.keys["notes-app"], {"requests": requests * 26}, "/authorize/batch")
    assert status == 400 and "at most 100" in error["message"]


def test_calls_are_in_the_audit_trail(world: World) -> None:
    ask(world, f"arn:aws:iam::{ACCOUNT}:user/alice", resource=note(2))
    ask(world, f"arn:aws:iam::{ACCOUNT}:user/alice", as_="bob")
    trail = world.ep.client("cloudtrail")
    deadline = time.monotonic() + 10
    while True:
        events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                                        "AttributeValue": "Authorize"}])["Events"]
        records = [json.loads(e["CloudTrailEvent"]) for e in events]
        users = {r["userIdentity"].get("userName") for r in records}
        if {"notes-app", "bob"} <= users or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert {"notes-app", "bob"} <= users
    served = next(r for r in records if r["userIdentity"].get("userName") == "notes-app" and "errorCode" not in r)
    assert served["eventSource"] == "gatehouse.amazonaws.com"
    assert served["requestParameters"]["request"]["action"] == "notes:GetNote"
    assert served["responseElements"]["decision"] in ("Allow", "ImplicitDeny", "ExplicitDeny")
    refused = next(r for r in records if r["userIdentity"].get("userName") == "bob")
    assert refused["errorCode"] == "AccessDeniedException"


def test_openapi_description_is_served(world: World) -> None:
    status, document = http("GET", world.ep.url + "/authorize/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1")
    assert {"/authorize", "/authorize/batch"} <= set(document["paths"])


def test_answers_follow_every_change_at_once(world: World) -> None:
    """Registered resources and named principals are kept by account revision: a change is seen by the next call."""
    registry, iam = gatehouse_client(world.ep), world.ep.client("iam")
    erin = f"arn:aws:iam::{ACCOUNT}:user/erin"
    assert ask(world, erin, resource=note(2))[1]["decision"] == "ImplicitDeny"
    grant = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": erin},
                                                                 "Action": "notes:GetNote", "Resource": note(2)}]})
    registry.put_resource_policy(ResourceArn=note(2), Policy=grant)
    try:
        assert ask(world, erin, resource=note(2))[1]["decision"] == "Allow"
    finally:
        registry.delete_resource_policy(ResourceArn=note(2))
    assert ask(world, erin, resource=note(2))[1]["decision"] == "ImplicitDeny"
    iam.create_user(UserName="temp")
    assert ask(world, f"arn:aws:iam::{ACCOUNT}:user/temp", resource=note(2))[1]["decision"] == "ImplicitDeny"
    iam.delete_user(UserName="temp")
    status, error = ask(world, f"arn:aws:iam::{ACCOUNT}:user/temp", resource=note(2))
    assert status == 404 and error["__type"] == "ResourceNotFoundException"


def test_the_documented_description_is_the_served_one() -> None:
    from pathlib import Path

    from gatehouse.wire.authorize_http import OPENAPI

    docs = Path(__file__).resolve().parents[2] / "docs" / "authorize.openapi.json"
    assert docs.read_text() == OPENAPI.read_text(), "copy src/gatehouse/wire/authorize.openapi.json to docs/"


def test_a_permissions_boundary_limits_the_answer(world: World) -> None:
    iam = world.ep.client("iam")
    boundary = iam.create_policy(PolicyName="notes-writers", PolicyDocument=allow("notes:PutNote", "*"))["Policy"]
    iam.create_user(UserName="frank", PermissionsBoundary=boundary["Arn"])
    iam.put_user_policy(UserName="frank", PolicyName="p", PolicyDocument=allow("notes:*", "*"))
    frank = f"arn:aws:iam::{ACCOUNT}:user/frank"
    assert ask(world, frank, action="notes:PutNote", resource=note(2))[1]["decision"] == "Allow"
    _, line = ask(world, frank, resource=note(2))
    assert line["decision"] == "ImplicitDeny" and "permissions boundary" in line["reason"]


def test_hostile_bodies_are_client_errors(world: World) -> None:
    app = world.keys["notes-app"]
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    for document in ({"request": {"principal": alice + "\u0000", "action": "notes:GetNote"}},
                     {"request": {"principal": alice, "action": "notes:GetNote", "resource": note("\ud800")}},
                     {"request": "x"}, {"request": {"principal": alice, "action": "notes:GetNote",
                                                     "context": {"notes:x": {"nested": 1}}}}):
        status, error = authorize(world.ep, app, document)
        assert status == 400, (document, status, error)
    signed = forwarded("GET", f"{NOTES}/notes/1", world.keys["alice"])
    for change in ({"headers": {**signed["headers"], "X-Euro": "€"}}, {"url": "http://[::1/notes/1"},
                   {"method": "G T"}, {"headers": {f"x-{n}": "1" for n in range(201)}}):
        status, line = authorize(world.ep, app, {"request": {"signed_request": {**signed, **change},
                                                             "action": "notes:GetNote", "resource": note(1)}})
        assert status == 400 and line["__type"] == "InvalidParameterException", (change, line)
    body = b"[" * 100_000
    url = world.ep.url + "/authorize"
    status, error = http("POST", url, body, signed_headers("POST", url, body, app, "gatehouse"))
    assert status == 400 and error["__type"] == "SerializationException"
