"""The policy simulator evaluates only the page it returns: ActionNames × ResourceArns is unbounded in the model,
and a read-only principal (IAMReadOnlyAccess allows iam:Simulate*) must not be able to occupy the server."""

from __future__ import annotations

import time

from tests.security.support import ALLOW_ALL, new_app, ok


def test_only_the_requested_page_is_evaluated() -> None:
    app = new_app()
    try:
        count = 1500  # 2.25 million pairs: tens of seconds when every pair was decided up front
        params = {"PolicyInputList.member.1": ALLOW_ALL, "MaxItems": "3"}
        params |= {f"ActionNames.member.{i}": f"s3:Action{i}" for i in range(1, count + 1)}
        params |= {f"ResourceArns.member.{i}": f"arn:aws:s3:::bucket{i}" for i in range(1, count + 1)}
        start = time.perf_counter()
        first = ok(app, "iam", "SimulateCustomPolicy", params)
        assert time.perf_counter() - start < 5.0
        names = [(e.findtext("{*}EvalActionName"), e.findtext("{*}EvalResourceName"))
                 for e in first.xml.findall(".//{*}EvaluationResults/{*}member")]
        assert names == [("s3:Action1", "arn:aws:s3:::bucket1"), ("s3:Action1", "arn:aws:s3:::bucket2"),
                         ("s3:Action1", "arn:aws:s3:::bucket3")]
        assert first.text("IsTruncated") == "true"
        second = ok(app, "iam", "SimulateCustomPolicy", {**params, "Marker": first.text("Marker")})
        names = [e.findtext("{*}EvalResourceName") for e in second.xml.findall(".//{*}EvaluationResults/{*}member")]
        assert names == ["arn:aws:s3:::bucket4", "arn:aws:s3:::bucket5", "arn:aws:s3:::bucket6"]
    finally:
        app.close()


def test_last_page_is_not_truncated() -> None:
    app = new_app()
    try:
        params = {"PolicyInputList.member.1": ALLOW_ALL, "ActionNames.member.1": "s3:GetObject",
                  "ActionNames.member.2": "s3:PutObject", "MaxItems": "1"}
        first = ok(app, "iam", "SimulateCustomPolicy", params)
        second = ok(app, "iam", "SimulateCustomPolicy", {**params, "Marker": first.text("Marker")})
        assert second.text("IsTruncated") == "false"
        assert second.xml.find(".//{*}Marker") is None
        assert [e.text for e in second.xml.findall(".//{*}EvalActionName")] == ["s3:PutObject"]
    finally:
        app.close()
