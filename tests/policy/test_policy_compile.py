"""Parsing details, caching by content, and the action/resource index."""

from __future__ import annotations

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
    assert compiler.compile(parse(json.dumps(doc(allow())))) is not a


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
