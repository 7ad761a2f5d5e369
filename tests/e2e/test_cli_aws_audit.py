"""The trail and the credential report through the AWS CLI itself (`aws cloudtrail lookup-events`,
`aws iam get-credential-report`), as an administrator would read them: the CLI's own pagination over NextToken,
a time window, and a report that Python's csv module parses."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_cli_aws import ok
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e


def test_lookup_events_with_the_cli_by_attribute_time_window_and_pages(gh: Endpoint) -> None:
    iam = gh.client("iam")
    names = [f"trail-cli-{i}" for i in range(5)]
    for name in names:
        iam.create_user(UserName=name)
    start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # --page-size 2 makes the CLI follow NextToken until every page is read.
    args = ["--lookup-attributes", "AttributeKey=EventName,AttributeValue=CreateUser", "--start-time", start,
            "--page-size", "2"]
    for _ in range(20):  # reads are appended in batches: give the writer thread a moment
        out = ok(gh.aws("cloudtrail", "lookup-events", *args))
        created = {json.loads(e["CloudTrailEvent"])["requestParameters"]["userName"] for e in out["Events"]}
        if set(names) <= created:
            break
        time.sleep(0.25)
    assert set(names) <= created
    assert all(e["EventName"] == "CreateUser" for e in out["Events"])
    first = ok(gh.aws("cloudtrail", "lookup-events", *args, "--max-items", "2"))
    assert len(first["Events"]) == 2 and first["NextToken"]
    # A window that ended before the calls finds none of them.
    before = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = ok(gh.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                    "AttributeKey=EventName,AttributeValue=CreateUser", "--end-time", before))
    assert not any(json.loads(e["CloudTrailEvent"])["requestParameters"]["userName"] in names for e in old["Events"])


def test_credential_report_with_the_cli_parses_as_csv(gh: Endpoint) -> None:
    iam = gh.client("iam")
    iam.create_user(UserName="reported")
    iam.create_access_key(UserName="reported")
    for _ in range(40):
        state = ok(gh.aws("iam", "generate-credential-report"))["State"]
        if state == "COMPLETE":
            break
        time.sleep(0.25)
    report = ok(gh.aws("iam", "get-credential-report"))
    assert report["ReportFormat"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(report["Content"]).decode())))
    by_user = {row["user"]: row for row in rows}
    assert by_user["reported"]["access_key_1_active"] == "true"
    assert by_user["reported"]["password_enabled"] == "false"
    assert by_user["reported"]["mfa_active"] == "false"
    assert "<root_account>" in by_user
