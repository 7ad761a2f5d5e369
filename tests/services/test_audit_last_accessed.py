"""Service last accessed data in process: a user, a role, a group (its members) and a managed policy (the users and
roles it is attached to, directly or through a group) as targets, GetServiceLastAccessedDetailsWithEntities, and
authorization as the entity found."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest

from gatehouse.errors import AccessDenied, InvalidInput, NoSuchEntity
from gatehouse.model import (
    Account,
    Caller,
    Group,
    InlinePolicy,
    ManagedPolicy,
    OwnerKind,
    PolicyVersion,
    PrincipalKind,
    RequestMeta,
    Role,
    SessionInfo,
    SessionKind,
    User,
)
from gatehouse.services.audit.calls import ApiCall
from gatehouse.services.audit.last_accessed import ServiceLastAccessed
from gatehouse.services.audit.trail import AuditTrail, TrailTiming
from gatehouse.services.authorization import Authorizer
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.common import IamDeps
from gatehouse.services.iam.documents import PolicyDocuments
from gatehouse.services.secretbox import SecretBox
from gatehouse.storage.sql.store import SqlStore

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
META = RequestMeta(request_id="r")
ROOT = Caller(account_id=ACCOUNT, kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{ACCOUNT}:root", user_id=ACCOUNT,
              name="root", access_key_id="AKIAROOT", request=META)
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/shared"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})


def user(name: str) -> Caller:
    return Caller(account_id=ACCOUNT, kind=PrincipalKind.USER, arn=f"arn:aws:iam::{ACCOUNT}:user/{name}",
                  user_id=f"AIDA{name.upper()}", name=name, access_key_id=f"AKIA{name.upper()}", request=META,
                  principal_id=f"AIDA{name.upper()}")


def role_session(role: str) -> Caller:
    session = SessionInfo(kind=SessionKind.ASSUMED_ROLE, issued=T0, expires=T0 + dt.timedelta(hours=1),
                          role_name=role, session_name="s")
    return Caller(account_id=ACCOUNT, kind=PrincipalKind.ASSUMED_ROLE,
                  arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/s", user_id=f"AROA{role.upper()}:s", name="s",
                  access_key_id="ASIAROLE", request=META, principal_id=f"AROA{role.upper()}", session=session)


def call(who: Caller, service: str, op: str, minutes: int) -> ApiCall:
    return ApiCall(event_id=str(uuid.uuid4()), request_id="r", time=T0 + dt.timedelta(minutes=minutes),
                   service=service, operation=op, region="us-east-1", source_ip="127.0.0.1", user_agent="ua",
                   caller=who, account_id=ACCOUNT, access_key_id=who.access_key_id, read_only=True,
                   request_parameters=None, response_elements=None)


@pytest.fixture
def jobs() -> Iterator[ServiceLastAccessed]:
    """alice and bob in group devs (carol in none); role ops; policy shared attached to devs and ops."""
    store = SqlStore("sqlite://")
    store.create_account(Account(account_id=ACCOUNT, created=T0))
    with store.write(ACCOUNT) as tx:
        for name in ("alice", "bob", "carol"):
            tx.users.insert(User(account_id=ACCOUNT, user_id=f"AIDA{name.upper()}", name=name, path="/", created=T0))
        tx.groups.insert(Group(account_id=ACCOUNT, group_id="AGPADEVS", name="devs", path="/", created=T0))
        tx.groups.add_member("AGPADEVS", "AIDAALICE")
        tx.groups.add_member("AGPADEVS", "AIDABOB")
        tx.roles.insert(Role(account_id=ACCOUNT, role_id="AROAOPS", name="ops", path="/team/", created=T0,
                             trust_policy=TRUST))
        document = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]})
        tx.policies.insert(ManagedPolicy(account_id=ACCOUNT, policy_id="ANPASHARED", name="shared", path="/",
                                         default_version_id="v1", created=T0, updated=T0),
                           PolicyVersion(version_id="v1", document=document, is_default=True, created=T0))
        tx.attachments.attach(OwnerKind.GROUP, "AGPADEVS", ACCOUNT, "ANPASHARED")
        tx.attachments.attach(OwnerKind.ROLE, "AROAOPS", ACCOUNT, "ANPASHARED")
        tx.inline.put(InlinePolicy(OwnerKind.USER, "AIDACAROL", "reports", json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["iam:GenerateServiceLastAccessedDetails",
                                               "iam:GetServiceLastAccessedDetailsWithEntities"],
                 "Resource": [f"arn:aws:iam::{ACCOUNT}:group/devs", "*"]},
                {"Effect": "Deny", "Action": "iam:GenerateServiceLastAccessedDetails",
                 "Resource": f"arn:aws:iam::{ACCOUNT}:role/team/ops"}]})))
    trail = AuditTrail(store.audit, timing=TrailTiming(retention_days=0))  # events of March: keep them
    trail.record(call(user("alice"), "iam", "GetUser", 0))
    trail.record(call(user("bob"), "iam", "ListUsers", 10))
    trail.record(call(user("bob"), "sts", "GetCallerIdentity", 12))
    trail.record(call(role_session("ops"), "iam", "GetRole", 20))
    trail.record(call(user("carol"), "iam", "ListRoles", 30))  # in no group the policy reaches
    trail.close()
    managed = AwsManagedPolicies()
    deps = IamDeps(store=store, authz=Authorizer(managed), box=SecretBox(b"k" * 32), documents=PolicyDocuments(),
                   managed=managed, clock=lambda: T0 + dt.timedelta(hours=1))
    yield ServiceLastAccessed(deps, store.audit)
    store.close()


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def entities(jobs: ServiceLastAccessed, job: str, namespace: str, **page: object) -> list[tuple[str, object]]:
    got = jobs.get_service_last_accessed_details_with_entities(ROOT, job_id=job, service_namespace=namespace,
                                                               **page)  # type: ignore[arg-type]
    assert got["JobStatus"] == "COMPLETED"
    return [(d["EntityInfo"]["Name"], d.get("LastAuthenticated")) for d in got["EntityDetailsList"]]


def test_a_group_reports_its_members(jobs: ServiceLastAccessed) -> None:
    job = jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:group/devs",
                                                      granularity="ACTION_LEVEL")["JobId"]
    got = jobs.get_service_last_accessed_details(ROOT, job_id=job)["ServicesLastAccessed"]
    iam, sts = got
    assert (iam["ServiceNamespace"], iam["LastAuthenticated"], iam["TotalAuthenticatedEntities"]) == ("iam", at(10), 2)
    assert iam["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/bob"
    assert [a["ActionName"] for a in iam["TrackedActionsLastAccessed"]] == ["GetUser", "ListUsers"]
    assert (sts["ServiceNamespace"], sts["TotalAuthenticatedEntities"]) == ("sts", 1)
    assert entities(jobs, job, "iam") == [("bob", at(10)), ("alice", at(0))]
    assert entities(jobs, job, "sts") == [("bob", at(12)), ("alice", None)]  # could have, did not
    assert entities(jobs, job, "s3") == []


def test_a_policy_reports_the_users_and_roles_it_reaches(jobs: ServiceLastAccessed) -> None:
    job = jobs.generate_service_last_accessed_details(ROOT, arn=POLICY_ARN)["JobId"]
    [iam, sts] = jobs.get_service_last_accessed_details(ROOT, job_id=job)["ServicesLastAccessed"]
    assert (iam["LastAuthenticated"], iam["TotalAuthenticatedEntities"]) == (at(20), 3)
    assert iam["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:role/team/ops"
    assert "TrackedActionsLastAccessed" not in iam and sts["TotalAuthenticatedEntities"] == 1
    assert entities(jobs, job, "iam") == [("ops", at(20)), ("bob", at(10)), ("alice", at(0))]
    got = jobs.get_service_last_accessed_details_with_entities(ROOT, job_id=job, service_namespace="iam")
    info = got["EntityDetailsList"][0]["EntityInfo"]
    assert info == {"Arn": f"arn:aws:iam::{ACCOUNT}:role/team/ops", "Name": "ops", "Type": "ROLE", "Id": "AROAOPS",
                    "Path": "/team/"}
    first = jobs.get_service_last_accessed_details_with_entities(ROOT, job_id=job, service_namespace="iam",
                                                                 max_items=2)
    assert first["IsTruncated"] and len(first["EntityDetailsList"]) == 2
    rest = jobs.get_service_last_accessed_details_with_entities(ROOT, job_id=job, service_namespace="iam",
                                                                max_items=2, marker=first["Marker"])
    assert [d["EntityInfo"]["Name"] for d in rest["EntityDetailsList"]] == ["alice"] and not rest["IsTruncated"]


def test_a_role_and_a_user(jobs: ServiceLastAccessed) -> None:
    job = jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:role/team/ops")["JobId"]
    [iam] = jobs.get_service_last_accessed_details(ROOT, job_id=job)["ServicesLastAccessed"]
    assert (iam["LastAuthenticated"], iam["TotalAuthenticatedEntities"]) == (at(20), 1)
    assert entities(jobs, job, "iam") == [("ops", at(20))]
    job = jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:user/carol")["JobId"]
    assert entities(jobs, job, "iam") == [("carol", at(30))]


def test_bad_targets_and_jobs(jobs: ServiceLastAccessed) -> None:
    with pytest.raises(NoSuchEntity):
        jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:group/nobody")
    with pytest.raises(NoSuchEntity):
        jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:policy/nothing")
    with pytest.raises(InvalidInput):
        jobs.generate_service_last_accessed_details(ROOT, arn=f"arn:aws:iam::{ACCOUNT}:instance-profile/x")
    with pytest.raises(NoSuchEntity):
        jobs.get_service_last_accessed_details_with_entities(ROOT, job_id=str(uuid.uuid4()), service_namespace="iam")


def test_authorized_as_the_entity_found(jobs: ServiceLastAccessed) -> None:
    carol = user("carol")
    job = jobs.generate_service_last_accessed_details(carol, arn=f"arn:aws:iam::{ACCOUNT}:group/devs")["JobId"]
    assert jobs.get_service_last_accessed_details_with_entities(carol, job_id=job, service_namespace="iam")
    with pytest.raises(AccessDenied):  # denied on the role's own ARN (its path included)
        jobs.generate_service_last_accessed_details(carol, arn=f"arn:aws:iam::{ACCOUNT}:role/ops")
    with pytest.raises(AccessDenied):  # refused before the missing group is reported
        jobs.generate_service_last_accessed_details(user("alice"), arn=f"arn:aws:iam::{ACCOUNT}:group/nobody")
    with pytest.raises(AccessDenied):  # alice's group policy allows iam:Get*; carol's none of the other Gets
        jobs.get_service_last_accessed_details(carol, job_id=job)
