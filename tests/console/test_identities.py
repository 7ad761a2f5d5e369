"""The identity pages as root and as a read-only user: every page renders, the changes they make are the API's,
and a refusal is explained with the engine's reason, never a crash."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from .conftest import BOTH, Browser, api
from .page_checks import problems

TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},'
         '"Action":"sts:AssumeRole"}]}')


@pytest.fixture
def world(root: Browser) -> Browser:
    """Root's browser, in an account with one of everything."""
    api(root.app, "CreateUser", UserName="alice")
    api(root.app, "CreateGroup", GroupName="devs")
    api(root.app, "AddUserToGroup", GroupName="devs", UserName="alice")
    api(root.app, "CreateRole", RoleName="app", AssumeRolePolicyDocument=TRUST)
    api(root.app, "CreateInstanceProfile", InstanceProfileName="app-profile")
    api(root.app, "AddRoleToInstanceProfile", InstanceProfileName="app-profile", RoleName="app")
    return root


PAGES = ["/console", "/console/users", "/console/users?q=ali&path=/", "/console/groups", "/console/roles",
         "/console/instance-profiles", "/console/create/user", "/console/create/group", "/console/create/role",
         "/console/create/role?template=saml", "/console/create/instance-profile",
         "/console/instance-profiles/app-profile"]
PAGES += [f"/console/users/alice?tab={t}" for t in ("permissions", "groups", "tags", "security", "advisor")]
PAGES += [f"/console/groups/devs?tab={t}" for t in ("users", "permissions", "advisor")]
PAGES += [f"/console/roles/app?tab={t}" for t in ("permissions", "trust", "tags", "instance-profiles", "advisor")]


def test_every_page_renders_for_root(world: Browser) -> None:
    for page in PAGES:  # one world for all of them: building one and signing in is most of the time
        got = world.get(page)
        assert got.status_code == 200, (page, got.text[:3000])
        assert 'id="principal-name">root<' in got.text and 'id="error"' not in got.text, page
        assert problems(got.text, got.headers["content-security-policy"]) == [], page


def test_unknown_entities_are_not_found_pages(root: Browser) -> None:
    for page in ("/console/users/nobody", "/console/groups/nobody", "/console/roles/nobody",
                 "/console/instance-profiles/nobody"):
        got = root.get(page)
        assert got.status_code == 404 and 'id="error-code">NoSuchEntity<' in got.text


def test_lists_search_and_page(root: Browser) -> None:
    for n in range(30):
        api(root.app, "CreateUser", UserName=f"user{n:02d}", Path="/team/" if n % 2 else "/")
    first = root.get("/console/users")
    assert "30 users, page 1 of 2" in first.text and "user24" in first.text and "user25" not in first.text
    second = root.get("/console/users?page=2")
    assert "user25" in second.text and "user24" not in second.text
    found = root.get("/console/users?q=USER0")
    assert "10 users" in found.text
    team = root.get("/console/users?path=/team/")
    assert "15 users" in team.text and "user00" not in team.text


@BOTH
def test_group_with_read_only_access_and_a_user_in_it(root: Browser) -> None:
    got = root.submit("/console/create/group", "/console/create/group",
                      {"group_name": "readers", "policies": "ReadOnlyAccess"})
    assert got.status_code == 200 and "Group readers created." in got.text
    attached = api(root.app, "ListAttachedGroupPolicies", GroupName="readers")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    got = root.submit("/console/create/user", "/console/create/user", {
        "user_name": "bob", "console_access": "true", "password": "Bob-Passw0rd-1234", "groups": "readers"})
    assert "User bob created." in got.text
    assert [g["GroupName"] for g in api(root.app, "ListGroupsForUser", UserName="bob")["Groups"]] == ["readers"]
    assert api(root.app, "GetLoginProfile", UserName="bob")["LoginProfile"]["UserName"] == "bob"


def test_access_key_secret_is_shown_once(world: Browser) -> None:
    got = world.submit("/console/users/alice?tab=security", "/console/users/alice/access-keys/create", {})
    secret = re.search(r'id="secret-access-key"[^>]*>([^<]+)<', got.text)
    key_id = re.search(r'id="access-key-id">([^<]+)<', got.text)
    assert got.status_code == 200 and secret and key_id and 'data-copy="secret-access-key"' in got.text
    assert secret.group(1) not in str(got.url)
    later = world.get("/console/users/alice?tab=security")
    assert key_id.group(1) in later.text and secret.group(1) not in later.text
    world.submit("/console/users/alice?tab=security", "/console/users/alice/access-keys/status",
                 {"access_key_id": key_id.group(1), "status": "Inactive"})
    assert api(world.app, "ListAccessKeys", UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"


@BOTH
def test_mfa_assignment_from_the_shown_seed(world: Browser) -> None:
    got = world.submit("/console/users/alice?tab=security", "/console/users/alice/mfa/create",
                       {"device_name": "alice"})
    seed = re.search(r'id="mfa-seed"[^>]*>([A-Z2-7]+)<', got.text)
    serial = re.search(r'id="mfa-serial">([^<]+)<', got.text)
    assert seed and serial and 'src="data:image/png;base64,' in got.text
    totp, now = pyotp.TOTP(seed.group(1)), time.time()
    token = re.search(r'name="csrf_token" value="([^"]+)"', got.text)
    assert token
    wrong = world.client.post("/console/users/alice/mfa/enable", data={
        "serial_number": serial.group(1), "code1": "000000", "code2": "111111", "csrf_token": token.group(1)})
    assert wrong.status_code == 403 or wrong.status_code == 400
    assert 'id="mfa-enable-form"' in wrong.text and 'id="error"' in wrong.text and seed.group(1) not in wrong.text
    done = world.client.post("/console/users/alice/mfa/enable", data={
        "serial_number": serial.group(1), "code1": totp.at(now - 30), "code2": totp.at(now),
        "csrf_token": token.group(1)})
    assert done.status_code == 200 and "assigned" in done.text
    assert api(world.app, "ListMFADevices", UserName="alice")["MFADevices"][0]["SerialNumber"] == serial.group(1)


def test_password_reset_attach_tag_and_group_changes(world: Browser) -> None:
    app = world.app
    world.submit("/console/users/alice?tab=security", "/console/users/alice/password",
                 {"password": "Alice-Passw0rd-1234", "password_reset_required": "true"})
    assert api(app, "GetLoginProfile", UserName="alice")["LoginProfile"]["PasswordResetRequired"] is True
    world.submit("/console/users/alice?tab=security", "/console/users/alice/password",
                 {"password": "Alice-Passw0rd-5678", "exists": "1"})
    assert api(app, "GetLoginProfile", UserName="alice")["LoginProfile"]["PasswordResetRequired"] is False
    world.submit("/console/users/alice", "/console/users/alice/policies/attach", {"policy": "ReadOnlyAccess"})
    assert api(app, "ListAttachedUserPolicies", UserName="alice")["AttachedPolicies"][0]["PolicyName"] == \
        "ReadOnlyAccess"
    world.submit("/console/users/alice?tab=tags", "/console/users/alice/tags/add",
                 {"tag_key": "team", "tag_value": "blue"})
    assert api(app, "ListUserTags", UserName="alice")["Tags"] == [{"Key": "team", "Value": "blue"}]
    world.submit("/console/users/alice?tab=groups", "/console/users/alice/groups/remove", {"group_name": "devs"})
    assert api(app, "ListGroupsForUser", UserName="alice")["Groups"] == []
    missing = world.submit("/console/users/alice", "/console/users/alice/policies/attach", {"policy": "NoSuchOne"})
    assert missing.status_code == 404 and "No managed policy is named NoSuchOne" in missing.text


def test_role_created_from_a_template_and_its_trust_edited(root: Browser) -> None:
    form = root.get("/console/create/role?template=account")
    assert "arn:aws:iam::" in form.text and 'id="template-saml"' in form.text
    document = re.search(r'<textarea id="trust_policy"[^>]*>([^<]*)</textarea>', form.text)
    assert document
    from html import unescape

    got = root.submit("/console/create/role", "/console/create/role", {
        "role_name": "cross", "trust_policy": unescape(document.group(1)), "policies": "ReadOnlyAccess",
        "description": "from another account"})
    assert got.status_code == 200 and "Role cross created." in got.text, got.text[:3000]
    bad = root.submit("/console/roles/cross?tab=trust", "/console/roles/cross/trust", {"trust_policy": "{nope"})
    assert bad.status_code == 400 and 'id="error-code">MalformedPolicyDocument<' in bad.text and "{nope" in bad.text
    root.submit("/console/roles/cross?tab=trust", "/console/roles/cross/trust", {"trust_policy": TRUST})
    assert "ec2.amazonaws.com" in api(root.app, "GetRole", RoleName="cross")["Role"]["AssumeRolePolicyDocument"]
    done = root.submit("/console/roles/cross", "/console/roles/cross/delete", {})
    assert "Role cross deleted." in done.text


@BOTH
def test_deleting_entities_with_what_hangs_on_them(world: Browser) -> None:
    api(world.app, "AttachGroupPolicy", GroupName="devs", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    api(world.app, "CreateAccessKey", UserName="alice")
    for page, action, done in (("/console/users/alice", "/console/users/alice/delete", "User alice deleted."),
                               ("/console/groups/devs", "/console/groups/devs/delete", "Group devs deleted."),
                               ("/console/instance-profiles/app-profile",
                                "/console/instance-profiles/app-profile/delete",
                                "Instance profile app-profile deleted."),
                               ("/console/roles/app", "/console/roles/app/delete", "Role app deleted.")):
        got = world.submit(page, action, {})
        assert got.status_code == 200 and done in got.text, got.text[:2000]
    summary = api(world.app, "GetAccountSummary")["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["InstanceProfiles"]) == (0, 0, 0, 0)


@BOTH
def test_a_read_only_user_sees_pages_and_is_told_why_a_change_is_refused(reader: Browser) -> None:
    for page in ("/console", "/console/users", "/console/groups/readers", "/console/users/reader?tab=security",
                 "/console/roles", "/console/create/user"):
        got = reader.get(page)
        assert got.status_code == 200, (page, got.text[:2000])
    refused = reader.submit("/console/create/user", "/console/create/user", {"user_name": "mallory"})
    assert refused.status_code == 403
    assert 'id="error-title">Not authorized<' in refused.text
    assert "is not authorized to perform: iam:CreateUser" in refused.text
    assert 'value="mallory"' in refused.text  # the form keeps what was typed
    assert all(u["UserName"] != "mallory" for u in api(reader.app, "ListUsers")["Users"])
    key = reader.submit("/console/users/reader?tab=security", "/console/users/reader/access-keys/create", {})
    assert key.status_code == 403 and "iam:CreateAccessKey" in key.text


@BOTH
def test_console_calls_are_in_the_audit_trail(root: Browser) -> None:
    root.submit("/console/create/user", "/console/create/user", {"user_name": "traced"})
    trail = root.app.services.trail
    assert trail is not None
    trail.flush()
    from gatehouse.model import RequestMeta

    services = root.app.services
    caller = services.authenticator.account_root(services.account_security.default_account(),
                                                 RequestMeta(request_id="t"))
    events = services.endpoint.call(caller, "cloudtrail", "LookupEvents", {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}]})["Events"]
    made = [e for e in events if '"traced"' in e.get("CloudTrailEvent", "")]
    assert made and made[0]["Username"] == "root"


def test_names_with_every_allowed_character_round_trip(root: Browser) -> None:
    name = "a+b=c,d.e@f_g-h"
    got = root.submit("/console/create/user", "/console/create/user", {"user_name": name})
    assert got.status_code == 200 and f"User {name} created." in got.text and 'id="entity-name">' + name in got.text
    root.submit("/console/users?q=a", "/console/users/a%2Bb%3Dc%2Cd.e%40f_g-h/tags/add",
                {"tag_key": "k", "tag_value": "v"})
    assert api(root.app, "ListUserTags", UserName=name)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_permissions_boundaries(world: Browser) -> None:
    for kind, name in (("users", "alice"), ("roles", "app")):
        got = world.submit(f"/console/{kind}/{name}", f"/console/{kind}/{name}/boundary", {"policy": "ReadOnlyAccess"})
        assert got.status_code == 200 and "Permissions boundary set" in got.text
        assert "arn:aws:iam::aws:policy/ReadOnlyAccess</code> limits" in got.text
        got = world.submit(f"/console/{kind}/{name}", f"/console/{kind}/{name}/boundary/delete", {})
        assert "Permissions boundary removed." in got.text and "No permissions boundary." in got.text


def test_a_user_without_permissions_sees_why_on_every_section(browser: Browser) -> None:
    api(browser.app, "CreateUser", UserName="nobody")
    api(browser.app, "CreateLoginProfile", UserName="nobody", Password="Nobody-Passw0rd-1")
    browser.sign_in("nobody", "Nobody-Passw0rd-1")
    page = browser.get("/console")
    assert page.status_code == 200 and "is not authorized to perform: iam:GetAccountSummary" in page.text
    assert 'data-status="unknown"' in page.text
    users = browser.get("/console/users")
    assert users.status_code == 403 and 'id="error-title">Not authorized<' in users.text
    assert "iam:ListUsers" in users.text and 'id="principal-name">nobody<' in users.text


def test_an_oversized_form_is_refused(root: Browser) -> None:
    got = root.client.post("/console/create/user", data={"user_name": "x" * (600 * 1024),
                                                         "csrf_token": root.token("/console")})
    assert got.status_code == 413 and "too large" in got.text
