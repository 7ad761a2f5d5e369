"""The date values IAM accepts in `Date*` condition operators, and the instants they name.

IAM reads a `Date*` condition value with its "legacy" parser when a policy is saved and refuses what that parser
cannot read with "The policy failed legacy parsing" (LocalStack's AWS-validated test_iam_policies.snapshot.json,
invalid-64 to -75; moto's `_legacy_parse_date_condition_value` models the same grammar). Case is ignored; a value
holding a `t` or a `-` is an ISO 8601 date-time, anything else an epoch number of seconds:

* epoch: ASCII digits, 0 to 2^63 - 1 ("9223372036854775808" fails);
* date: an optional `-` and a year from -292275054 to 292278993, then optionally `-MM` (1-12) and `-DD` (1-31),
  no further part ("234-13" fails; "01T" and "-292275054" are dates);
* time, after `t`: optional `HH` (0-23), `:MM` (0-59), `:SS` (0-59) with an optional fraction of at most nine
  digits' worth ("00.1999999999" fails), then `z` or a zone offset `+HH` / `+HH:MM` whose hours have two digits
  ("+1" fails; "+23" is fine). AWS's parser is lenient beyond ISO 8601: one-digit hours ("t2:00:00") pass.

moto checks only `+` offsets; a `-HH:MM` offset is read the same way here (ISO 8601 allows both, and AWS's own
examples use them), which no recorded AWS answer contradicts.
"""

from __future__ import annotations

import functools
import re

_DIGITS = re.compile(r"[0-9]+")
_MAX_EPOCH = 2**63 - 1
_MIN_YEAR, _MAX_YEAR = -292275054, 292278993


def _number(text: str, low: int, high: int) -> int | None:
    """`text` as an integer of ASCII digits (with an optional leading `-`) within [low, high]; None otherwise."""
    digits = text[1:] if text.startswith("-") else text
    if not _DIGITS.fullmatch(digits):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar, for any year (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _zone(text: str) -> tuple[str, int] | None:
    """Split `SS[.fff](z|+HH[:MM]|-HH[:MM])` into the seconds text and the zone offset in seconds."""
    if "z" in text:
        seconds, _, rest = text.partition("z")
        return (seconds, 0) if rest == "" else None
    for sign, factor in (("+", 1), ("-", -1)):
        if sign in text:
            seconds, _, zone = text.partition(sign)
            hours, colon, minutes = zone.partition(":")
            if len(hours) != 2 or (hh := _number(hours, 0, 23)) is None:
                return None
            mm = 0
            if colon:
                if len(minutes) != 2 or (m := _number(minutes, 0, 59)) is None:
                    return None
                mm = m
            return seconds, factor * (hh * 3600 + mm * 60)
    return text, 0


def _iso(text: str) -> float | None:
    date, _, time = text.partition("t")
    negative = date.startswith("-")
    parts = (date[1:] if negative else date).split("-")
    if len(parts) > 3:
        return None
    year = _number(("-" if negative else "") + parts[0], _MIN_YEAR, _MAX_YEAR)
    month = _number(parts[1], 1, 12) if len(parts) > 1 else 1
    day = _number(parts[2], 1, 31) if len(parts) > 2 else 1
    if year is None or month is None or day is None:
        return None
    seconds = 0.0
    pieces = time.split(":")
    if len(pieces) == 4 and ("+" in pieces[2] or "-" in pieces[2]):  # zone minutes after a colon
        pieces = [pieces[0], pieces[1], pieces[2] + ":" + pieces[3]]
    if len(pieces) > 3:
        return None
    if pieces[0] != "":
        hours = _number(pieces[0], 0, 23)
        if hours is None:
            return None
        seconds += hours * 3600
    if len(pieces) > 1:
        minutes = _number(pieces[1], 0, 59)
        if minutes is None:
            return None
        seconds += minutes * 60
    if len(pieces) > 2:
        zoned = _zone(pieces[2])
        if zoned is None:
            return None
        whole, dot, fraction = zoned[0].partition(".")
        secs = _number(whole, 0, 59)
        if secs is None:
            return None
        if dot:
            if _number(fraction, 0, 999_999_999) is None:
                return None
            seconds += int(fraction) / 10 ** len(fraction)
        seconds += secs - zoned[1]
    return _days_from_civil(year, month, day) * 86400.0 + seconds


@functools.lru_cache(maxsize=4096)
def aws_date(text: str) -> float | None:
    """Epoch seconds of a `Date*` condition value as IAM's legacy parser reads it; None when it cannot."""
    lowered = text.lower()
    if "t" in lowered or "-" in lowered:
        return _iso(lowered)
    epoch = _number(lowered, 0, _MAX_EPOCH)
    return None if epoch is None else float(epoch)
