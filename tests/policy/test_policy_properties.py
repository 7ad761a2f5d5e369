"""Invariants of the engine, checked on generated policies and requests (hypothesis)."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse.policy import DecisionKind, parse
from gatehouse.policy.patterns import compile_glob

from ._support import ACCOUNT, ctx, decide, doc

SETTINGS = settings(max_examples=120, deadline=None)

actions = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", "s3:Get*", "sqs:*", "*", "iam:*User*",
                           "s3:?etObject"])
resources = st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:s3:::*/k",
                             "arn:aws:s3:::home/${aws:username}/*", f"arn:aws:sqs:*:{ACCOUNT}:q"])
conditions = st.sampled_from([
    None, {"StringEquals": {"aws:PrincipalTag/team": "dev"}}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "ops"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*"]}}])


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"])),
                           "Action": draw(st.lists(actions, min_size=1, max_size=3))}
    key = draw(st.sampled_from(["Resource", "NotResource"]))
    out[key] = draw(st.lists(resources, min_size=1, max_size=2))
    condition = draw(conditions)
    if condition:
        out["Condition"] = condition
    return out


requests = st.builds(
    lambda action, resource, team, mfa, ip, tags: ctx(action, resource, keys={
        k: v for k, v in {"aws:PrincipalTag/team": team, "aws:MultiFactorAuthPresent": mfa, "aws:SourceIp": ip,
                          "aws:TagKeys": tags}.items() if v is not None}),
    st.sampled_from(["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "iam:CreateUser"]),
    st.sampled_from(["arn:aws:s3:::b/k", "arn:aws:s3:::home/alice/x", "arn:aws:s3:::other/k", "*",
                     f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"]),
    st.sampled_from([None, "dev", "ops"]), st.sampled_from([None, "true", "false"]),
    st.sampled_from([None, "10.1.2.3", "192.0.2.1"]), st.sampled_from([None, [], ["abc"], ["x", "ab"]]))


@SETTINGS
@given(st.lists(statements(), min_size=0, max_size=5), statements(effect="Deny"), requests)
def test_adding_a_deny_never_turns_a_deny_into_an_allow(base: list[Any], extra: dict[str, Any], request: Any) -> None:
    before = decide([doc(*base)] if base else [], request)
    after = decide([doc(*base, extra)], request)
    if not before.allowed:
        assert not after.allowed
    if before.kind is DecisionKind.EXPLICIT_DENY:
        assert after.kind is DecisionKind.EXPLICIT_DENY


@SETTINGS
@given(st.lists(statements(), min_size=1, max_size=6), st.randoms(use_true_random=False), requests)
def test_statement_and_policy_order_never_matters(items: list[Any], rnd: Any, request: Any) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    a = decide([doc(*items)], request)
    b = decide([doc(*shuffled)], request)
    c = decide([doc(s) for s in reversed(items)], request)
    assert a.kind is b.kind is c.kind
    assert a.denied_by is b.denied_by is c.denied_by


@SETTINGS
@given(st.lists(statements(), min_size=1, max_size=5), requests)
def test_parse_serialize_parse_keeps_meaning(items: list[Any], request: Any) -> None:
    policy = parse(doc(*items))
    again = parse(policy.to_text())
    assert again.to_json() == policy.to_json()
    assert decide([policy.to_json()], request).kind is decide([again.to_json()], request).kind is \
        decide([doc(*items)], request).kind


def reference(pattern: str) -> re.Pattern[str]:
    """fnmatch's translation, with its [...] classes neutralised (IAM has only * and ?)."""
    escaped = pattern.replace("[", "\0").replace("]", "\1")
    source = fnmatch.translate(escaped).replace("\0", r"\[").replace("\1", r"\]")
    return re.compile(source)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab*?[]/:.", max_size=8), st.text(alphabet="ab[]/:.", max_size=10))
def test_wildcard_matcher_agrees_with_reference(pattern: str, text: str) -> None:
    ours = compile_glob(pattern).fullmatch(text) is not None
    assert ours == (reference(pattern).match(text) is not None)
