"""AWS-shaped identifiers: unique ids (AIDA…, AGPA…, AROA…), access key ids (AKIA…) and secrets.

AWS unique ids are a four-letter type prefix and 17 characters of base32 (upper-case letters and 2-7); access
key ids are 20 characters. All come from the operating system's CSPRNG.
"""

from __future__ import annotations

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


def access_key_id(prefix: str = Prefix.ACCESS_KEY) -> str:
    return prefix + "".join(secrets.choice(_BASE32) for _ in range(16))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def account_id() -> str:
    first = secrets.choice("123456789")
    return first + "".join(secrets.choice(string.digits) for _ in range(11))
