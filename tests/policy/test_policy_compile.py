"""Parsing details, caching by content, and the action/resource index."""

from __future__ import annotations

import gc
import json

from gatehouse.policy import Compiler, LabelledPolicy, PolicySet, evaluate, parse
from gatehouse.policy.compile import CompiledPolicy

from ._support import allow, ctx, deny, doc


def test_statement_paths_and_positions() -> None:
    text = '{"Version": "2012-10-17",\n "Statement": [\n  {"Effect": "Allow", "Action": "*", "Resource": "*"}\n ]}'
    policy = parse(text)
    (st,) = policy.statements
    assert st.path == "/Statement/0"
    assert (st.start.line, st.start.column, st.end.line, st.end.column) == (3, 4, 3, 54)
    assert policy.text == text


def test_positions_follow_the_aws_cli_example() -> None:
    """aws iam simulate-custom-policy reference: this one-line policy's statement is at columns 38..167."""
    text = ('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",'
            '"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}')
    (st,) = parse(text).statements
    assert st.path == "/Statement"
    assert (st.start.line, st.start.column, st.end.line, st.end.column) == (1, 38, 1, 167)


def test_parse_dict_has_no_text_or_positions() -> None:
    (st,) = parse(doc(allow())).statements
    assert st.start is None and parse(doc(allow())).text is None


def test_compiler_caches_by_content() -> None:
    compiler = Compiler(maxsize=2)
    a = compiler.compile(parse(json.dumps(doc(allow()))))
    assert compiler.compile(parse(json.dumps(doc(allow())))) is a
    compiler.compile(parse(json.dumps(doc(allow("s3:*")))))
    compiler.compile(parse(json.dumps(doc(allow("sqs:*")))))
    assert len(compiler) == 2
    # Out of the LRU, but still held (by a cached policy set, here by this test): shared by digest, not recompiled.
    assert compiler.compile(parse(json.dumps(doc(allow())))) is a
    digest = a.digest
    del a
    gc.collect()
    assert compiler.compile(parse(json.dumps(doc(allow("iam:*"))))).digest != digest


def test_compiler_is_bounded_by_estimated_bytes() -> None:
    text = json.dumps(doc(allow([f"s{n}:Get*" for n in range(200)])))
    one = Compiler().compile(parse(text)).estimated_bytes
    assert one > 32 * len(text) - 1
    compiler = Compiler(maxsize=1000, max_bytes=3 * one)
    for n in range(10):
        compiler.compile(parse(text.replace("Get", f"Get{n}")))
    assert len(compiler) <= 3 and compiler.estimated_bytes <= 3 * one + 1000


def test_compiler_shared_by_threads_never_raises() -> None:
    """Under threads, an eviction beside a look-up could raise KeyError; the lock keeps the cache whole."""
    import threading

    compiler = Compiler(maxsize=4)
    policies = [parse(json.dumps(doc(allow(f"s{n}:*")))) for n in range(16)]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                for p in policies:
                    assert compiler.compile(p).digest == p.digest
        except BaseException as e:
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(compiler) <= 4


def test_two_compilers_share_nothing() -> None:
    policy = parse(json.dumps(doc(allow())))
    assert Compiler().compile(policy) is not Compiler().compile(policy)


def test_candidates_are_indexed_by_action() -> None:
    policy = CompiledPolicy(parse(doc(allow("s3:GetObject"), allow("sqs:*"), allow("*"),
                                      {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})))
    assert [cs.statement.index for cs in policy.candidates("s3:getobject", "s3")] == [0, 2]
    assert [cs.statement.index for cs in policy.candidates("sqs:sendmessage", "sqs")] == [1, 2, 3]


def test_resource_index_skips_statements_for_other_resources() -> None:
    """2,000 statements on distinct buckets: a request only tests the few whose literal prefix fits."""
    statements = [allow("s3:GetObject", [f"arn:aws:s3:::bucket-{i:04d}", f"arn:aws:s3:::bucket-{i:04d}/*"])
                  for i in range(2000)]
    statements.append(deny("s3:GetObject", "arn:aws:s3:::*/secret/*"))
    ps = PolicySet(identity=[LabelledPolicy(Compiler().compile(parse(doc(*statements))), "big")])
    assert evaluate(ps, ctx("s3:GetObject", "arn:aws:s3:::bucket-1234/a")).allowed
    assert evaluate(ps, ctx("s3:GetObject", "arn:aws:s3:::bucket-1234/secret/a")).kind.value == "ExplicitDeny"
    assert not evaluate(ps, ctx("s3:GetObject", "arn:aws:s3:::bucket-9999/a")).allowed
    index = ps.identity.memo["s3:getobject"]
    assert index.buckets is not None
    assert max(len(b) for b in index.buckets.values()) <= 3


def test_round_trip_text() -> None:
    policy = parse(doc(allow("s3:*", "*", Sid="A", Condition={"Bool": {"aws:SecureTransport": True}})))
    again = parse(policy.to_text())
    assert again.to_json() == policy.to_json()
    assert again.statements[0].conditions[0].values == ("true",)


def test_conditions_once_decides_as_the_per_request_matcher_does() -> None:
    """The simulator's sets evaluate each statement's conditions once for all its action x resource pairs (they
    read only keys, which the pairs share): same decisions, matched statements and missing keys as evaluating
    every pair afresh, with the conditions run once per statement."""
    import gatehouse.policy.compile as compile_module

    statements = [
        allow("s3:Get*", "arn:aws:s3:::b/*", Condition={"StringLike": {"aws:PrincipalTag/team": ["*blue*"]}}),
        deny("s3:GetObject", "arn:aws:s3:::b/secret*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        allow("s3:List*", "*", Condition={"StringEquals": {"s3:prefix": "home/"}}),
        allow("s3:Put*", "arn:aws:s3:::b/${aws:username}/*"),
    ]
    text = json.dumps(doc(*statements))
    keys = {"aws:PrincipalTag/team": "deep-blue-sea", "aws:SecureTransport": "false", "aws:username": "alice"}
    pairs = [(a, r) for a in ("s3:GetObject", "s3:ListBucket", "s3:PutObject", "iam:GetUser")
             for r in ("arn:aws:s3:::b/x", "arn:aws:s3:::b/secret1", "arn:aws:s3:::b/alice/f", "*")]
    plain = PolicySet(identity=[Compiler().compile(parse(text))])
    once = PolicySet(identity=[Compiler().compile(parse(text))], conditions_once=True)
    calls = 0
    real = compile_module._condition

    def counting(clause, variables):  # type: ignore[no-untyped-def]
        fn = real(clause, variables)

        def wrapped(c, missing):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            return fn(c, missing)
        return wrapped
    compile_module._condition = counting  # type: ignore[assignment]
    try:
        for action, resource in pairs:
            evaluate(plain, ctx(action, resource, keys=keys))
        per_pair, calls = calls, 0
        for action, resource in pairs:
            evaluate(once, ctx(action, resource, keys=keys))
        per_request = calls
    finally:
        compile_module._condition = real  # type: ignore[assignment]
    assert per_request <= 3 < per_pair, (per_request, per_pair)  # at most once per statement with a condition
    for action, resource in pairs:
        request = ctx(action, resource, keys=keys)
        a, b = evaluate(plain, request), evaluate(once, request)
        assert (a.kind, a.matched, a.missing_keys) == (b.kind, b.matched, b.missing_keys), (action, resource)
