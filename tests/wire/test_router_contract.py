"""The router's contract with the service models: what is served is listed in docs/operations.md, and every
operation of a model that has no handler is answered InvalidAction, never a server error (a newer botocore adds
operations Gatehouse has not built yet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gatehouse.app import Application
from tests.security.support import call, new_app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    made = new_app()
    yield made
    made.close()


def test_docs_list_what_is_served(app: Application) -> None:
    assert app.asgi is not None
    assert DOCS.read_text() == app.asgi.endpoint.router.coverage_markdown(), (
        "docs/operations.md is out of date: regenerate it with `gatehouse serve --list-operations > "
        "docs/operations.md`")


def test_every_unserved_operation_is_an_invalid_action(app: Application) -> None:
    assert app.asgi is not None
    router = app.asgi.endpoint.router
    unserved = [(service, name) for service in router.services()
                for name in sorted(router.models.service(service).operation_names)
                if name not in router.operations(service)]
    assert unserved, "every operation is served: this test no longer tests anything; drop it"
    for service, name in unserved:
        answer = call(app, service, name)
        assert (answer.status, answer.code) == (400, "InvalidAction"), (service, name, answer.body[:300])


def test_the_command_prints_the_same_listing() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "gatehouse", "serve", "--list-operations"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out == DOCS.read_text()
