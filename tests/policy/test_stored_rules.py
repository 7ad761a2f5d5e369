"""Rules IAM applies when it stores a policy, as opposed to the policy grammar: `parse(..., stored=False)` (what
`gatehouse eval` and the policy simulator read) decides such documents and reports the rule as a warning, while
stored documents keep IAM's answers in IAM's order."""

from __future__ import annotations

import json

import pytest

from gatehouse.policy import PolicyError, PolicyKind, PolicySet, compile_policy, evaluate, parse, validate
from gatehouse.policy.evalcase import evaluate_case

from ._support import ACCOUNT, ALICE, allow, ctx, doc

REGIONAL_IAM = doc(allow("iam:GetUser", "arn:aws:iam:*:*:user/*"))
WIDGET = doc(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:widget/x"))
WILDCARD_PRINCIPAL = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"},
                          "Action": "s3:GetObject", "Resource": "*"})
STAR_TRUST = doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})


@pytest.mark.parametrize(("document", "kind", "message"), [
    (REGIONAL_IAM, PolicyKind.IDENTITY, "IAM resource arn:aws:iam:*:*:user/* cannot contain region information."),
    (doc(allow("s3:*", "arn:aws:s3:us-east-1::bucket")), PolicyKind.IDENTITY, "can not contain region information"),
    (WIDGET, PolicyKind.IDENTITY, "IAM resource path must either be"),
    (WILDCARD_PRINCIPAL, PolicyKind.RESOURCE, "Invalid principal in policy"),
    (doc({"Effect": "Allow", "Principal": {"AWS": "12345"}, "Action": "s3:*", "Resource": "*"}),
     PolicyKind.RESOURCE, "Invalid principal in policy"),
    (STAR_TRUST, PolicyKind.TRUST, 'AssumeRolepolicy contained an invalid principal: "STAR":"*".'),
])
def test_storage_rules_refuse_stored_documents_and_warn_evaluated_ones(document: dict[str, object],
                                                                       kind: PolicyKind, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse(document, kind=kind)
    assert message in caught.value.message and caught.value.diagnostics[0].stored_only
    policy = parse(json.dumps(document), kind=kind, stored=False)
    assert [message in w.message for w in policy.warnings] == [True]
    assert policy.warnings[0].path.startswith("/Statement/0") and policy.warnings[0].line == 1


def test_grammar_errors_still_refuse_evaluated_documents() -> None:
    document = doc(allow("iam:GetUser", "arn:aws:iam:*:*:user/*"), {"Effect": "Allow", "Action": "s3:*"})
    with pytest.raises(PolicyError) as caught:
        parse(document, stored=False)
    assert caught.value.message == "Policy statement must contain resources."
    assert not any(d.stored_only for d in caught.value.diagnostics)


def test_storage_rules_keep_their_place_in_iams_order() -> None:
    """A legacy-parsing problem after a region problem: IAM answers with the region (its format check stops the
    legacy parse); read for evaluation, the region is only a warning, so the legacy problem must still be found."""
    document = doc(allow("iam:GetUser", "arn:aws:iam:us-east-1::user/x"), allow("s3:*", "arn:aws::x"))
    assert validate(document)[0].message.startswith("IAM resource arn:aws:iam:us-east-1::user/x")
    with pytest.raises(PolicyError) as caught:
        parse(document, stored=False)
    assert caught.value.message == "The policy failed legacy parsing"


def test_evaluated_as_written() -> None:
    regional = parse(REGIONAL_IAM, stored=False)
    assert evaluate(PolicySet(identity=[compile_policy(regional)]), ctx("iam:GetUser", ALICE)).allowed
    widget = parse(WIDGET, stored=False)
    assert not evaluate(PolicySet(identity=[compile_policy(widget)]), ctx("iam:GetUser", ALICE)).allowed


def _case(identity: list[object]) -> dict[str, object]:
    return {"id": "c", "request": {"principal": ALICE, "action": "iam:GetUser", "resource": ALICE},
            "policies": {"identity": identity}}


def test_eval_case_warns_and_strict_refuses() -> None:
    out = evaluate_case(_case([REGIONAL_IAM]))
    assert out["decision"] == "Allow"
    assert out["warnings"] == ["policies.identity[0]: /Statement/0/Resource: IAM resource arn:aws:iam:*:*:user/* "
                               "cannot contain region information. (IAM refuses this when it stores a policy; "
                               "evaluated as written)"]
    strict = evaluate_case(_case([REGIONAL_IAM]), strict=True)
    assert "decision" not in strict and "cannot contain region information" in strict["error"]


def test_eval_case_warnings_are_located_in_text_documents() -> None:
    out = evaluate_case(_case([json.dumps(REGIONAL_IAM, indent=2)]))
    assert out["warnings"][0].startswith("policies.identity[0]: 6:19: /Statement/0/Resource: ")


def test_eval_without_warnings_has_no_warnings_key() -> None:
    assert "warnings" not in evaluate_case(_case([doc(allow())]))
