"""Authorization invariants as hypothesis properties, checked through the server (in process) against the pure
engine: for random identity policies and requests, what the server lets a user do equals what
`gatehouse.policy` decides for the same request context; adding a Deny never adds access; removing an Allow never
adds access; a principal whose policies grant nothing of IAM or STS can do nothing there but what AWS lets every
principal do (sts:GetCallerIdentity, and sts:GetSessionToken, which AWS documents as needing no permission).

Complements tests/policy/test_policy_properties.py (the engine alone) and tests/security/test_authorization_matrix.py
(every routed operation, refused to principals without policies). Examples are few for CI (`PROPERTY_EXAMPLES`,
default 30); the longer documented setting is `GATEHOUSE_PROPERTY_EXAMPLES=1000`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.policy._support import ctx, decide
from tests.security.support import ACCOUNT, Keys, call, ok, user_with_key
from tests.security.world import World, params_for, populated

PROPERTY_EXAMPLES = int(os.environ.get("GATEHOUSE_PROPERTY_EXAMPLES", "30"))
PROPERTY = settings(max_examples=PROPERTY_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SUBJECT = "subject"
ARN = f"arn:aws:iam::{ACCOUNT}"

# Read-only probes (nothing a probe does changes what the next one sees): the call, and the action and resource
# the server authorizes for it (the entity found, or the path-prefix ARN of a list).
PROBES: dict[str, tuple[str, dict[str, str], str, str]] = {
    "ListUsers": ("iam", {}, "iam:ListUsers", f"{ARN}:user/"),
    "GetUser(victim)": ("iam", {"UserName": "victim"}, "iam:GetUser", f"{ARN}:user/victim"),
    "GetUser(self)": ("iam", {"UserName": SUBJECT}, "iam:GetUser", f"{ARN}:user/{SUBJECT}"),
    "ListUserTags(victim)": ("iam", {"UserName": "victim"}, "iam:ListUserTags", f"{ARN}:user/victim"),
    "ListRoles": ("iam", {}, "iam:ListRoles", f"{ARN}:role/"),
    "GetRole(r)": ("iam", {"RoleName": "r"}, "iam:GetRole", f"{ARN}:role/r"),
    "ListGroups": ("iam", {}, "iam:ListGroups", f"{ARN}:group/"),
    "GetGroup(g)": ("iam", {"GroupName": "g"}, "iam:GetGroup", f"{ARN}:group/g"),
}

ACTIONS = st.sampled_from(["*", "iam:*", "iam:List*", "iam:Get*", "iam:ListUsers", "iam:GetUser", "iam:*User*",
                           "iam:?etRole", "iam:listusers", "iam:Get*Group*", "s3:*", "sts:*", "iam:ListUser?"])
RESOURCES = st.sampled_from(["*", f"{ARN}:user/*", f"{ARN}:user/victim", f"{ARN}:role/*", f"{ARN}:*",
                             f"{ARN}:user/${{aws:username}}", "arn:aws:iam::210987654321:user/*", f"{ARN}:group/g",
                             f"{ARN}:user/", "arn:aws:s3:::*", f"{ARN}:role/r*"])
CONDITIONS = st.sampled_from([
    None,
    {"StringEquals": {"aws:username": SUBJECT}}, {"StringEquals": {"aws:username": "someone-else"}},
    {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
    {"Bool": {"aws:SecureTransport": "true"}}, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}, {"StringLike": {"aws:PrincipalArn": f"{ARN}:user/s*"}},
    {"Null": {"aws:MultiFactorAuthPresent": "true"}}, {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
])


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    out[draw(st.sampled_from(["Action", "Action", "NotAction"]))] = draw(st.lists(ACTIONS, min_size=1, max_size=3))
    out[draw(st.sampled_from(["Resource", "Resource", "NotResource"]))] = draw(
        st.lists(RESOURCES, min_size=1, max_size=2))
    condition = draw(CONDITIONS)
    if condition:
        out["Condition"] = condition
    return out


def _doc(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": items}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    built = populated()
    yield built
    built.app.close()


@pytest.fixture(scope="module")
def subject(world: World) -> tuple[Keys, str]:
    keys = user_with_key(world.app, SUBJECT)
    user_id = call(world.app, "iam", "GetUser", {"UserName": SUBJECT}).text("UserId")
    return keys, user_id


def _server(world: World, keys: Keys, items: list[dict[str, Any]]) -> dict[str, bool]:
    """What the server lets the subject do with exactly `items` as its one inline policy."""
    if items:
        ok(world.app, "iam", "PutUserPolicy", {"UserName": SUBJECT, "PolicyName": "p",
                                               "PolicyDocument": json.dumps(_doc(items))})
    else:  # IAM refuses an empty Statement list: no policy at all
        call(world.app, "iam", "DeleteUserPolicy", {"UserName": SUBJECT, "PolicyName": "p"})
    out = {}
    for name, (service, params, _, _) in PROBES.items():
        answer = call(world.app, service, name.split("(")[0], params, keys)
        assert answer.status == 200 or answer.code == "AccessDenied", (name, answer.body[:300])
        out[name] = answer.status == 200
    return out


def _engine(items: list[dict[str, Any]], user_id: str) -> dict[str, bool]:
    """The pure engine, on the request context the server builds for the subject's long-term key over HTTP."""
    keys = {"aws:username": SUBJECT, "aws:userid": user_id, "aws:SourceIp": "127.0.0.1",
            "aws:SecureTransport": "false", "aws:RequestedRegion": "us-east-1", "aws:PrincipalAccount": ACCOUNT,
            "aws:PrincipalArn": f"{ARN}:user/{SUBJECT}", "aws:PrincipalType": "User"}
    out = {}
    for name, (_, _, action, resource) in PROBES.items():
        request = ctx(action, resource, principal=f"{ARN}:user/{SUBJECT}", keys=keys, user_id=user_id)
        out[name] = decide([_doc(items)] if items else [], request).allowed
    return out


@PROPERTY
@given(items=st.lists(statements(), min_size=0, max_size=4))
@example(items=[{"Effect": "Allow", "Action": ["iam:List*"], "Resource": ["*"]},
                {"Effect": "Allow", "Action": ["iam:GetUser"], "Resource": [f"{ARN}:user/${{aws:username}}"]}])
@example(items=[{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]},
                {"Effect": "Deny", "NotAction": ["iam:Get*"], "Resource": [f"{ARN}:user/*"],
                 "Condition": {"StringEquals": {"aws:username": SUBJECT}}}])
def test_server_decides_as_the_engine(world: World, subject: tuple[Keys, str], items: list[dict[str, Any]]) -> None:
    keys, user_id = subject
    server = _server(world, keys, items)
    assert server == _engine(items, user_id), items
    if items == [{"Effect": "Allow", "Action": ["iam:List*"], "Resource": ["*"]},
                 {"Effect": "Allow", "Action": ["iam:GetUser"], "Resource": [f"{ARN}:user/${{aws:username}}"]}]:
        assert [p for p, allowed in server.items() if allowed] == [  # the comparison is not vacuous
            "ListUsers", "GetUser(self)", "ListUserTags(victim)", "ListRoles", "ListGroups"]


@PROPERTY
@given(items=st.lists(statements(), min_size=0, max_size=3), extra=statements(effect="Deny"))
def test_adding_a_deny_never_adds_access(world: World, subject: tuple[Keys, str], items: list[dict[str, Any]],
                                         extra: dict[str, Any]) -> None:
    keys, _ = subject
    before, after = _server(world, keys, items), _server(world, keys, [*items, extra])
    assert not [p for p in PROBES if after[p] and not before[p]], (items, extra)


@PROPERTY
@given(items=st.lists(statements(), min_size=1, max_size=4), data=st.data())
def test_removing_an_allow_never_adds_access(world: World, subject: tuple[Keys, str], items: list[dict[str, Any]],
                                             data: st.DataObject) -> None:
    allows = [i for i, s in enumerate(items) if s["Effect"] == "Allow"]
    if not allows:
        return
    drop = data.draw(st.sampled_from(allows))
    keys, _ = subject
    before = _server(world, keys, items)
    after = _server(world, keys, items[:drop] + items[drop + 1:])
    assert not [p for p in PROBES if after[p] and not before[p]], (items, drop)


EVERY_PRINCIPAL = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken")}  # AWS: no permission needed
UNSIGNED = {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}
NOTHING_HERE = st.lists(st.one_of(
    st.builds(lambda a, r: {"Effect": "Allow", "Action": a, "Resource": r},
              st.lists(st.sampled_from(["s3:*", "ec2:Describe*", "sqs:SendMessage", "kms:*", "iam2:*"]), min_size=1,
                       max_size=2), RESOURCES),
    statements(effect="Deny")), min_size=1, max_size=3)


@pytest.fixture(scope="module")
def operations(world: World) -> list[tuple[str, str]]:
    assert world.app.asgi is not None
    router = world.app.asgi.endpoint.router
    return [(s, op) for s in ("iam", "sts") for op in router.operations(s) if op not in UNSIGNED]


@pytest.fixture(scope="module")
def nobody(world: World) -> Keys:
    return user_with_key(world.app, "granted-nothing")


@PROPERTY
@given(items=NOTHING_HERE, data=st.data())
def test_a_principal_granted_nothing_here_can_only_identify_itself(world: World, operations: list[tuple[str, str]],
                                                                   nobody: Keys, items: list[dict[str, Any]],
                                                                   data: st.DataObject) -> None:
    name, keys = "granted-nothing", nobody
    ok(world.app, "iam", "PutUserPolicy", {"UserName": name, "PolicyName": "p",
                                           "PolicyDocument": json.dumps(_doc(items))})
    for service, operation in data.draw(st.lists(st.sampled_from(operations), min_size=8, max_size=8, unique=True)):
        answer = call(world.app, service, operation, params_for(world.app, service, operation, world.values), keys)
        if (service, operation) in EVERY_PRINCIPAL:
            assert answer.status == 200, (operation, answer.body[:300])
        elif answer.code == "ValidationError":  # a required member the world has no value for: AWS checks the
            assert "Member must not be null" in answer.message, answer.body[:300]  # input's shape first, too
        else:
            assert answer.code == "AccessDenied", (operation, items, answer.body[:300])
    assert call(world.app, "sts", "GetCallerIdentity", keys=keys).text("Arn") == f"{ARN}:user/{name}"
