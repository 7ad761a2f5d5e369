"""The audit trail: the account's recorded calls and sign-ins, newest first, through CloudTrail's LookupEvents as
the signed-in principal (`cloudtrail:LookupEvents`). One lookup attribute at a time, as CloudTrail allows, and a
time window; each event's full record can be expanded."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from gatehouse.errors import AwsError

from ..web import BASE, Console, Problem, View

TRAIL = BASE + "/trail"
ATTRIBUTES = (("EventName", "Event name"), ("Username", "User name"), ("ResourceName", "Resource name"),
              ("ResourceType", "Resource type"), ("EventSource", "Event source"), ("AccessKeyId", "Access key id"),
              ("ReadOnly", "Read only (true/false)"), ("EventId", "Event id"))
PAGE_SIZE = 50


def _moment(raw: str, label: str) -> dt.datetime | None:
    """A `datetime-local` field's value, read as UTC."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{label}: enter a date and time such as 2026-12-06T09:30.") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _row(event: dict[str, Any]) -> dict[str, Any]:
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    outcome = record.get("errorCode") or ""
    if record.get("eventType") == "AwsConsoleSignIn":
        outcome = (record.get("responseElements") or {}).get("ConsoleLogin") or outcome
    when = event.get("EventTime")
    shown = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(when, dt.datetime) else ""
    return {"id": event.get("EventId", ""), "time": shown, "name": event.get("EventName", ""),
            "user": event.get("Username", ""), "source": event.get("EventSource", ""),
            "ip": record.get("sourceIPAddress", ""), "outcome": outcome or "Success",
            "failed": bool(record.get("errorCode")) or outcome == "Failure",
            "message": record.get("errorMessage", ""),
            "resources": [f"{r.get('ResourceType', '')} {r.get('ResourceName', '')}".strip()
                          for r in event.get("Resources") or ()],
            "record": json.dumps(record, indent=2, sort_keys=True)}


def _trail(view: View) -> Response:
    attribute = view.query.get("attribute", "EventName")
    attribute = attribute if attribute in dict(ATTRIBUTES) else "EventName"
    value = view.query.get("value", "").strip()
    start_text, end_text = view.query.get("start", ""), view.query.get("end", "")
    token = view.query.get("token") or None
    context: dict[str, Any] = {"attribute": attribute, "value": value, "start": start_text, "end": end_text,
                               "attributes": ATTRIBUTES, "rows": None, "next_url": None, "first_url": None}
    try:
        start, end = _moment(start_text, "From"), _moment(end_text, "To")
    except ValueError as e:
        return view.render("trail.html", section="trail", title="Audit trail", status=400,
                           error=Problem("Check the filters", "InvalidInput", str(e)), **context)
    params: dict[str, Any] = {"MaxResults": PAGE_SIZE, "StartTime": start, "EndTime": end, "NextToken": token}
    if value:
        params["LookupAttributes"] = [{"AttributeKey": attribute, "AttributeValue": value}]
    try:
        found = view.call("cloudtrail", "LookupEvents", params)
    except AwsError as e:
        return view.render("trail.html", section="trail", title="Audit trail", error=e,
                           status=e.http_status if e.http_status < 500 else 500, **context)
    query = {k: v for k, v in (("attribute", attribute if value else ""), ("value", value), ("start", start_text),
                               ("end", end_text)) if v}
    if found.get("NextToken"):
        context["next_url"] = TRAIL + "?" + urllib.parse.urlencode({**query, "token": found["NextToken"]})
    if token:
        context["first_url"] = TRAIL + ("?" + urllib.parse.urlencode(query) if query else "")
    context["rows"] = [_row(e) for e in found.get("Events") or ()]
    return view.render("trail.html", section="trail", title="Audit trail", **context)


def routes(console: Console) -> list[BaseRoute]:
    return [console.page(TRAIL)(_trail)]
