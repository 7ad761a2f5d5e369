"""What the console is given by the composition root (`app.py`): the services it calls and how it calls them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gatehouse.model import Caller
from gatehouse.services.authentication import Authenticator
from gatehouse.services.clock import Clock
from gatehouse.services.secretbox import SecretBox
from gatehouse.services.signin import Signin
from gatehouse.services.signin_csrf import SigninCsrf


class Invoke(Protocol):
    """One AWS operation as `caller` (`AwsEndpoint.call`): validated against the model, authorized, recorded; the
    result dict as the API returns it before serialization, or an AwsError."""

    def __call__(self, caller: Caller, service: str, action: str, params: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ConsoleDeps:
    signin: Signin  # password (+ MFA) sign-in and the console session cookie
    authenticator: Authenticator  # session cookie -> Caller, as the API resolves a session's credentials
    csrf: SigninCsrf  # signed form tokens (the same signer as GET /signin)
    box: SecretBox  # seals the sign-in held between its steps (MFA code, new password)
    clock: Clock
    invoke: Invoke
    public_url: str | None = None
    dev: bool = False
