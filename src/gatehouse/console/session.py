"""The console session: the cookie `POST /signin` and the console's sign-in form both set (a sealed temporary
credential of the sign-in service), turned into the `Caller` every page acts as.

The cookie is resolved exactly as the API resolves that session's credentials (`Authenticator.resolve`: the seal,
expiry, sign-out on any replica, the user still existing), so a page can do nothing the same session could not
do through the API. Only console sessions are accepted (claims the sign-in service marked `console`): the
credentials of GetSessionToken, put in the cookie's form, are not a way around the API's rule that such
sessions without MFA may not call IAM.

Between the steps of one sign-in (password, then a forced new password, then the MFA code) the sign-in service
needs every answer again (it keeps nothing), so the answers given so far are sealed (AES-GCM under the master key,
bound to this purpose) into a short-lived HttpOnly, SameSite=Strict cookie: the browser holds them unreadable for
five minutes and the page never shows them again.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass

from gatehouse.errors import AwsError
from gatehouse.model import Caller, RequestMeta, SessionKind
from gatehouse.services.secretbox import SealedSecretError, SecretBox
from gatehouse.services.signin import session_credentials

from .deps import ConsoleDeps

COOKIE = "gatehouse-session"  # the same cookie as POST /signin (wire/signin_http.COOKIE; a test holds them equal)
PENDING_COOKIE = "gatehouse-console-signin"
PENDING_SECONDS = 300
_PENDING_PURPOSE = "gatehouse console pending sign-in v1"

# The region a console request is made in: IAM's, in the account's partition (a caller's partition is its
# account's; the API refuses a region of another partition).
_HOME_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1",
                "aws-iso": "us-iso-east-1", "aws-iso-b": "us-isob-east-1", "aws-iso-f": "us-isof-south-1",
                "aws-iso-e": "eu-isoe-west-1", "aws-eusc": "eusc-de-east-1"}


@dataclass(frozen=True)
class BrowserFacts:
    """What the request says about the browser, for the caller's request context (aws:SourceIp, ...)."""

    source_ip: str
    user_agent: str
    secure: bool
    host: str


def caller_for(deps: ConsoleDeps, token: str, facts: BrowserFacts) -> Caller | None:
    """The signed-in principal of a session cookie; None when there is none (absent, altered, expired, signed
    out, or not a console session)."""
    if not token:
        return None
    key_id, sealed = session_credentials(token)
    if not sealed:
        return None
    try:
        credential = deps.authenticator.resolve(key_id, sealed)
    except AwsError:
        return None
    claims = credential.claims
    if claims is None or claims.kind is not SessionKind.USER_SESSION or not claims.console:
        return None  # GetSessionToken's credentials, say, do not open the console (nor role sessions)
    meta = RequestMeta(request_id=str(uuid.uuid4()), region=_HOME_REGION.get(credential.partition, "us-east-1"),
                       source_ip=facts.source_ip, user_agent=facts.user_agent, secure_transport=facts.secure,
                       time=deps.clock(), host=facts.host)
    try:
        return deps.authenticator.caller(credential, meta)
    except AwsError:
        return None


@dataclass(frozen=True)
class PendingSignin:
    """The answers of a sign-in in progress. Never printed."""

    password: str
    account: str | None = None
    username: str | None = None
    email: str | None = None
    new_password: str | None = None

    def __repr__(self) -> str:
        return f"PendingSignin(account={self.account!r}, username={self.username!r}, email={self.email!r})"


def seal_pending(box: SecretBox, pending: PendingSignin, now: float | None = None) -> str:
    body = {"p": pending.password, "a": pending.account, "u": pending.username, "e": pending.email,
            "n": pending.new_password, "x": int((now or time.time()) + PENDING_SECONDS)}
    return base64.urlsafe_b64encode(box.seal(json.dumps(body), _PENDING_PURPOSE)).decode().rstrip("=")


def open_pending(box: SecretBox, value: str, now: float | None = None) -> PendingSignin | None:
    if not value or len(value) > 4096:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        body = json.loads(box.open(raw, _PENDING_PURPOSE))
    except (binascii.Error, ValueError, SealedSecretError):
        return None
    if not isinstance(body, dict) or int(body.get("x", 0)) < (now or time.time()):
        return None
    return PendingSignin(password=str(body.get("p") or ""), account=body.get("a"), username=body.get("u"),
                         email=body.get("e"), new_password=body.get("n"))
