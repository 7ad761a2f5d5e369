"""`gatehouse.asgi`'s pure parts: route templates, the decision cache's bounds and TTL, and the cache key (a whole
request: any byte that differs, a signature, a header, the body, the context, is another key)."""

from __future__ import annotations

import pytest

from gatehouse.asgi import DecisionCache, Route, _cache_key


def test_routes_match_their_method_and_path_only() -> None:
    route = Route.parse("GET /notes/{id}/versions/{version}", "notes:GetNote", "arn:x:{id}")
    assert route.match("GET", "/notes/42/versions/7") == {"id": "42", "version": "7"}
    assert route.match("PUT", "/notes/42/versions/7") is None
    assert route.match("GET", "/notes/42/versions/7/x") is None
    assert route.match("GET", "/notes/a/b/versions/7") is None  # a variable never spans a slash
    assert Route.parse("get /a.b", "x:Y", "*").match("GET", "/a.b") == {}
    assert Route.parse("get /a.b", "x:Y", "*").match("GET", "/aXb") is None  # literal parts are literal
    with pytest.raises(ValueError):
        Route.parse("GET notes", "x:Y", "*")


def test_the_cache_is_bounded_and_forgets_after_its_ttl() -> None:
    now = [0.0]
    cache = DecisionCache(size=2, ttl=5, clock=lambda: now[0])
    for n in range(3):
        cache.put(bytes([n]), {"n": n})
    assert len(cache) == 2 and cache.get(b"\x00") is None  # least recently used left first
    assert cache.get(b"\x01") == {"n": 1}
    now[0] = 5.0
    assert cache.get(b"\x01") is None and cache.get(b"\x02") is None
    off = DecisionCache(size=10, ttl=0)
    off.put(b"k", {})
    assert off.get(b"k") is None


def test_any_difference_in_the_request_is_another_key() -> None:
    base = ("GET", b"/notes/1", "", {"authorization": "AWS4-HMAC-SHA256 ... Signature=aa", "x-amz-date": "1"}, b"",
            "notes:GetNote", "arn:aws:notes:us-east-1:123456789012:note/1", {"aws:SourceIp": "10.0.0.1"})
    key = _cache_key(*base)  # type: ignore[arg-type]
    assert key == _cache_key(*base)  # type: ignore[arg-type]
    changes = [
        (1, b"/notes/2"), (2, "a=b"), (3, {**base[3], "authorization": base[3]["authorization"][:-2] + "ab"}),  # type: ignore[index]
        (3, {**base[3], "x-amz-security-token": "t"}), (4, b"x"), (5, "notes:PutNote"), (6, "arn:other"),
        (7, {"aws:SourceIp": "10.0.0.2"}), (0, "HEAD")]
    for index, value in changes:
        changed = list(base)
        changed[index] = value
        assert _cache_key(*changed) != key, index  # type: ignore[arg-type]


def test_the_middleware_is_a_client_library() -> None:
    """Embedded in other applications, it must not bring Gatehouse's server layers along."""
    import subprocess
    import sys

    code = ("import sys, gatehouse.asgi; print(sorted(m for m in sys.modules if m.startswith('gatehouse.') and "
            "m != 'gatehouse.asgi'))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert found.stdout.strip() == "[]"
