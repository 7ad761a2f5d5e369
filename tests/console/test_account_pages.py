"""Account settings and the audit trail pages: the password policy, the alias, the credential report as CSV, and
the trail listing the calls the console just made, each through its operation as the signed-in principal."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.console.pages_support import ADMIN, READ_ONLY, World, world_fixture  # noqa: F401


def test_password_policy_edit_and_delete(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    page = browser.get("/console/account")
    assert page.status_code == 200 and "No password policy is set" in page.text
    saved = browser.post("/console/account/password-policy", {"minimum_length": "14", "require_symbols": "true",
                                                              "allow_change": "true", "max_age": "90"})
    assert "Password policy saved." in saved.text
    policy = world.iam("GetAccountPasswordPolicy")["PasswordPolicy"]
    assert (policy["MinimumPasswordLength"], policy["RequireSymbols"], policy["RequireNumbers"],
            policy["MaxPasswordAge"]) == (14, True, False, 90)
    refused = browser.post("/console/account/password-policy", {"minimum_length": "3"})
    assert refused.status_code == 400 and "ValidationError" in refused.text
    assert world.iam("GetAccountPasswordPolicy")["PasswordPolicy"]["MinimumPasswordLength"] == 14
    typo = browser.post("/console/account/password-policy", {"minimum_length": "ten"})
    assert typo.status_code == 400 and "enter a whole number" in typo.text
    browser.post("/console/account/password-policy/delete", {})
    with pytest.raises(Exception, match="cannot be found"):
        world.iam("GetAccountPasswordPolicy")


def test_account_alias(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    made = browser.post("/console/account/alias", {"account_alias": "pages-test"})
    assert 'id="current-alias">pages-test<' in made.text
    assert world.iam("ListAccountAliases")["AccountAliases"] == ["pages-test"]
    browser.post("/console/account/alias/delete", {"account_alias": "pages-test"})
    assert world.iam("ListAccountAliases")["AccountAliases"] == []


def test_credential_report_downloads_as_csv(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    generated = browser.post("/console/account/credential-report", {})
    assert "credential report" in generated.text
    got = browser.get("/console/account/credential-report.csv")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["user"] for r in rows] == ["<root_account>", "ada"]
    assert rows[1]["password_enabled"] == "true"


def test_read_only_user_sees_settings_but_cannot_change_them(world: World) -> None:
    world.user("rita", policies=(READ_ONLY,))
    browser = world.browser("rita")
    assert browser.get("/console/account").status_code == 200
    got = browser.post("/console/account/password-policy", {"minimum_length": "12"})
    assert got.status_code == 403
    assert "is not authorized to perform: iam:UpdateAccountPasswordPolicy" in got.text
    with pytest.raises(Exception, match="cannot be found"):
        world.iam("GetAccountPasswordPolicy")


def test_the_trail_lists_a_recent_call_with_its_record(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    browser = world.browser("ada")
    browser.post("/console/account/alias", {"account_alias": "trail-test"})
    got = browser.get("/console/trail", params={"attribute": "EventName", "value": "CreateAccountAlias"})
    assert got.status_code == 200
    assert got.text.count('data-testid="trail-event"') == 1
    row = got.text.split('data-event-name="CreateAccountAlias"', 1)[1].split("</tr>", 1)[0]
    assert "<td>ada</td>" in row
    record = got.text.split('data-testid="trail-record">', 1)[1].split("</pre>", 1)[0]
    assert json.loads(record.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace(
        "&gt;", ">").replace("&amp;", "&"))["requestParameters"] == {"accountAlias": "trail-test"}
    everything = browser.get("/console/trail")
    assert 'data-event-name="CreateAccountAlias"' in everything.text
    assert 'data-event-name="ConsoleLogin"' in everything.text
    bad = browser.get("/console/trail", params={"start": "yesterday"})
    assert bad.status_code == 400 and "enter a date and time" in bad.text


def test_the_trail_refuses_a_caller_without_lookup_events(world: World) -> None:
    world.user("lee", inline={"list": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]})})
    got = world.browser("lee").get("/console/trail")
    assert got.status_code == 403
    assert "is not authorized to perform: cloudtrail:LookupEvents" in got.text


def test_sections_a_caller_may_not_read_say_why(world: World) -> None:
    world.user("lee", inline={"list": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]})})
    got = world.browser("lee").get("/console/account")
    assert got.status_code == 200
    policy = got.text.split('id="password-policy-denied"', 1)[1].split("</div>", 1)[0]
    assert "is not authorized to perform: iam:GetAccountPasswordPolicy" in policy
    alias = got.text.split('id="alias-denied"', 1)[1].split("</div>", 1)[0]
    assert "is not authorized to perform: iam:ListAccountAliases" in alias


def test_the_trail_pages_through_events(world: World) -> None:
    world.user("ada", policies=(ADMIN,))
    for _ in range(55):
        world.iam("GetAccountSummary")
    browser = world.browser("ada")
    first = browser.get("/console/trail", params={"attribute": "EventName", "value": "GetAccountSummary"})
    assert first.text.count('data-testid="trail-event"') == 50
    next_url = first.text.split('id="page-next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = browser.get(next_url)
    # 55 calls here, and the dashboard's own when the browser signed in.
    assert 5 <= second.text.count('data-testid="trail-event"') < 50
    ids = re.compile(r'data-testid="trail-event" data-event-name="[^"]*" id="([^"]+)"')
    assert not set(ids.findall(first.text)) & set(ids.findall(second.text))
    assert 'id="page-next"' not in second.text and 'id="page-first"' in second.text
