"""The pure parts of the policy pages: the matched statement located in a policy's text, the version diff and the
editor's findings."""

from __future__ import annotations

import json

from gatehouse.console.policy_feedback import EditorKind, check_document
from gatehouse.console.policy_text import diff, document_text, statement_view
from gatehouse.policy import PolicyKind, parse

COMPACT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Everything", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
    {"Sid": "NeverDelete", "Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]})


def test_a_statement_of_a_compact_document_is_marked_in_the_indented_text() -> None:
    second = parse(COMPACT, kind=PolicyKind.IDENTITY).statements[1]
    view = statement_view(COMPACT, second.start, second.end)
    marked = [line.text for line in view.lines if line.marked]
    assert view.indented and view.effect == "Deny"
    assert any('"NeverDelete"' in text for text in marked)
    assert not any('"Everything"' in text for text in marked)


def test_a_statement_of_an_indented_document_is_marked_where_it_is_stored() -> None:
    text = json.dumps(json.loads(COMPACT), indent=2)
    first = parse(text, kind=PolicyKind.IDENTITY).statements[0]
    view = statement_view(text, first.start, first.end)
    assert not view.indented and view.effect == "Allow"
    assert [line.number for line in view.lines if line.marked] == list(range(first.start.line, first.end.line + 1))


def test_diff_of_two_versions() -> None:
    old = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}'
    new = old.replace('"iam:GetUser"', '["iam:GetUser","iam:ListUsers"]')
    rows = diff(old, new)
    assert {r.kind for r in rows} >= {"added", "removed", "same"}
    assert any(r.kind == "added" and "iam:ListUsers" in r.text for r in rows)
    assert diff(old, json.dumps(json.loads(old), indent=8)) == []  # only the layout differs


def test_documents_arrive_encoded_or_as_text() -> None:
    assert document_text("%7B%22a%22%3A%201%7D") == '{"a": 1}'
    assert document_text('{"a": "100%25"}') == '{"a": "100%25"}'


def test_simulator_documents_report_storage_rules_as_warnings() -> None:
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam:us-east-1:123456789012:user/x"}]})
    stored = check_document(doc, EditorKind.INLINE)
    simulated = check_document(doc, EditorKind.SIMULATION)
    assert [f.severity for f in stored] == ["error"]
    assert [f.severity for f in simulated] == ["warning"]


def test_each_kind_is_checked_by_its_own_rules() -> None:
    identity = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
    assert check_document(identity, EditorKind.MANAGED) == []
    assert [f.code for f in check_document(identity, EditorKind.RESOURCE)] == ["MISSING_PRINCIPAL"]
    assert check_document(identity, EditorKind.TRUST)[0].severity == "error"
    unversioned = json.dumps({"Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    assert check_document(unversioned, EditorKind.INLINE) == []
    assert check_document(unversioned, EditorKind.MANAGED)[0].message.startswith("Policy document must be version")
