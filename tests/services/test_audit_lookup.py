"""LookupEvents in process: each lookup attribute, the time window, paging by NextToken, the account boundary,
AWS's errors for bad input, and `cloudtrail:LookupEvents` authorized like any IAM action."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest

from gatehouse.errors import AccessDenied
from gatehouse.model import Account, Caller, InlinePolicy, OwnerKind, PrincipalKind, RequestMeta, User
from gatehouse.services.audit.calls import ApiCall
from gatehouse.services.audit.lookup import (
    CloudTrailLookup,
    InvalidLookupAttributesException,
    InvalidMaxResultsException,
    InvalidNextTokenException,
    InvalidTimeRangeException,
)
from gatehouse.services.audit.trail import AuditTrail, TrailTiming
from gatehouse.services.authorization import Authorizer
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.storage.sql.store import SqlStore

ACCOUNT, OTHER = "123456789012", "210987654321"
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
META = RequestMeta(request_id="r")


def user_caller(name: str, account: str = ACCOUNT) -> Caller:
    return Caller(account_id=account, kind=PrincipalKind.USER, arn=f"arn:aws:iam::{account}:user/{name}",
                  user_id=f"AIDA{name.upper()}", name=name, access_key_id=f"AKIA{name.upper()}", request=META,
                  principal_id=f"AIDA{name.upper()}")


ROOT = Caller(account_id=ACCOUNT, kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{ACCOUNT}:root", user_id=ACCOUNT,
              name="root", access_key_id="AKIAROOT", request=META)


def call(who: Caller, op: str, minutes: int, *, read_only: bool, user: str) -> ApiCall:
    return ApiCall(event_id=str(uuid.uuid4()), request_id="r", time=T0 + dt.timedelta(minutes=minutes),
                   service="iam", operation=op, region="us-east-1", source_ip="127.0.0.1", user_agent="ua",
                   caller=who, account_id=who.account_id, access_key_id=who.access_key_id, read_only=read_only,
                   request_parameters={"userName": user}, response_elements={} if not read_only else None)


@pytest.fixture
def world() -> Iterator[tuple[SqlStore, CloudTrailLookup]]:
    store = SqlStore("sqlite://")
    for account in (ACCOUNT, OTHER):
        store.create_account(Account(account_id=account, created=T0))
    with store.write(ACCOUNT) as tx:
        for name in ("alice", "eve"):
            tx.users.insert(User(account_id=ACCOUNT, user_id=f"AIDA{name.upper()}", name=name, path="/",
                                 created=T0))
        tx.inline.put(InlinePolicy(OwnerKind.USER, "AIDAALICE", "trail", json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudtrail:LookupEvents",
                                                    "Resource": "*"}]})))
    trail = AuditTrail(store.audit, timing=TrailTiming(retention_days=0))  # events of March: keep them
    alice = user_caller("alice")
    trail.record(call(alice, "CreateUser", 0, read_only=False, user="bob"))
    trail.record(call(alice, "GetUser", 10, read_only=True, user="bob"))
    trail.record(call(ROOT, "CreateUser", 20, read_only=False, user="carol"))
    trail.record(call(user_caller("zed", OTHER), "CreateUser", 30, read_only=False, user="bob"))
    trail.close()
    yield store, CloudTrailLookup(store.audit, store, Authorizer(AwsManagedPolicies()))
    store.close()


def test_a_lookup_sees_what_this_process_queued() -> None:
    store = SqlStore("sqlite://")
    store.create_account(Account(account_id=ACCOUNT, created=T0))
    trail = AuditTrail(store.audit, timing=TrailTiming(retention_days=0))  # events of March: keep them
    lookup = CloudTrailLookup(store.audit, store, Authorizer(AwsManagedPolicies()), flush=trail.flush)
    trail.record(call(ROOT, "GetUser", 0, read_only=True, user="bob"))
    assert [e["EventName"] for e in lookup.lookup_events(ROOT)["Events"]] == ["GetUser"]
    trail.close()
    store.close()


def names(result: dict) -> list[tuple[str, str]]:
    return [(e["EventName"], json.loads(e["CloudTrailEvent"])["requestParameters"]["userName"])
            for e in result["Events"]]


def attr(key: str, value: str) -> list[dict[str, str]]:
    return [{"AttributeKey": key, "AttributeValue": value}]


def test_every_event_of_the_account_newest_first(world: tuple[SqlStore, CloudTrailLookup]) -> None:
    _, lookup = world
    got = lookup.lookup_events(ROOT)
    assert names(got) == [("CreateUser", "carol"), ("GetUser", "bob"), ("CreateUser", "bob")]
    first = got["Events"][2]
    assert first["Username"] == "alice" and first["AccessKeyId"] == "AKIAALICE" and first["ReadOnly"] == "false"
    assert first["Resources"] == [{"ResourceType": "AWS::IAM::User", "ResourceName": "bob"}]
    assert got["Events"][0]["Username"] == "root"


def test_each_lookup_attribute(world: tuple[SqlStore, CloudTrailLookup]) -> None:
    _, lookup = world
    everything = lookup.lookup_events(ROOT)["Events"]
    first_id = everything[2]["EventId"]
    cases = {("EventId", first_id): 1, ("EventName", "CreateUser"): 2, ("ReadOnly", "true"): 1,
             ("ReadOnly", "false"): 2, ("Username", "alice"): 2, ("ResourceType", "AWS::IAM::User"): 3,
             ("ResourceName", "carol"): 1, ("EventSource", "iam.amazonaws.com"): 3, ("AccessKeyId", "AKIAALICE"): 2,
             ("Username", "zed"): 0}
    for (key, value), count in cases.items():
        assert len(lookup.lookup_events(ROOT, lookup_attributes=attr(key, value))["Events"]) == count, (key, value)


def test_time_window_and_paging(world: tuple[SqlStore, CloudTrailLookup]) -> None:
    _, lookup = world
    got = lookup.lookup_events(ROOT, start_time=T0 + dt.timedelta(minutes=5), end_time=T0 + dt.timedelta(minutes=15))
    assert names(got) == [("GetUser", "bob")]
    seen, token, pages = [], None, 0
    while True:
        page = lookup.lookup_events(ROOT, max_results=1, next_token=token)
        pages += 1
        seen += names(page)
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and seen == names(lookup.lookup_events(ROOT))


def test_bad_input_is_refused_as_cloudtrail_refuses_it(world: tuple[SqlStore, CloudTrailLookup]) -> None:
    _, lookup = world
    with pytest.raises(InvalidLookupAttributesException):
        lookup.lookup_events(ROOT, lookup_attributes=attr("EventName", "a") + attr("Username", "b"))
    with pytest.raises(InvalidLookupAttributesException):
        lookup.lookup_events(ROOT, lookup_attributes=attr("Colour", "blue"))
    with pytest.raises(InvalidMaxResultsException):
        lookup.lookup_events(ROOT, max_results=51)
    with pytest.raises(InvalidTimeRangeException):
        lookup.lookup_events(ROOT, start_time=T0, end_time=T0 - dt.timedelta(seconds=1))
    with pytest.raises(InvalidNextTokenException):
        lookup.lookup_events(ROOT, next_token="not-a-token")
    token = lookup.lookup_events(ROOT, max_results=1)["NextToken"]
    with pytest.raises(InvalidNextTokenException):  # a token of another query
        lookup.lookup_events(ROOT, max_results=1, next_token=token, lookup_attributes=attr("EventName", "GetUser"))


def test_authorized_by_cloudtrail_lookup_events(world: tuple[SqlStore, CloudTrailLookup]) -> None:
    _, lookup = world
    assert len(lookup.lookup_events(user_caller("alice"))["Events"]) == 3
    with pytest.raises(AccessDenied):
        lookup.lookup_events(user_caller("eve"))


# --- service last accessed, from the same trail -------------------------------------------------------------


def test_service_last_accessed_details(world: tuple[SqlStore, CloudTrailLookup]) -> None:
    from gatehouse.errors import NoSuchEntity
    from gatehouse.services.audit.last_accessed import ServiceLastAccessed
    from gatehouse.services.iam.common import IamDeps
    from gatehouse.services.iam.documents import PolicyDocuments
    from gatehouse.services.secretbox import SecretBox

    store, _ = world
    managed = AwsManagedPolicies()
    deps = IamDeps(store=store, authz=Authorizer(managed), box=SecretBox(b"k" * 32), documents=PolicyDocuments(),
                   managed=managed, clock=lambda: T0)
    jobs = ServiceLastAccessed(deps, store.audit)
    arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    job = jobs.generate_service_last_accessed_details(ROOT, arn=arn, granularity="ACTION_LEVEL")["JobId"]
    got = jobs.get_service_last_accessed_details(ROOT, job_id=job)
    assert got["JobStatus"] == "COMPLETED" and got["JobType"] == "ACTION_LEVEL"
    [iam] = got["ServicesLastAccessed"]
    assert iam["ServiceNamespace"] == "iam" and iam["LastAuthenticated"] == T0 + dt.timedelta(minutes=10)
    assert {a["ActionName"]: a["LastAccessedTime"] for a in iam["TrackedActionsLastAccessed"]} == {
        "CreateUser": T0, "GetUser": T0 + dt.timedelta(minutes=10)}
    job = jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:user/eve")["JobId"]
    assert jobs.get_service_last_accessed_details(ROOT, job_id=job)["ServicesLastAccessed"] == []
    with pytest.raises(NoSuchEntity):
        jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:user/nobody")
    with pytest.raises(AccessDenied):
        jobs.generate_service_last_accessed_details(user_caller("eve"), arn=arn)
