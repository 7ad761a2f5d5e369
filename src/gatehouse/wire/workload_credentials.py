"""The container credentials endpoint of registered workloads (services/workloads.py):

    GET <public URL path>/_gatehouse/workload-credentials
    Authorization: <the workload's token>

what the AWS SDKs read from AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN (sent verbatim
in `Authorization`). 200 with `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"}`; 401 for a
missing, unknown or revoked token, 403 when the workload cannot get a session now, 429 once an address has sent
too many bad tokens. The work (token look-up, issuing) runs in the API's bounded worker threads, never on the event
loop. Every answer to a known workload is recorded in the audit trail as Gatehouse's GetWorkloadCredentials (the
workload id, and the access key id of the session it obtained).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatehouse.services.audit.calls import ApiCall, CallRecorder, new_event_id
from gatehouse.services.workloads import CredentialsRefused, IssuedSession, Workloads
from gatehouse.wire.call_records import CallRecords
from gatehouse.wire.limits import Executor
from gatehouse.wire.service_models import ServiceModels

CREDENTIALS_PATH = "/_gatehouse/workload-credentials"
_OPERATION = "GetWorkloadCredentials"
_NO_STORE = {"Cache-Control": "no-store"}


class FailedAttempts:
    """Bad tokens per address: past `limit` in `window` seconds the address is refused (429) until the window
    ends, before any look-up. Bounded: the least recently failing addresses are forgotten first."""

    def __init__(self, limit: int = 20, window: float = 60.0, entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.entries, self.clock = limit, window, entries, clock
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, address: str) -> bool:
        with self._lock:
            found = self._seen.get(address)
            return found is not None and self.clock() - found[0] < self.window and found[1] >= self.limit

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            start, count = self._seen.pop(address, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            self._seen[address] = (start, count + 1)
            while len(self._seen) > self.entries:
                self._seen.popitem(last=False)


def workload_credentials_routes(workloads: Workloads, executor: Executor, recorder: CallRecorder,
                                models: ServiceModels, clock: Callable[[], datetime], prefix: str = "",
                                attempts: FailedAttempts | None = None) -> list[Route]:
    attempts = attempts or FailedAttempts()
    records = CallRecords()
    operation = models.operation("gatehouse", _OPERATION)

    def answer(token: str | None, address: str, user_agent: str) -> tuple[int, dict[str, Any]]:
        request_id, when = str(uuid.uuid4()), clock()
        try:
            session = workloads.credentials_for_token(token)
        except CredentialsRefused as refused:
            if refused.status == 401:
                attempts.failed(address)
            if refused.workload is not None:
                record(request_id, when, address, user_agent, refused.workload.account_id,
                       refused.workload.workload_id, None, refused)
            return refused.status, {"Code": "AccessDenied" if refused.status == 403 else "Unauthorized",
                                    "Message": refused.message}
        record(request_id, when, address, user_agent, session.workload.account_id, session.workload.workload_id,
               session, None)
        return 200, session.container_credentials()

    def record(request_id: str, when: datetime, address: str, user_agent: str, account_id: str, workload_id: str,
               session: IssuedSession | None, refused: CredentialsRefused | None) -> None:
        result = None if session is None else {"Credentials": session.result["Credentials"],
                                               "RoleArn": session.role_arn,
                                               "AssumedRoleUser": session.result["AssumedRoleUser"]}
        params = {"WorkloadId": workload_id}
        recorder.record(ApiCall(
            event_id=new_event_id(), request_id=request_id, time=when, service="gatehouse", operation=_OPERATION,
            region="us-east-1", source_ip=address, user_agent=user_agent, caller=None, account_id=account_id,
            access_key_id=None, read_only=True,
            request_parameters=records.request_parameters(operation, params) if operation else params,
            response_elements=(records.response_elements(operation, result) if operation and result else None),
            error_code=("AccessDenied" if refused.status == 403 else "InvalidToken") if refused else None,
            error_message=refused.message if refused else None))

    async def credentials(request: Request) -> Response:
        address = request.client.host if request.client else ""
        if attempts.blocked(address):
            return _json(429, {"Code": "Throttling", "Message": "Rate exceeded"})
        token = request.headers.get("authorization")
        status, body = await executor.run(f"workload:{address}", answer, token, address,
                                          request.headers.get("user-agent", ""))
        return _json(status, body)

    return [Route(f"{prefix}{CREDENTIALS_PATH}", credentials, methods=["GET"])]


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=_NO_STORE)
