"""`gatehouse policy validate` and `gatehouse eval` through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from gatehouse.cli.policy_cmds import eval_command, policy_app

app = typer.Typer()
app.add_typer(policy_app, name="policy")
app.command("eval")(eval_command)
runner = CliRunner()


def test_validate_reports_located_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}, '
                   '{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}')
    good = tmp_path / "good.json"
    good.write_text('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}')
    result = runner.invoke(app, ["policy", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:1:41: /Statement/0: Policy statement must contain resources." in result.output
    # IAM's message for an Effect that is neither Allow nor Deny is the generic one (LocalStack's AWS-validated
    # test_iam_policies.snapshot.json, invalid-10); the detail says what is wrong.
    assert "/Statement/1/Effect: Syntax errors in policy. (invalid effect: Perhaps)" in result.output
    assert f"{good}: valid identity policy" in result.output


def test_validate_valid_files_exit_zero_and_kind_matters(tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    assert runner.invoke(app, ["policy", "validate", "--kind", "trust", str(trust)]).exit_code == 0
    result = runner.invoke(app, ["policy", "validate", str(trust)])
    assert result.exit_code == 1 and "Policy document should not specify a principal." in result.output


def test_validate_missing_file(tmp_path: Path) -> None:
    assert runner.invoke(app, ["policy", "validate", str(tmp_path / "nope.json")]).exit_code == 1


def test_eval_one_line_out_per_line_in() -> None:
    good = {"id": "1", "request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject",
                                   "resource": "arn:aws:s3:::bucket/key"},
            "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
                {"Sid": "ReadBucket", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}
            ]}]}}
    stdin = json.dumps(good) + "\n" + "{not json\n" + json.dumps({**good, "id": "3", "policies": {}}) + "\n"
    result = runner.invoke(app, ["eval"], input=stdin)
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 1
    assert lines[0] == {"id": "1", "decision": "Allow", "matched": [
        {"policy": "identity[0]", "sid": "ReadBucket", "statement": 0}],
        "reason": "Allowed by identity[0] statement 0 (ReadBucket)"}
    assert lines[1]["id"] is None and "malformed JSON" in lines[1]["error"]
    assert lines[2]["decision"] == "ImplicitDeny"


def test_eval_all_decided_exits_zero() -> None:
    case = {"id": "x", "request": {"principal": "arn:aws:iam::111122223333:root", "action": "iam:ListUsers"},
            "policies": {}}
    result = runner.invoke(app, ["eval"], input=json.dumps(case) + "\n")
    assert result.exit_code == 0 and json.loads(result.output)["decision"] == "Allow"


def test_eval_warns_about_storage_rules_and_strict_refuses() -> None:
    case = {"id": "w", "request": {"principal": "arn:aws:iam::111122223333:user/alice", "action": "iam:GetUser",
                                   "resource": "arn:aws:iam::111122223333:user/alice"},
            "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam:*:*:user/*"}]}]}}
    result = runner.invoke(app, ["eval"], input=json.dumps(case) + "\n")
    line = json.loads(result.output)
    assert result.exit_code == 0 and line["decision"] == "Allow"
    assert "cannot contain region information" in line["warnings"][0]
    result = runner.invoke(app, ["eval", "--strict"], input=json.dumps(case) + "\n")
    line = json.loads(result.output)
    assert result.exit_code == 1 and "decision" not in line and "cannot contain region information" in line["error"]


def test_eval_help_points_to_the_format() -> None:
    assert "docs/eval.md" in runner.invoke(app, ["eval", "--help"]).output
