"""The policy simulator page: the API's decisions per action, explained; the matched statement shown inside its
policy's text; missing context values; a caller the simulator is denied to told why."""

from __future__ import annotations

import html
import json
import re

from tests.console.pages_support import ADMIN, World, world_fixture  # noqa: F401

GUARDED = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Everything", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
    {"Sid": "NeverDelete", "Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]}, indent=2)


def _results(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-action="([^"]+)" data-decision="([^"]+)"', page))


def test_a_principal_simulation_explains_an_explicit_denial(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    world.user("dee", inline={"guarded": GUARDED})
    browser = world.browser("ada")
    got = browser.post("/console/simulator", {"mode": "principal", "principal_kind": "user",
                                              "principal_name": "dee",
                                              "actions": ["iam:DeleteUser", "iam:GetUser, s3:GetObject"],
                                              "context_key": "", "context_type": "string", "context_values": ""},
                       token_from="/console/simulator")
    assert got.status_code == 200, got.text[:3000]
    assert _results(got.text) == {"iam:DeleteUser": "explicitDeny", "iam:GetUser": "allowed",
                                  "s3:GetObject": "implicitDeny"}
    denial = got.text.split('data-action="iam:DeleteUser"', 1)[1].split("</article>", 1)[0]
    assert "denied by an explicit Deny in statement NeverDelete of guarded" in denial
    assert "Matched statement <code>NeverDelete</code> (Deny) in <strong" in denial
    # The Deny statement's lines are the highlighted ones, inside the policy's own text.
    marked = [html.unescape(text) for text in re.findall(r'<li class="matched"[^>]*><span class="line-no"[^>]*>\d+'
                                                         r'</span><code>([^<]*)</code>', denial)]
    assert any('"Sid": "NeverDelete"' in text for text in marked)
    assert not any("Everything" in text for text in marked)
    assert "denied by default (implicit deny)" in got.text


def test_pasted_policies_with_context_keys(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    team = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})
    form = {"mode": "custom", "policy": [team, ""], "actions": ["iam:ListUsers"]}
    without = browser.post("/console/simulator", {**form, "context_key": ""})
    assert _results(without.text) == {"iam:ListUsers": "implicitDeny"}
    missing = without.text.split('data-testid="sim-missing-context"', 1)[1].split("</p>", 1)[0]
    assert "<code>aws:PrincipalTag/team</code>" in missing
    given = browser.post("/console/simulator", {**form, "context_key": ["aws:PrincipalTag/team"],
                                                "context_type": ["string"], "context_values": ["blue"]})
    assert _results(given.text) == {"iam:ListUsers": "allowed"}
    assert "PolicyInputList.1" in given.text and 'data-testid="matched-line"' in given.text


def test_a_form_without_actions_is_explained(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    got = world.browser("ada").post("/console/simulator", {"mode": "principal", "principal_kind": "user",
                                                          "principal_name": "ada", "actions": ""})
    assert got.status_code == 400 and "Enter at least one action" in got.text


def test_a_caller_without_the_simulator_is_told_why(world: World) -> None:
    world.user("lee", inline={"list": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]})})
    browser = world.browser("lee")
    assert browser.get("/console/simulator").status_code == 200
    got = browser.post("/console/simulator", {"mode": "principal", "principal_kind": "user", "principal_name": "lee",
                                              "actions": "iam:GetUser"})
    assert got.status_code == 403
    assert "Not authorized" in got.text and "is not authorized to perform: iam:SimulatePrincipalPolicy" in got.text


def test_a_permissions_boundary_is_shown_denying(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    boundary = world.iam("CreatePolicy", PolicyName="only-reads", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}))
    world.user("bo", inline={"guarded": GUARDED})
    world.iam("PutUserPermissionsBoundary", UserName="bo", PermissionsBoundary=boundary["Policy"]["Arn"])
    got = world.browser("ada").post("/console/simulator", {"mode": "principal", "principal_kind": "user",
                                                           "principal_name": "bo",
                                                           "actions": "iam:GetUser iam:CreateUser"})
    assert _results(got.text) == {"iam:GetUser": "allowed", "iam:CreateUser": "implicitDeny"}
    created = got.text.split('data-action="iam:CreateUser"', 1)[1].split("</article>", 1)[0]
    assert "Permissions boundary: does not allow this action." in created
    assert "The permissions boundary does not allow it." in created


def test_a_resource_policy_is_evaluated_with_the_identity_policies(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    reader = f"arn:aws:iam::{world.account}:user/reader"
    bucket = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReaderGets", "Effect": "Allow", "Principal": {"AWS": reader}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::bucket/*"}]}, indent=2)
    nothing = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
    got = world.browser("ada").post("/console/simulator", {
        "mode": "custom", "policy": nothing, "actions": "s3:GetObject", "resources": "arn:aws:s3:::bucket/key",
        "resource_policy": bucket, "caller_arn": reader})
    assert _results(got.text) == {"s3:GetObject": "allowed"}, got.text[-3000:]
    assert "Matched statement <code>ReaderGets</code> (Allow) in <strong" in got.text
