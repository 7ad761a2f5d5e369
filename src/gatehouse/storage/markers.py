"""Opaque pagination markers: the last sort key handed out, in base64. Any store can issue and accept them."""

from __future__ import annotations

import base64
import binascii

from gatehouse.storage.repository import StaleMarker

_PREFIX = "gh1:"


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode((_PREFIX + key).encode()).decode().rstrip("=")


def decode_marker(marker: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise StaleMarker(marker) from e
    if not raw.startswith(_PREFIX):
        raise StaleMarker(marker)
    return raw[len(_PREFIX):]
