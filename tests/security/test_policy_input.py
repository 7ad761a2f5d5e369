"""Hostile policy documents and condition values: clean MalformedPolicyDocument / ValidationError answers and
bounded matching time, never a RecursionError, a digit-limit ValueError or catastrophic backtracking."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator
from functools import cache

import pytest

from gatehouse.app import Application
from gatehouse.policy import PolicyError, parse, validate
from gatehouse.policy.jsontext import JsonSyntaxError, parse_json, parse_policy_json
from gatehouse.policy.operators import parse_date
from gatehouse.policy.patterns import ActionPattern, ArnPattern, chunks_regex, compile_glob
from gatehouse.policy.variables import Var, parse_template
from tests.security.support import ACCOUNT, call, new_app, ok, user_with_key

HEAD = '{"Version":"2012-10-17","Statement":'
HOSTILE = {
    "deep arrays": HEAD + "[" * 3000 + "]" * 3000 + "}",
    "deep objects": HEAD + '{"a":' * 1000 + "1" + "}" * 1000 + "}",
    "deep with duplicate keys": '{"Version":"2012-10-17","Version":"2012-10-17","Statement":' + "[" * 2000
                                + "]" * 2000 + "}",
    "5000-digit number": HEAD + '[{"Effect":"Allow","Action":"*","Resource":"*","Sid":' + "9" * 5000 + "}]}",
    "5000-digit condition value": HEAD + '[{"Effect":"Allow","Action":"*","Resource":"*","Condition":'
                                  '{"NumericEquals":{"aws:EpochTime":' + "9" * 5000 + "}}}]}",
}


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    application = new_app()
    yield application
    application.close()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_engine_reports_hostile_json_as_invalid(name: str) -> None:
    document = HOSTILE[name]
    problems = validate(document)
    assert problems and problems[0].code == "JSON_SYNTAX_ERROR"
    with pytest.raises(PolicyError):
        parse(document)
    with pytest.raises(JsonSyntaxError):
        parse_json(document)


def test_nesting_limit_leaves_real_policies_alone() -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}, "Action": "s3:*",
        "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*", "b?"]}}}]})
    assert parse_policy_json(document).value == parse_json(document).value == json.loads(document)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_api_answers_malformed_policy_document(app: Application, name: str) -> None:
    for action, params in [("CreatePolicy", {"PolicyName": "hostile", "PolicyDocument": HOSTILE[name]}),
                           ("SimulateCustomPolicy", {"PolicyInputList.member.1": HOSTILE[name],
                                                     "ActionNames.member.1": "s3:GetObject"}),
                           ("GetContextKeysForCustomPolicy", {"PolicyInputList.member.1": HOSTILE[name]})]:
        answer = call(app, "iam", action, params)
        assert answer.status == 400 and answer.code in ("MalformedPolicyDocument", "InvalidInput"), (
            action, answer.body[:300])


@pytest.mark.parametrize("text", ["\u00b2", "-\u00b2", "1.\u00b3"])
def test_dates_with_unicode_digits_are_not_dates(text: str) -> None:
    assert parse_date(text) is None


def test_date_condition_value_with_a_unicode_digit_is_malformed(app: Application) -> None:
    """Validating the policy raised ValueError (an InternalFailure) instead of reporting the value."""
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "\u00b2"}}}]})
    answer = call(app, "iam", "CreatePolicy", {"PolicyName": "dated", "PolicyDocument": document})
    assert (answer.status, answer.code) == (400, "MalformedPolicyDocument")


def test_date_condition_on_a_caller_supplied_unicode_digit(app: Application) -> None:
    """A tag value may hold "²" (\\p{N}); a Date condition on it raised ValueError inside the engine (which fails
    closed, so the request was refused; now it is refused because "²" is not a date)."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:RequestTag/when": "2020-01-01T00:00:00Z"}}}]})
    keys = user_with_key(app, "dated", policy=policy)
    answer = call(app, "iam", "TagUser", {"UserName": "dated", "Tags.member.1.Key": "when",
                                          "Tags.member.1.Value": "\u00b2"}, keys)
    assert (answer.status, answer.code) == (403, "AccessDenied")
    ok(app, "iam", "TagUser", {"UserName": "dated", "Tags.member.1.Key": "when",
                               "Tags.member.1.Value": "2024-05-01T00:00:00Z"}, keys)


# --- wildcards ---------------------------------------------------------------------------------------------------

STARS = "*a" * 24 + "*b"  # 25 stars: the old regex translation needed C(n, 25) steps on an almost-matching text


def test_wildcards_match_in_linear_time() -> None:
    text = "a" * 2000
    start = time.perf_counter()
    assert compile_glob(STARS).fullmatch(text) is None
    assert not ArnPattern("arn:aws:s3:::" + STARS).matches("arn:aws:s3:::" + text, {})
    assert not ArnPattern("arn:aws:s3:" + STARS + ":" + ACCOUNT + ":x").matches(
        "arn:aws:s3:" + text + ":" + ACCOUNT + ":x", {})
    assert not ActionPattern("s3:" + STARS).matches("s3:" + text)
    template = ArnPattern("arn:aws:s3:::${aws:username}/" + STARS)
    assert not template.matches("arn:aws:s3:::bob/" + text, {"aws:username": "bob"})
    assert time.perf_counter() - start < 2.0


def test_simulator_with_a_hostile_wildcard_answers_quickly(app: Application) -> None:
    """SimulateCustomPolicy lets a caller choose both the pattern and the ARN it is matched against; on SQLite the
    request runs on the event loop, so one slow match stalls the whole server."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + STARS},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringLike": {"aws:UserAgent": STARS}}}]})
    start = time.perf_counter()
    answer = ok(app, "iam", "SimulateCustomPolicy", {
        "PolicyInputList.member.1": policy, "ActionNames.member.1": "s3:GetObject",
        "ActionNames.member.2": "s3:PutObject", "ResourceArns.member.1": "arn:aws:s3:::" + "a" * 1000,
        "ContextEntries.member.1.ContextKeyName": "aws:UserAgent",
        "ContextEntries.member.1.ContextKeyType": "string",
        "ContextEntries.member.1.ContextKeyValues.member.1": "a" * 1000})
    assert time.perf_counter() - start < 3.0
    assert [e.text for e in answer.xml.findall(".//{*}EvalDecision")] == ["implicitDeny", "implicitDeny"]


@cache
def _reference(pattern: str, text: str, one_colon: bool) -> bool:
    """Wildcard matching by dynamic programming (the specification, slowly): `*` any run, `?` one character;
    with `one_colon`, neither may match a colon."""
    if not pattern:
        return not text
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if _reference(rest, text, one_colon):
            return True
        return bool(text) and not (one_colon and text[0] == ":") and _reference(pattern, text[1:], one_colon)
    if not text:
        return False
    if head == "?":
        return not (one_colon and text[0] == ":") and _reference(rest, text[1:], one_colon)
    return head == text[0] and _reference(rest, text[1:], one_colon)


def _arn_reference(pattern: str, text: str) -> bool:
    p_parts, t_parts = pattern.split(":", 5), text.split(":", 5)
    if len(p_parts) < 6:
        return _reference(pattern, text, False)
    if len(t_parts) < 6:
        return False
    return all(_reference(p, t, True) for p, t in zip(p_parts[:5], t_parts[:5], strict=True)) and _reference(
        p_parts[5], t_parts[5], False)


def test_linear_wildcards_still_mean_what_they_meant() -> None:
    rnd = random.Random(20240501)

    def word(alphabet: str, most: int) -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, most)))

    def instance(pattern: str, alphabet: str) -> str:
        return "".join(word(alphabet, 3) if c == "*" else rnd.choice(alphabet) if c == "?" else c for c in pattern)

    for _ in range(3000):
        pattern, text = word("ab*?/", 10), word("ab/", 10)
        assert (compile_glob(pattern).fullmatch(text) is not None) == _reference(pattern, text, False), (pattern, text)
        segments = [word("ab*?", 3) for _ in range(5)]
        rest = word("ab:/*?", 6)
        arn_pattern = ":".join(segments) + ":" + rest
        arn = ":".join(instance(s, "ab") for s in segments) + ":" + instance(rest, "ab:/")
        if rnd.random() < 0.5:
            i = rnd.randrange(len(arn))
            arn = arn[:i] + rnd.choice("ab:/") + arn[i + 1:]
        assert bool(ArnPattern(arn_pattern).matches(arn, {})) == _arn_reference(arn_pattern, arn), (arn_pattern, arn)


def test_substituted_values_stay_literal() -> None:
    regex = re.compile(chunks_regex([("a*", False), ("*?", True), ("*z", False)]), re.DOTALL)
    assert regex.fullmatch("aXX*?YYz")
    assert not regex.fullmatch("aXXabYYz")


def test_policy_variable_with_a_long_run_of_spaces_is_read_in_linear_time() -> None:
    """White space is free of the size quota, and `${a   …}` was split with a regular expression that took
    quadratic time in the spaces: 100,000 of them took over ten seconds per parse, on the event loop."""
    resource = "arn:aws:s3:::${a" + " " * 100_000 + "}"
    document = HEAD + '[{"Effect":"Allow","Action":"s3:GetObject","Resource":"' + resource + '"}]}'
    start = time.perf_counter()
    assert validate(document) == []
    parse(document)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("inner, name, default", [
    ("aws:username", "aws:username", None), (" aws:PrincipalTag/team , 'none' ", "aws:PrincipalTag/team", "none"),
    ("aws:username,''", "aws:username", ""),
])
def test_policy_variable_defaults_still_read(inner: str, name: str, default: str | None) -> None:
    assert parse_template("${" + inner + "}") == (Var(name, name.lower(), default),)
