"""AWS-shaped identifiers: unique ids (AIDA…, AGPA…, AROA…), access key ids (AKIA…) and secrets.

AWS unique ids are a four-letter type prefix and 17 characters of base32 (upper-case letters and 2-7); access
key ids are 20 characters. All come from the operating system's CSPRNG.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string

_BASE32 = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


class Prefix:
    USER = "AIDA"
    GROUP = "AGPA"
    ROLE = "AROA"
    POLICY = "ANPA"
    INSTANCE_PROFILE = "AIPA"
    ACCESS_KEY = "AKIA"
    TEMP_ACCESS_KEY = "ASIA"
    SERVER_CERTIFICATE = "ASCA"
    SSH_KEY = "APKA"
    SERVICE_CREDENTIAL = "ACCA"


def unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_BASE32) for _ in range(17))


def access_key_id(account_id: str, prefix: str = Prefix.ACCESS_KEY) -> str:
    """Like AWS's, an access key id names its account: 40 bits of account number and 40 random bits, in base32
    (16 characters after the prefix), so `GetAccessKeyInfo` answers for any key, even a temporary one."""
    raw = int(account_id).to_bytes(5, "big") + secrets.token_bytes(5)
    return prefix + base64.b32encode(raw).decode()


def account_of_key(key_id: str) -> str | None:
    """The account an access key id names, or None for an id that does not follow the scheme."""
    if len(key_id) != 20 or key_id[:4] not in (Prefix.ACCESS_KEY, Prefix.TEMP_ACCESS_KEY):
        return None
    try:
        raw = base64.b32decode(key_id[4:])
    except (binascii.Error, ValueError):
        return None
    number = int.from_bytes(raw[:5], "big")
    return f"{number:012d}" if number < 10**12 else None


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def account_id() -> str:
    first = secrets.choice("123456789")
    return first + "".join(secrets.choice(string.digits) for _ in range(11))
