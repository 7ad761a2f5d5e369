"""Sign-in form tokens against cross-site request forgery: a signed double submit.

`GET /signin` hands out a random nonce as a cookie and, for the page's form, a token naming when it was issued and
an HMAC of the nonce and that time under a key derived from the master key. A form post is taken only when its
token matches its cookie: another site can make a browser post a form, but can neither read our cookie nor mint a
token for it. Nothing is stored, so any replica with the master key checks any token. The rule that decides when a
token is needed (forms without a same-origin `Origin`) is the wire's (`wire/signin_http.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gatehouse.services.clock import Clock

LIFETIME = 7200  # a sign-in page left open for two hours still signs in
_FUTURE_SLACK = 60  # replicas' clocks may disagree a little


class SigninCsrf:
    def __init__(self, master_key: bytes, clock: Clock) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                         info=b"gatehouse sign-in csrf v1").derive(master_key)
        self.clock = clock

    def __repr__(self) -> str:
        return "SigninCsrf(<key>)"

    def issue(self) -> tuple[str, str]:
        """(cookie value, form token) for one sign-in page."""
        nonce = secrets.token_urlsafe(18)
        issued = int(self.clock().timestamp())
        return nonce, f"{issued}.{self._mac(nonce, issued)}"

    def token_for(self, nonce: str) -> str:
        """A fresh form token for a nonce the browser already holds (the console's pages: one cookie, a token per
        page, bound to the nonce and whatever else the caller folds into it)."""
        issued = int(self.clock().timestamp())
        return f"{issued}.{self._mac(nonce, issued)}"

    def valid(self, cookie: str, token: str) -> bool:
        """Whether `token` was issued by a holder of the master key for the nonce `cookie`, and is still current."""
        issued_text, _, mac = token.partition(".")
        if not (cookie and mac and issued_text.isascii() and issued_text.isdigit() and len(issued_text) <= 12):
            return False
        issued, now = int(issued_text), int(self.clock().timestamp())
        if not now - LIFETIME <= issued <= now + _FUTURE_SLACK:
            return False
        return hmac.compare_digest(mac.encode("utf-8", "replace"), self._mac(cookie, issued).encode())

    def _mac(self, nonce: str, issued: int) -> str:
        return hmac.new(self._key, f"{issued}|{nonce}".encode("utf-8", "replace"), hashlib.sha256).hexdigest()
