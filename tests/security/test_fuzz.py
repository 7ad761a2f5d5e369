"""Bounded random requests against every routed operation, the unsigned path and /signin: whatever arrives, the
answer is a client error or a success, never a 5xx, and no stack trace reaches the client.

Values are drawn from the botocore shapes, mixing parameters that name real entities (so requests get past look-ups
and into the use cases) with hostile text: non-ASCII digits, digit strings beyond Python's int() limit, deeply
nested JSON, NUL, wildcards, policy variables. Seeded, so a failure reproduces."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.model import Shape

from gatehouse.app import Application
from tests.security.support import ROOT, VERSIONS, Keys, asgi_request, send, unsigned, user_with_key
from tests.security.world import World, populated

PER_OPERATION = 12
HOSTILE = [
    "", " ", "\u00b2", "\u0661\u0662", "9" * 5000, "-1", "0", "01", "true", "x" * 300, "/", "/a/", "*", "?", "*?*",
    "${aws:username}", "${", "a\x00b", "%00", "\ufffe", "\U0001f642", "1e999", "nan", "<x>&amp;",
    "arn:aws:iam::123456789012:user/*", "arn:aws:iam::210987654321:role/elsewhere", "arn:aws:iam::aws:policy/x",
    '{"Version":"2012-10-17","Statement":' + "[" * 900 + "]" * 900 + "}",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Sid":' + "9" * 5000 + "}]}",
    json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
            "DateGreaterThan": {"aws:CurrentTime": "\u00b2"}, "IpAddress": {"aws:SourceIp": "x"},
            "StringLike": {"aws:UserAgent": "*a" * 20 + "*b"}}}]}),
]
INTEGERS = ["0", "1", "-1", "3600", "43200", "2147483647", "2147483648", "\u00b2", "01", "9" * 5000]


class Generator:
    def __init__(self, seed: int, values: dict[str, str]) -> None:
        self.rnd = random.Random(seed)
        self.values = values

    def value(self, shape: Shape, name: str, depth: int = 0) -> Any:
        kind, rnd = shape.type_name, self.rnd
        if kind == "structure":
            return {member: self.value(sub, member, depth + 1) for member, sub in shape.members.items()
                    if depth < 4 and (member in shape.required_members or rnd.random() < 0.6)}
        if kind == "list":
            return [self.value(shape.member, name, depth + 1) for _ in range(rnd.choice((0, 1, 1, 2, 3)))]
        if kind == "map":
            return {rnd.choice(HOSTILE): self.value(shape.value, name, depth + 1) for _ in range(rnd.choice((0, 1, 2)))}
        if kind in ("integer", "long"):
            return rnd.choice(INTEGERS)
        if kind == "boolean":
            return rnd.choice(("true", "false", "TRUE", "maybe"))
        if kind == "timestamp":
            return rnd.choice(("2020-01-01T00:00:00Z", "0", "99999999999999", "1e30", "\u00b2"))
        if kind == "blob":
            return rnd.choice(("", "AAAA", "!!!"))
        known = [v for k, v in self.values.items() if k.split(".")[0] == name]
        if known and rnd.random() < 0.7:
            return rnd.choice(known)
        return rnd.choice(HOSTILE)

    def params(self, shape: Shape | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if shape is not None:
            _flatten(shape, self.value(shape, ""), "", out)
        return out


def _flatten(shape: Shape, value: Any, prefix: str, out: dict[str, str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if name in value:
                _flatten(member, value[name], f"{prefix}.{name}" if prefix else name, out)
    elif kind == "list":
        if not value:
            out[prefix] = ""
        for i, item in enumerate(value, 1):
            _flatten(shape.member, item, f"{prefix}.member.{i}", out)
    elif kind == "map":
        for i, (key, item) in enumerate(value.items(), 1):
            out[f"{prefix}.entry.{i}.key"] = key
            _flatten(shape.value, item, f"{prefix}.entry.{i}.value", out)
    else:
        out[prefix] = value


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    built = populated()
    yield built
    built.app.close()


def _check(app: Application, status: int, body: bytes, what: object) -> None:
    assert status < 500, (what, body[:400])
    assert b"Traceback" not in body and b'File "' not in body, what


@pytest.mark.parametrize("principal", ["root", "user"])
def test_every_operation_answers_without_internal_failure(world: World, principal: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    app = world.app
    assert app.asgi is not None
    router = app.asgi.endpoint.router
    keys: Keys = ROOT
    if principal == "user":
        keys = user_with_key(app, "fuzzer", policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "iam:Simulate*", "iam:Tag*", "sts:*"],
             "Resource": "*", "Condition": {"StringLikeIfExists": {"aws:RequestTag/k": "*v*"}}}]}))
    generator = Generator(20240501 if principal == "root" else 7, world.values)
    with caplog.at_level(logging.ERROR, logger="gatehouse.wire"):
        for service in ("iam", "sts"):
            for operation in router.operations(service):
                model = router.route(service, operation).operation
                for _ in range(PER_OPERATION):
                    params = generator.params(model.input_shape)
                    body = urlencode({"Action": operation, "Version": VERSIONS[service], **params},
                                     errors="surrogatepass")
                    answer = send(app, service, body, keys)
                    _check(app, answer.status, answer.body, (operation, params))
                    assert answer.xml is not None  # well-formed, whatever the values held (escaping)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_unsigned_path_answers_without_internal_failure(world: World) -> None:
    generator = Generator(99, world.values)
    assert world.app.asgi is not None
    router = world.app.asgi.endpoint.router
    for operation in ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
        model = router.route("sts", operation).operation
        for _ in range(40):
            params = {"Action": operation, "Version": "2011-06-15", **generator.params(model.input_shape)}
            answer = unsigned(world.app, params)
            _check(world.app, answer.status, answer.body, params)
    for action in ("CreateUser", "GetCallerIdentity", "", "\x00"):
        answer = unsigned(world.app, {"Action": action, "Version": "2010-05-08", "UserName": "anon"})
        assert answer.status in (400, 403) and answer.code == "MissingAuthenticationToken"


def test_signin_answers_without_internal_failure(world: World) -> None:
    rnd = random.Random(5)
    fields = ["account", "username", "password", "email", "mfa_code", "new_password", "credentials", "other"]
    for n in range(120):
        doc = {rnd.choice(fields): rnd.choice([*HOSTILE, 123, None, True, [], {}]) for _ in range(rnd.randint(0, 5))}
        if n % 3 == 0:
            body = urlencode({k: str(v) for k, v in doc.items()}, errors="surrogatepass").encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(doc).encode() if n % 3 == 1 else rnd.choice(HOSTILE).encode("utf-8", "surrogatepass")
            content_type = "application/json"
        # From the server's own origin: a form post without one is refused before its fields are looked at.
        answer = asgi_request(world.app, "POST", "/signin", body_chunks=[body],
                              headers={"content-type": content_type, "origin": "http://127.0.0.1:4599"})
        _check(world.app, answer.status, answer.body, doc)
        assert answer.status in (200, 400, 401, 413, 429), (answer.status, doc)
