"""SigV4 verification with botocore's signer (SigV4Auth, SigV4QueryAuth, generate_presigned_url) as the oracle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import quote, urlencode, urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from gatehouse.errors import (
    AwsError,
    IncompleteSignature,
    MissingAuthenticationToken,
    RequestExpired,
    SignatureDoesNotMatch,
)
from gatehouse.wire.sigv4 import (
    SIGNATURE_MISMATCH,
    SigV4Params,
    SigV4Verifier,
    canonical_headers,
    canonical_query_string,
    canonical_uri,
    derive_signing_key,
    parse_request_auth,
)

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime(2026, 11, 29, 5, 16, 5, tzinfo=UTC)
ENDPOINT = "http://127.0.0.1:4599"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass
class Wire:
    """A signed request as the server receives it: raw path and query, headers, body."""

    method: str
    path: str
    query: str
    headers: Headers
    body: bytes

    def parse(self) -> SigV4Params:
        return parse_request_auth(self.method, self.path, self.query, self.headers)

    def verify(self, verifier: SigV4Verifier, *, secret: str = SECRET, now: datetime = SIGNED_AT, **kw: bool) -> None:
        verifier.verify(self.parse(), self.method, self.path, self.query, self.headers, self.body, secret, now, **kw)

    def with_headers(self, **changes: str) -> Wire:
        replaced = {k.lower().replace("_", "-"): v for k, v in changes.items()}
        items = [(k, v) for k, v in self.headers.items() if k not in replaced] + list(replaced.items())
        return Wire(self.method, self.path, self.query, _headers(items), self.body)


def _headers(items: list[tuple[str, str]]) -> Headers:
    return Headers(raw=[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in items])


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment.replace(tzinfo=None)):
        yield


def _received(request: AWSRequest) -> Wire:
    prepared = request.prepare()
    url = urlsplit(prepared.url)
    items = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in items):
        items.append(("Host", url.netloc))
    body = prepared.body or b""
    return Wire(
        prepared.method, url.path or "/", url.query, _headers(items), body if isinstance(body, bytes) else body.encode()
    )


def sign(
    *,
    method: str = "POST",
    path: str = "/",
    query: str = "",
    body: bytes = b"Action=ListUsers&Version=2010-05-08",
    headers: dict[str, str] | None = None,
    service: str = "iam",
    region: str = "us-east-1",
    token: str | None = None,
    at: datetime = SIGNED_AT,
    secret: str = SECRET,
) -> Wire:
    url = f"{ENDPOINT}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": FORM, **(headers or {})})
    with _clock(at):
        SigV4Auth(Credentials(AKID, secret, token), service, region).add_auth(request)
    return _received(request)


def presign(
    *,
    method: str = "GET",
    query: str = "Action=GetCallerIdentity&Version=2011-06-15",
    expires: int = 900,
    token: str | None = None,
    at: datetime = SIGNED_AT,
    service: str = "sts",
    headers: dict[str, str] | None = None,
) -> Wire:
    request = AWSRequest(method=method, url=f"{ENDPOINT}/?{query}", headers=headers)
    with _clock(at):
        SigV4QueryAuth(Credentials(AKID, SECRET, token), service, "us-east-1", expires=expires).add_auth(request)
    return _received(request)


# --- the happy paths ----------------------------------------------------------------------------------------


def test_header_signed_query_request_verifies(verifier: SigV4Verifier) -> None:
    wire = sign()
    params = wire.parse()
    assert params.access_key_id == AKID
    assert (params.scope_date, params.region, params.service) == ("20261129", "us-east-1", "iam")
    assert params.credential_scope == "20261129/us-east-1/iam/aws4_request"
    assert params.date == SIGNED_AT and params.amz_date == "20261129T051605Z"
    assert params.signed_headers == ("content-type", "host", "x-amz-date")
    assert not params.is_presigned and params.expires is None and params.security_token is None
    wire.verify(verifier)


def test_session_token_header_is_reported_and_signed(verifier: SigV4Verifier) -> None:
    wire = sign(token="FQoGZXIvYXdzE//token+with/chars=")
    assert wire.parse().security_token == "FQoGZXIvYXdzE//token+with/chars="
    assert "x-amz-security-token" in wire.parse().signed_headers
    wire.verify(verifier)
    with pytest.raises(SignatureDoesNotMatch):
        wire.with_headers(x_amz_security_token="another").verify(verifier)


def test_aws_documented_signing_key_and_get_vanilla_vector(verifier: SigV4Verifier) -> None:
    # "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
    key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    # aws-sig-v4-test-suite, get-vanilla.
    headers = _headers(
        [
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ]
    )
    params = parse_request_auth("GET", "/", "", headers)
    verifier.verify(params, "GET", "/", "", headers, b"", SECRET, datetime(2015, 8, 30, 12, 40, tzinfo=UTC))


@pytest.mark.parametrize("service", ["iam", "sts"])
@pytest.mark.parametrize("http_method", [None, "GET"])
def test_boto3_presigned_urls_verify(service: str, http_method: str | None, verifier: SigV4Verifier) -> None:
    client = boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        aws_session_token="session-token",
    )
    operation = "get_caller_identity" if service == "sts" else "list_users"
    with _clock(SIGNED_AT):
        url = client.generate_presigned_url(operation, ExpiresIn=300, HttpMethod=http_method)
    parts = urlsplit(url)
    wire = Wire(http_method or "POST", parts.path, parts.query, _headers([("Host", parts.netloc)]), b"")
    params = wire.parse()
    assert params.is_presigned and params.expires == 300 and params.security_token == "session-token"
    wire.verify(verifier, now=SIGNED_AT + timedelta(seconds=299))
    with pytest.raises(RequestExpired) as caught:
        wire.verify(verifier, now=SIGNED_AT + timedelta(seconds=301))
    assert caught.value.message == "Request has expired."
    tampered = Wire(wire.method, wire.path, wire.query.replace("Version=", "Version=1"), wire.headers, b"")
    with pytest.raises(SignatureDoesNotMatch):
        tampered.verify(verifier)


def test_date_header_instead_of_x_amz_date(verifier: SigV4Verifier) -> None:
    wire = sign(headers={"Date": "placeholder"})  # botocore then signs the RFC 7231 Date header
    assert wire.headers.get("x-amz-date") is None
    assert wire.headers["date"] == "Sun, 29 Nov 2026 05:16:05 -0000"
    assert wire.parse().amz_date == "20261129T051605Z"
    wire.verify(verifier)
    assert wire.with_headers(date="Sun, 29 Nov 2026 05:16:05 GMT").parse().date == SIGNED_AT


_SEGMENT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)
_PARAM = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    segments=st.lists(_SEGMENT, max_size=4),
    trailing_slash=st.booleans(),
    params=st.lists(st.tuples(_PARAM, _PARAM), max_size=5),
    extra=st.dictionaries(
        st.sampled_from(["X-Amz-Meta-A", "X-Custom", "Accept", "User-Agent", "X-Amz-Target"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
        max_size=3,
    ),
    body=st.binary(max_size=64),
    token=st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30),
)
def test_anything_botocore_signs_verifies(
    method: str,
    segments: list[str],
    trailing_slash: bool,
    params: list[tuple[str, str]],
    extra: dict[str, str],
    body: bytes,
    token: str | None,
    verifier: SigV4Verifier,
) -> None:
    path = "/" + "/".join(quote(s, safe="") for s in segments) + ("/" if trailing_slash and segments else "")
    query = urlencode(params, quote_via=quote)
    wire = sign(method=method, path=path, query=query, body=body, headers=extra, token=token)
    wire.verify(verifier)
    with pytest.raises(SignatureDoesNotMatch):
        Wire(wire.method, wire.path, wire.query, wire.headers, body + b"!").verify(verifier)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.lists(st.tuples(_PARAM.filter(lambda k: not k.startswith("X-Amz-")), _PARAM), max_size=5),
    expires=st.integers(1, 604800),
)
def test_anything_botocore_presigns_verifies(
    params: list[tuple[str, str]], expires: int, verifier: SigV4Verifier
) -> None:
    wire = presign(query=urlencode(params, quote_via=quote), expires=expires)
    wire.verify(verifier, now=SIGNED_AT + timedelta(seconds=expires))


def test_canonical_forms() -> None:
    assert canonical_uri("") == "/"
    assert canonical_uri("/a/./b/../c//d/") == "/a/c/d/"
    assert canonical_uri("/foo%20bar/~x") == "/foo%2520bar/~x"  # encoded again: the non-S3 double encoding
    assert canonical_query_string("b=2&a=3&a=1&c") == "a=1&a=3&b=2&c="
    assert canonical_query_string("k=a+b&s=%7e%2f&X-Amz-Signature=x", presigned=True) == "k=a%20b&s=~%2F"


def _spec_header_value(_signer: object, value: str) -> str:
    """The specification's Trimall, written out independently of both botocore and Gatehouse: trim leading and
    trailing spaces (and HTTP's optional tabs), make sequential spaces one space."""
    return re.sub(" +", " ", value.strip(" \t"))


OTHER_WHITESPACE = ["\t", "\xa0", "\x85"]


def test_botocore_spaces_collapse_as_signed(verifier: SigV4Verifier) -> None:
    """Runs of SP inside and SP at the ends: botocore and the specification agree, so botocore's signature holds."""
    sign(headers={"X-Custom": "  a   b  c "}).verify(verifier)
    assert canonical_headers(("x-custom",), _headers([("x-custom", " \ta  b\t ")])) == "x-custom:a b\n"


@pytest.mark.parametrize("char", OTHER_WHITESPACE)
def test_other_whitespace_is_part_of_a_signed_header_value(char: str, verifier: SigV4Verifier) -> None:
    """[Step 1: CanonicalHeaders] collapses spaces only: a signature over "a b" must not also sign "a<TAB>b",
    "a<NBSP>b" or "a<NEL>b" (Python's str.split() folds all three into one space)."""
    signed = sign(headers={"X-Custom": "a b"})
    signed.verify(verifier)
    assert _mismatch(signed.with_headers(x_custom=f"a{char}b"), verifier).message == SIGNATURE_MISMATCH
    assert canonical_headers(("x-custom",), _headers([("x-custom", f"a{char}{char}b")])) == f"x-custom:a{char}{char}b\n"
    # Signed by the specification's rule, the value verifies as sent.
    with mock.patch.object(SigV4Auth, "_header_value", _spec_header_value):
        sign(headers={"X-Custom": f"a{char}  b"}).verify(verifier)
    # botocore's own rule (' '.join(value.split())) folds the character into a space: a known divergence.
    with pytest.raises(SignatureDoesNotMatch):
        sign(headers={"X-Custom": f"a{char}b"}).verify(verifier)


# --- rejections -------------------------------------------------------------------------------------------


def _mismatch(wire: Wire, verifier: SigV4Verifier, **kw: object) -> SignatureDoesNotMatch:
    with pytest.raises(SignatureDoesNotMatch) as caught:
        wire.verify(verifier, **kw)  # type: ignore[arg-type]
    return caught.value


def test_wrong_secret(verifier: SigV4Verifier) -> None:
    error = _mismatch(sign(), verifier, secret="not-the-secret")
    assert error.message == SIGNATURE_MISMATCH
    assert error.code == "SignatureDoesNotMatch" and error.http_status == 403
    assert "not-the-secret" not in repr(error) and SECRET not in repr(error)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda w: Wire(w.method, w.path, w.query, w.headers, b"Action=DeleteUser&Version=2010-05-08"),
        lambda w: Wire("PUT", w.path, w.query, w.headers, w.body),
        lambda w: Wire(w.method, "/other", w.query, w.headers, w.body),
        lambda w: Wire(w.method, w.path, "Extra=1", w.headers, w.body),
        lambda w: w.with_headers(content_type="text/plain"),
        lambda w: w.with_headers(host="evil.example:4599"),
        lambda w: w.with_headers(Authorization=w.headers["authorization"].replace("us-east-1", "eu-west-1")),
        lambda w: w.with_headers(Authorization=w.headers["authorization"].replace("/iam/", "/sts/")),
        lambda w: w.with_headers(Authorization=w.headers["authorization"].replace("Signature=", "Signature=0")),
        lambda w: w.with_headers(Authorization=w.headers["authorization"].replace(";x-amz-date", "")),
    ],
)
def test_tampered_requests_fail(tamper: object, verifier: SigV4Verifier) -> None:
    assert _mismatch(tamper(sign()), verifier).message == SIGNATURE_MISMATCH  # type: ignore[operator]


def test_declared_payload_hash_must_match_the_body(verifier: SigV4Verifier) -> None:
    body = b"Action=ListUsers&Version=2010-05-08"
    import hashlib

    good = sign(headers={"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()}, body=body)
    good.verify(verifier)
    # A forged body with the old declared hash: the signature covers the declaration, the declaration is checked.
    assert _mismatch(Wire(good.method, good.path, good.query, good.headers, b"Action=DeleteUser"), verifier)
    unsigned = sign(headers={"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}, body=body)
    assert _mismatch(unsigned, verifier).message == SIGNATURE_MISMATCH  # header auth must sign its body


def test_presigned_unsigned_payload_is_accepted_and_flagged(verifier: SigV4Verifier) -> None:
    # botocore signs the declared hash when the header is set; non-S3 presigned URLs otherwise sign the body's.
    wire = presign(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    params = wire.parse()
    assert params.unsigned_payload and "x-amz-content-sha256" in params.signed_headers
    Wire(wire.method, wire.path, wire.query, wire.headers, b"anything").verify(verifier)
    signed_body = presign()
    assert not signed_body.parse().unsigned_payload
    with pytest.raises(SignatureDoesNotMatch):
        Wire("GET", "/", signed_body.query, signed_body.headers, b"a body the signer never saw").verify(verifier)


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (
            timedelta(minutes=15, seconds=1),
            "Signature expired: 20261129T051605Z is now earlier than 20261129T051606Z (20261129T053106Z - 15 min.)",
        ),
        (
            -timedelta(minutes=15, seconds=1),
            "Signature not yet current: 20261129T051605Z is still later than 20261129T051604Z "
            "(20261129T050104Z + 15 min.)",
        ),
    ],
)
def test_clock_skew_beyond_fifteen_minutes(offset: timedelta, message: str, verifier: SigV4Verifier) -> None:
    wire = sign()
    assert _mismatch(wire, verifier, now=SIGNED_AT + offset).message == message
    wire.verify(verifier, now=SIGNED_AT + offset, check_skew=False)
    wire.verify(
        verifier, now=SIGNED_AT + offset - (timedelta(seconds=1) if offset > timedelta(0) else -timedelta(seconds=1))
    )


def test_presigned_request_from_the_future_is_not_yet_current(verifier: SigV4Verifier) -> None:
    wire = presign(expires=3600)
    error = _mismatch(wire, verifier, now=SIGNED_AT - timedelta(minutes=16))
    assert error.message.startswith("Signature not yet current: 20261129T051605Z is still later than")


def test_missing_authentication() -> None:
    with pytest.raises(MissingAuthenticationToken) as caught:
        parse_request_auth("POST", "/", "Action=ListUsers", _headers([("Host", "h")]))
    assert caught.value.message == "Request is missing Authentication Token"
    assert caught.value.http_status == 403


@pytest.mark.parametrize(
    ("authorization", "date", "message"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/iam/aws4_request",
            None,
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
            "parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            "Authorization=AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/iam/aws4_request",
        ),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
            "20261129T051605Z",
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
            "parameter. Authorization header requires 'SignedHeaders' parameter. "
            "Authorization=Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
        ),
        (
            "AWS4-HMAC-SHA256 Credential= AKID/20261129/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab",
            "20261129T051605Z",
            "'AKID/20261129/us-east-1/iam/aws4_request' not a valid key=value pair (missing equal-sign) in "
            "Authorization header: 'AWS4-HMAC-SHA256 Credential= AKID/20261129/us-east-1/iam/aws4_request, "
            "SignedHeaders=host, Signature=ab'.",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/iam, SignedHeaders=host, Signature=ab",
            "20261129T051605Z",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got "
            "'AKID/20261129/us-east-1/iam'",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab",
            "2026-11-29T05:16:05Z",
            "Date must be in ISO-8601 'basic format'. Got '2026-11-29T05:16:05Z'. See http://en.wikipedia.org/wiki/"
            "ISO_8601",
        ),
    ],
)
def test_malformed_authorization_is_an_incomplete_signature(authorization: str, date: str | None, message: str) -> None:
    items = [("Host", "h"), ("Authorization", authorization)] + ([("X-Amz-Date", date)] if date else [])
    with pytest.raises(IncompleteSignature) as caught:
        parse_request_auth("POST", "/", "", _headers(items))
    assert caught.value.message == message
    assert caught.value.code == "IncompleteSignature"


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        (
            "AKID/20261128/us-east-1/iam/aws4_request",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            "'20261128' != '20261129', from '20261129T051605Z'.",
        ),
        (
            "AKID/20261129/us-east-1/iam/aws5_request",
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
        ),
    ],
)
def test_inconsistent_credential_scope(credential: str, message: str) -> None:
    headers = _headers(
        [
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=ab"),
            ("X-Amz-Date", "20261129T051605Z"),
        ]
    )
    with pytest.raises(SignatureDoesNotMatch) as caught:
        parse_request_auth("POST", "/", "", headers)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("drop", "change", "error", "message"),
    [
        (
            "X-Amz-Signature",
            None,
            IncompleteSignature,
            "AWS query-string parameters must include 'X-Amz-Algorithm', "
            "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string "
            "parameters.",
        ),
        (
            None,
            ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
            IncompleteSignature,
            'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
        ),
        (
            None,
            ("X-Amz-Expires=900", "X-Amz-Expires=604801"),
            IncompleteSignature,
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
        (None, ("X-Amz-Expires=900", "X-Amz-Expires=-1"), IncompleteSignature, "X-Amz-Expires must be non-negative"),
        (None, ("X-Amz-Expires=900", "X-Amz-Expires=soon"), IncompleteSignature, "X-Amz-Expires should be a number"),
    ],
)
def test_malformed_presigned_urls(
    drop: str | None, change: tuple[str, str] | None, error: type[AwsError], message: str
) -> None:
    wire = presign(expires=900)
    query = wire.query
    if drop:
        query = "&".join(p for p in query.split("&") if not p.startswith(drop + "="))
    if change:
        query = query.replace(*change)
    with pytest.raises(error) as caught:
        parse_request_auth(wire.method, wire.path, query, wire.headers)
    assert caught.value.message == message


def test_query_without_auth_parameters_is_missing_authentication() -> None:
    with pytest.raises(MissingAuthenticationToken):
        parse_request_auth("GET", "/", "X-Amz-Meta=1&Action=GetCallerIdentity", _headers([("Host", "h")]))


# --- the signing-key cache ----------------------------------------------------------------------------------


def test_signing_keys_are_cached_per_scope_and_secret() -> None:
    verifier = SigV4Verifier(cache_size=2)
    wire = sign()
    params = wire.parse()
    with mock.patch("gatehouse.wire.sigv4.derive_signing_key", wraps=derive_signing_key) as derive:
        for _ in range(3):
            wire.verify(verifier)
        assert derive.call_count == 1
        # The same access key id with another secret (a re-created key, a reset dev server) gets its own key.
        _mismatch(wire, verifier, secret="rotated")
        assert derive.call_count == 2
        sign(service="sts").verify(verifier)
        assert derive.call_count == 3
        wire.verify(verifier)  # evicted (size 2, least recently used) and derived again
        assert derive.call_count == 4
    assert verifier.signing_key(params, SECRET) == derive_signing_key(SECRET, "20261129", "us-east-1", "iam")


def test_two_verifiers_share_nothing() -> None:
    first, second = SigV4Verifier(), SigV4Verifier(max_skew=timedelta(minutes=5))
    sign().verify(first)
    assert first._cache and not second._cache
    error = _mismatch(sign(), second, now=SIGNED_AT + timedelta(minutes=6))
    assert error.message.endswith("(20261129T052205Z - 5 min.)")
