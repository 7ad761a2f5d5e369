"""The policies pages: creating a policy with an invalid document shows the engine's located errors and creates
nothing; versions, their diff and set-default; inline policies; attachments; the live validation endpoint; and a
read-only user refused with the engine's reason."""

from __future__ import annotations

import json

from tests.console.pages_support import ADMIN, READ_ONLY, World, world_fixture  # noqa: F401

GOOD = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}, indent=2)
NEWER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers"], "Resource": "*"}]}, indent=2)
# Line 5 has an action without a vendor prefix.
BAD = '{\n  "Version": "2012-10-17",\n  "Statement": [{\n    "Effect": "Allow",\n    "Action": "getuser",\n' \
      '    "Resource": "*"\n  }]\n}'


def _local_policies(world: World) -> list[str]:
    return [p["PolicyName"] for p in world.iam("ListPolicies", Scope="Local")["Policies"]]


def test_an_invalid_document_shows_located_errors_and_creates_nothing(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    got = browser.post("/console/policies/create", {"policy_name": "broken", "policy_document": BAD},
                       token_from="/console/policies/create")
    assert got.status_code == 400
    assert "MalformedPolicyDocument" in got.text
    assert "Line 5, column 15" in got.text and "must be prefaced by a vendor" in got.text
    assert "getuser" in got.text  # the document is kept in the editor
    assert _local_policies(world) == []


def test_create_then_versions_diff_and_default(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    made = browser.post("/console/policies/create", {"policy_name": "readers", "policy_document": GOOD,
                                                      "description": "read users"})
    assert made.status_code == 200 and "Policy readers created." in made.text
    arn = f"arn:aws:iam::{world.account}:policy/readers"
    assert str(made.url).endswith(f"/console/policies/view/{arn}")
    assert "iam:GetUser" in made.text
    added = browser.post("/console/policies/versions", {"policy_arn": arn, "policy_document": NEWER,
                                                        "set_as_default": "true"})
    assert "Version v2 created." in added.text
    assert world.iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    diff = browser.get(f"/console/policies/view/{arn}", params={"tab": "diff", "from": "v1", "to": "v2"})
    assert diff.status_code == 200
    assert 'data-diff="removed"' in diff.text and 'data-diff="added"' in diff.text
    assert "iam:ListUsers" in diff.text
    back = browser.post("/console/policies/set-default", {"policy_arn": arn, "version_id": "v1"})
    assert "Version v1 is now the default." in back.text
    assert world.iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    gone = browser.post("/console/policies/delete-version", {"policy_arn": arn, "version_id": "v2"})
    assert "Version v2 deleted." in gone.text
    assert [v["VersionId"] for v in world.iam("ListPolicyVersions", PolicyArn=arn)["Versions"]] == ["v1"]


def test_attach_detach_and_entities(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    world.iam("CreateGroup", GroupName="readers")
    browser = world.browser("ada")
    attached = browser.post("/console/policies/attach", {"policy_arn": READ_ONLY, "entity_kind": "group",
                                                         "entity_name": "readers"})
    assert attached.status_code == 200
    listed = world.iam("ListAttachedGroupPolicies", GroupName="readers")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in listed] == [READ_ONLY]
    entities = browser.get(f"/console/policies/view/{READ_ONLY}", params={"tab": "entities"})
    assert 'data-entity="group/readers"' in entities.text
    browser.post("/console/policies/detach", {"policy_arn": READ_ONLY, "entity_kind": "group",
                                              "entity_name": "readers"})
    assert world.iam("ListAttachedGroupPolicies", GroupName="readers")["AttachedPolicies"] == []


def test_list_search_and_scope(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    found = browser.get("/console/policies", params={"q": "readonlyaccess", "scope": "AWS"})
    assert found.status_code == 200
    assert 'data-policy="ReadOnlyAccess"' in found.text and 'data-policy="AdministratorAccess"' not in found.text
    first = browser.get("/console/policies")
    assert 'id="page-next"' in first.text  # some 1,600 AWS managed policies: more than one page


def test_inline_policy_put_view_delete(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    world.iam("CreateRole", RoleName="builder", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    browser = world.browser("ada")
    bad = browser.post("/console/policies/inline/role/builder", {"policy_name": "reads", "policy_document": BAD})
    assert bad.status_code == 400 and "Line 5, column 15" in bad.text
    assert world.iam("ListRolePolicies", RoleName="builder")["PolicyNames"] == []
    saved = browser.post("/console/policies/inline/role/builder", {"policy_name": "reads", "policy_document": GOOD})
    assert "Inline policy reads saved." in saved.text and "iam:GetUser" in saved.text
    assert world.iam("ListRolePolicies", RoleName="builder")["PolicyNames"] == ["reads"]
    listing = browser.get("/console/policies/inline/role/builder")
    assert "/console/policies/inline/role/builder/reads" in listing.text
    browser.post("/console/policies/inline/role/builder/reads/delete", {})
    assert world.iam("ListRolePolicies", RoleName="builder")["PolicyNames"] == []


def test_live_validation_endpoint(world: World) -> None:
    world.user("ada", policies=(READ_ONLY,))
    browser = world.browser("ada")
    headers = {"X-CSRF-Token": browser.token()}
    got = browser.client.post("/console/api/validate-policy", json={"document": BAD, "kind": "managed"},
                              headers=headers)
    assert got.status_code == 200
    answer = got.json()
    assert answer["valid"] is False
    first = answer["findings"][0]
    assert (first["severity"], first["line"], first["column"], first["code"]) == ("error", 5, 15, "INVALID_ACTION")
    typo = GOOD.replace("iam:GetUser", "iam:GetUsr")
    warned = browser.client.post("/console/api/validate-policy", json={"document": typo}, headers=headers).json()
    assert warned["valid"] is True
    assert [(f["severity"], f["code"], f["line"]) for f in warned["findings"]] == [("warning", "UNKNOWN_ACTION", 7)]
    # Without this session's token, or without a session, nothing is answered.
    assert browser.client.post("/console/api/validate-policy", json={"document": GOOD},
                               headers={"X-CSRF-Token": "x" * 43}).status_code == 403
    assert browser.client.post("/console/api/validate-policy", json={"document": GOOD}).status_code == 403
    browser.client.cookies.clear()
    assert browser.client.post("/console/api/validate-policy", json={"document": GOOD},
                               headers=headers).status_code == 401


def test_read_only_user_is_refused_with_the_engine_reason(world: World) -> None:
    world.user("rita", policies=(READ_ONLY,))
    browser = world.browser("rita")
    listed = browser.get("/console/policies")  # reading is allowed
    assert listed.status_code == 200 and 'data-policy="' in listed.text
    got = browser.post("/console/policies/create", {"policy_name": "mine", "policy_document": GOOD})
    assert got.status_code == 403
    assert "Not authorized" in got.text
    assert "is not authorized to perform: iam:CreatePolicy" in got.text
    assert _local_policies(world) == []


def test_forged_posts_are_refused_and_text_is_escaped(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    forged = browser.client.post("/console/policies/create", data={"policy_name": "forged", "policy_document": GOOD})
    assert forged.status_code == 403 and _local_policies(world) == []
    script = "<script>alert(1)</script>"
    browser.post("/console/policies/create", {"policy_name": "shown", "policy_document": GOOD,
                                              "description": script})
    page = browser.get(f"/console/policies/view/arn:aws:iam::{world.account}:policy/shown")
    assert script not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_sixth_version_is_refused_with_the_document_kept(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    arn = world.iam("CreatePolicy", PolicyName="busy", PolicyDocument=GOOD)["Policy"]["Arn"]
    for _ in range(4):
        world.iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=GOOD)
    got = world.browser("ada").post("/console/policies/versions", {"policy_arn": arn, "policy_document": NEWER})
    assert got.status_code == 409 and "LimitExceeded" in got.text and "up to 5 versions" in got.text
    assert "iam:ListUsers" in got.text  # still in the editor
    assert len(world.iam("ListPolicyVersions", PolicyArn=arn)["Versions"]) == 5
