"""Event ids: CloudTrail's UUID form, time-ordered (RFC 9562 version 7) so the trail appends at its index's end."""

from __future__ import annotations

import time
import uuid

from gatehouse.services.audit.calls import new_event_id


def test_event_ids_are_version_7_uuids_in_time_order() -> None:
    first = new_event_id()
    time.sleep(0.002)
    later = [new_event_id() for _ in range(200)]
    for text in [first, *later]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and len(text) == 36
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert all(first < other for other in later)  # a later millisecond sorts after
    assert len(set(later)) == len(later)
    millis = uuid.UUID(first).int >> 80
    assert abs(millis - time.time_ns() // 1_000_000) < 60_000
