"""The router's contract with the service models: what is served is listed in docs/operations.md, and every
operation of a model that has no handler is answered InvalidAction, never a server error (a newer botocore adds
operations Gatehouse has not built yet)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatehouse.app import Application
from gatehouse.services.operation import is_operation, operation
from gatehouse.wire.dispatch import Router, RouterContractError
from gatehouse.wire.service_models import ServiceModels
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
        if router.models.service(service).protocol == "json":
            status, body = _json_call(app, service, name)
            assert (status, json.loads(body)["__type"]) == (400, "UnknownOperationException"), (service, name)
            continue
        answer = call(app, service, name)
        assert (answer.status, answer.code) == (400, "InvalidAction"), (service, name, answer.body[:300])


def _json_call(app: Application, service: str, name: str) -> tuple[int, bytes]:
    """A signed JSON 1.1 request for `name`, as botocore sends it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from starlette.datastructures import Headers

    assert app.asgi is not None
    prefix = app.asgi.endpoint.router.models.service(service).model.metadata["targetPrefix"]
    request = AWSRequest("POST", "http://127.0.0.1:4599/", data=b"{}",
                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{prefix}.{name}",
                                  "Host": "127.0.0.1:4599"})
    SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
    return app.asgi.endpoint.handle("POST", "/", "", Headers(headers=dict(request.headers)), b"{}", "127.0.0.1",
                                    False)


def test_the_command_prints_the_same_listing() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "gatehouse", "serve", "--list-operations"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out == DOCS.read_text()


class _Handlers:
    """Stand-in use cases: one real operation, one helper, and whatever a case adds."""

    @operation
    def get_user(self, caller: object, user_name: str | None = None) -> dict[str, object]:
        return {"User": {"UserName": user_name}}

    def helper(self) -> None:  # public but unmarked: never routed, never an error
        return None


class _Typo(_Handlers):
    @operation
    def get_usr(self, caller: object) -> dict[str, object]:
        return {}


@pytest.mark.parametrize(("handlers", "problem"), [
    # A misspelt operation fails at start-up, not as InvalidAction in production.
    ({"iam": [_Typo()]}, "_Typo.get_usr is marked @operation but names no operation"),
    # An operation of STS marked on an object that serves only IAM names nothing IAM has.
    ({"iam": [type("Sts", (), {"get_caller_identity": operation(lambda self, caller: {})})()]},
     "get_caller_identity is marked @operation"),
    # Two objects answering one operation: which one runs would depend on the order of a list.
    ({"iam": [_Handlers(), _Handlers()]}, "iam:GetUser is answered by 2 handlers"),
], ids=["typo", "wrong-service", "twice"])
def test_the_router_refuses_handlers_that_break_its_contract(handlers: dict[str, list[object]], problem: str) -> None:
    with pytest.raises(RouterContractError, match=problem):
        Router(ServiceModels(), handlers)


def test_only_marked_methods_are_routed() -> None:
    router = Router(ServiceModels(), {"iam": [_Handlers()]})
    assert router.operations("iam") == ["GetUser"]  # `helper` is public but unmarked


def test_every_served_operation_is_a_marked_method(app: Application) -> None:
    assert app.asgi is not None
    router = app.asgi.endpoint.router
    served = [router.route(service, name) for service in router.services() for name in router.operations(service)]
    assert len(served) > 150
    assert all(is_operation(route.call) for route in served)
