"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) for virtual MFA devices, and the
provisioning QR code an authenticator app scans.

Pure apart from the CSPRNG: callers pass the current time step. Which steps were already spent is the caller's
business (the device's `last_step` in the database), so that replicas share it.
"""

from __future__ import annotations

import base64
import hmac
import io
import secrets
import urllib.parse

import pyotp
import segno

STEP_SECONDS = 30
SEED_BYTES = 40  # AWS's Base32StringSeed is 64 base32 characters: 320 bits


def new_seed() -> str:
    return base64.b32encode(secrets.token_bytes(SEED_BYTES)).decode("ascii")


def step_at(epoch_seconds: float) -> int:
    return int(epoch_seconds // STEP_SECONDS)


def code_at(seed: str, step: int) -> str:
    return pyotp.TOTP(seed).generate_otp(step)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def matching_steps(seed: str, code: str, center: int, behind: int = 1, ahead: int = 1) -> list[int]:
    """The steps in [center - behind, center + ahead] whose code is `code`, newest first."""
    if not (len(code) == 6 and code.isdigit()):
        return []
    totp = pyotp.TOTP(seed)
    return [s for s in range(center + ahead, center - behind - 1, -1) if _same(totp.generate_otp(s), code)]


def consecutive_step(seed: str, first: str, second: str, center: int, behind: int, ahead: int) -> int | None:
    """The step of `second` when `first` and `second` are the codes of two consecutive steps within the window
    around `center` (EnableMFADevice and ResyncMFADevice ask for two in a row); None when they are not."""
    for step in matching_steps(seed, second, center, behind, ahead):
        if _same(code_at(seed, step - 1), first):
            return step
    return None


def provisioning_uri(seed: str, label: str, issuer: str | None = None) -> str:
    """The otpauth:// URI authenticator apps read (the Key Uri Format Google Authenticator defined)."""
    query = {"secret": seed}
    if issuer:
        query["issuer"] = issuer
    return f"otpauth://totp/{urllib.parse.quote(label, safe='@')}?{urllib.parse.urlencode(query)}"


def qr_png(uri: str, scale: int = 4) -> bytes:
    """A PNG QR code of `uri` (error correction M, the usual quiet zone), small enough to return inline."""
    out = io.BytesIO()
    segno.make_qr(uri, error="m").save(out, kind="png", scale=scale)
    return out.getvalue()
