"""AWS Signature Version 4 verification (the server side of what botocore's ``SigV4Auth`` signs).

Specification: AWS IAM User Guide, "Create a signed AWS API request"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), steps 1-5 cited below as
[Step N]; "Authentication methods" (…/reference_sigv-authentication-methods.html) for the ``Authorization``
header and query-string (presigned) forms; "Elements of an AWS API request signature"
(…/signing-elements.html) for the credential scope and dates.

Verification is split in two so the caller can look the secret up between the steps::

    params = parse_request_auth(method, raw_path, raw_query, headers)      # syntax only, no secrets
    secret = lookup(params.access_key_id)                                   # InvalidClientTokenId if unknown
    verifier.verify(params, method, raw_path, raw_query, headers, body, secret, now)

``path`` and ``query_string`` are the *raw*, still percent-encoded request target (ASGI ``raw_path`` and
``query_string``), because the canonical request encodes what was sent. ``headers`` must be case-insensitive
(Starlette's ``Headers``) or keyed in lower case; multi-valued headers are read with ``getlist`` when available.

Errors carry AWS's codes and wording, and never a secret or a derived key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote_plus

from gatehouse.errors import (
    IncompleteSignature,
    MissingAuthenticationToken,
    RequestExpired,
    SignatureDoesNotMatch,
)

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_PRESIGNED_EXPIRES = 604800  # seven days: a signing key is only valid that long
DEFAULT_MAX_SKEW = timedelta(minutes=15)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_PRESIGN_KEYS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
_SPACES = re.compile(" {2,}")  # [Step 1: CanonicalHeaders] "sequential spaces": SP, nothing else


class SigV4Params(NamedTuple):
    """What a request claims about its signature, parsed but not yet verified (immutable)."""

    access_key_id: str
    date: datetime  #: request time (UTC) from X-Amz-Date / Date / the X-Amz-Date query parameter
    amz_date: str  #: the request time in ISO 8601 basic format, as it enters the string to sign
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    security_token: str | None
    is_presigned: bool
    expires: int | None  #: X-Amz-Expires (seconds) of a presigned request
    content_sha256: str | None = None  #: declared payload hash (X-Amz-Content-Sha256), if any

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{TERMINATOR}"

    @property
    def unsigned_payload(self) -> bool:
        """True when the body is not covered by the signature (presigned with UNSIGNED-PAYLOAD)."""
        return self.content_sha256 == UNSIGNED_PAYLOAD


# --- parsing ------------------------------------------------------------------------------------------------


def parse_request_auth(method: str, path: str, query_string: str, headers: Mapping[str, str]) -> SigV4Params:
    """The signature claims of a request: from its ``Authorization`` header, else from its query string.

    Raises ``MissingAuthenticationToken`` when neither carries a signature, ``IncompleteSignature`` when one
    is malformed, ``SignatureDoesNotMatch`` when the credential scope is inconsistent with the request date.
    """
    authorization = headers.get("authorization")
    if authorization is not None:
        return _parse_authorization_header(authorization, headers)
    if claims_presigned(query_string):
        return _parse_presigned(dict(parse_qsl(query_string, keep_blank_values=True)), headers)
    raise MissingAuthenticationToken()


def claims_presigned(query_string: str) -> bool:
    """Whether the query string carries presigned-URL parameters, judged exactly as `parse_request_auth` judges it
    (by decoded parameter names, not by substrings of the raw text), so that callers routing on "is this request
    signed?" agree with the parser."""
    if "X-Amz-" not in query_string:
        return False
    return any(name in _PRESIGN_KEYS for name, _ in parse_qsl(query_string, keep_blank_values=True))


def _parse_authorization_header(authorization: str, headers: Mapping[str, str]) -> SigV4Params:
    """[Authentication methods: HTTP Authorization header] ``AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
    Signature=…``, with the request time in ``X-Amz-Date`` (or ``Date``)."""
    algorithm, _, rest = authorization.strip().partition(" ")
    fields: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for token in rest.replace(",", " ").split():
            key, equals, value = token.partition("=")
            if not equals:
                raise IncompleteSignature(
                    f"'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                    f"'{authorization}'."
                )
            fields[key] = value
    raw_date = amz_date_header = headers.get("x-amz-date")
    if raw_date is None:
        raw_date = headers.get("date")
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if name not in fields
    ]
    if raw_date is None:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing or raw_date is None:
        raise IncompleteSignature(" ".join(missing) + f" Authorization={authorization}")
    date = _parse_request_date(raw_date, allow_http_date=amz_date_header is None)
    return _build_params(
        credential=fields["Credential"],
        signed_headers=fields["SignedHeaders"],
        signature=fields["Signature"],
        raw_date=raw_date,
        date=date,
        security_token=headers.get("x-amz-security-token"),
        is_presigned=False,
        expires=None,
        content_sha256=headers.get("x-amz-content-sha256"),
    )


def _parse_presigned(query: dict[str, str], headers: Mapping[str, str]) -> SigV4Params:
    """[Authentication methods: query string parameters] the ``X-Amz-*`` parameters of a presigned URL."""
    if any(key not in query for key in _PRESIGN_KEYS):
        raise IncompleteSignature(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', "
            "'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
        )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise IncompleteSignature(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    expires: int | None = None
    raw_expires = query.get("X-Amz-Expires")
    if raw_expires is not None:
        if not re.fullmatch(r"-?[0-9]{1,12}", raw_expires):
            raise IncompleteSignature("X-Amz-Expires should be a number")
        expires = int(raw_expires)
        if expires < 0:
            raise IncompleteSignature("X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGNED_EXPIRES:
            raise IncompleteSignature(
                f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGNED_EXPIRES}"
            )
    raw_date = query["X-Amz-Date"]
    token = query.get("X-Amz-Security-Token")
    return _build_params(
        credential=query["X-Amz-Credential"],
        signed_headers=query["X-Amz-SignedHeaders"],
        signature=query["X-Amz-Signature"],
        raw_date=raw_date,
        date=_parse_request_date(raw_date, allow_http_date=False),
        security_token=token if token is not None else headers.get("x-amz-security-token"),
        is_presigned=True,
        expires=expires,
        content_sha256=query.get("X-Amz-Content-Sha256", headers.get("x-amz-content-sha256")),
    )


def _build_params(
    *,
    credential: str,
    signed_headers: str,
    signature: str,
    raw_date: str,
    date: datetime,
    security_token: str | None,
    is_presigned: bool,
    expires: int | None,
    content_sha256: str | None,
) -> SigV4Params:
    """[Signing elements: credential scope] ``AKID/YYYYMMDD/region/service/aws4_request``, dated the request's day."""
    parts = credential.split("/")
    if len(parts) != 5:
        raise IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'"
        )
    access_key_id, scope_date, region, service, terminator = parts
    if terminator != TERMINATOR:
        raise SignatureDoesNotMatch(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )
    amz_date = raw_date if len(raw_date) == 16 else _basic_format(date)
    if scope_date != amz_date[:8]:
        raise SignatureDoesNotMatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{amz_date[:8]}', from '{raw_date}'."
        )
    signed = tuple(signed_headers.lower().split(";"))
    if "host" not in signed and ":authority" not in signed:
        # [Create a signed request, step 1: "the host header must be included as a signed header"] Otherwise a
        # captured signature would also be good for another host, whose name then reaches the request (the
        # outbound issuer URL is taken from it).
        raise IncompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return SigV4Params(
        access_key_id=access_key_id,
        date=date,
        amz_date=amz_date,
        scope_date=scope_date,
        region=region,
        service=service,
        signed_headers=signed,
        signature=signature,
        security_token=security_token,
        is_presigned=is_presigned,
        expires=expires,
        content_sha256=content_sha256,
    )


def _parse_request_date(raw: str, *, allow_http_date: bool) -> datetime:
    """[Signing elements: date] ``YYYYMMDD'T'HHMMSS'Z'``; a ``Date`` header may also be an RFC 7231 HTTP-date."""
    value = raw.strip()
    if len(value) == 16 and value[8] == "T" and value[15] == "Z":
        digits = value[:8] + value[9:15]
        if digits.isascii() and digits.isdigit():
            try:
                return datetime(
                    int(value[0:4]), int(value[4:6]), int(value[6:8]),
                    int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC,
                )  # fmt: skip
            except ValueError:
                pass
    if allow_http_date:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:  # "-0000" (what botocore writes) parses as naive: UTC with no local zone
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise IncompleteSignature(
        f"Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _basic_format(moment: datetime) -> str:
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}Z"
    )


# --- canonical request ([Step 1]) ---------------------------------------------------------------------------


def canonical_uri(raw_path: str) -> str:
    """[Step 1: CanonicalURI] the path with dot segments and empty segments removed, each segment URI-encoded.

    ``raw_path`` arrives already encoded once by the client, so encoding it again yields the double encoding
    the specification asks of every service except S3.
    """
    if raw_path == "/" or not raw_path:
        return "/"
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalized = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query_string(raw_query: str, *, presigned: bool = False) -> str:
    """[Step 1: CanonicalQueryString] each name and value decoded, then URI-encoded (unreserved characters
    only left as is, ``%XX`` upper case), sorted by name then value; ``X-Amz-Signature`` left out when presigned."""
    if not raw_query:
        return ""
    pairs: list[tuple[str, str]] = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        name = unquote_plus(name)
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((quote(name, safe="-_.~"), quote(unquote_plus(value), safe="-_.~")))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def canonical_headers(signed_headers: tuple[str, ...], headers: Mapping[str, str]) -> str:
    """[Step 1: CanonicalHeaders] ``name:value\\n`` for each signed header, repeated headers joined with commas.

    "For the values, trim any leading or trailing spaces, convert sequential spaces to a single space": spaces
    (SP) only, plus the tabs HTTP counts as optional whitespace at either end. Other characters (a tab inside the
    value, U+00A0, U+0085, ...) are part of the value, so two values that differ in them never share a signature.
    botocore (``' '.join(value.split())``) also folds every Unicode whitespace: a header value it signs with one
    of those inside does not verify here (nothing botocore signs by default carries one)."""
    getlist = getattr(headers, "getlist", None)
    lines = []
    for name in signed_headers:
        if getlist is not None:
            values = getlist(name)
        else:
            single = headers.get(name)
            values = [] if single is None else [single]
        lines.append(name + ":" + ",".join(_trimall(value) for value in values) + "\n")
    return "".join(lines)


def _trimall(value: str) -> str:
    """[Step 1: CanonicalHeaders] a value trimmed of SP and HTAB at both ends, inner runs of SP made one SP."""
    value = value.strip(" \t")
    return _SPACES.sub(" ", value) if "  " in value else value


def string_to_sign(params: SigV4Params, canonical_request: str) -> str:
    """[Step 2 and Step 3] algorithm, request time, credential scope and the hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{params.amz_date}\n{params.credential_scope}\n{digest}"


def derive_signing_key(secret: str, scope_date: str, region: str, service: str) -> bytes:
    """[Step 4] HMAC chain ``AWS4`` + secret → date → region → service → ``aws4_request``."""
    key = hmac.digest(("AWS4" + secret).encode("utf-8"), scope_date.encode("utf-8"), "sha256")
    key = hmac.digest(key, region.encode("utf-8"), "sha256")
    key = hmac.digest(key, service.encode("utf-8"), "sha256")
    return hmac.digest(key, TERMINATOR.encode("ascii"), "sha256")


# --- verification -------------------------------------------------------------------------------------------


class SigV4Verifier:
    """Verifies parsed SigV4 claims against a secret; owns a bounded LRU cache of derived signing keys.

    Keys are cached per (access key id, fingerprint of the secret, date, region, service): a fingerprint
    rather than the secret, so the cache holds nothing that signs for another day, region or service, and a
    rotated or re-created secret never meets a stale key.
    """

    def __init__(self, *, max_skew: timedelta = DEFAULT_MAX_SKEW, cache_size: int = 4096) -> None:
        self.max_skew = max_skew
        self._cache: OrderedDict[tuple[str, bytes, str, str, str], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        minutes = max_skew.total_seconds() / 60
        self._skew_label = (
            f"{int(minutes)} min." if minutes == int(minutes) else f"{int(max_skew.total_seconds())} sec."
        )

    def verify(
        self,
        params: SigV4Params,
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        body: bytes,
        secret: str,
        now: datetime,
        *,
        check_skew: bool = True,
    ) -> None:
        """Raise unless ``params.signature`` is the signature of this request under ``secret``.

        ``SignatureDoesNotMatch`` for a wrong signature, a body that does not match its declared hash, or a
        request time more than ``max_skew`` from ``now``; ``RequestExpired`` for a presigned request past its
        ``X-Amz-Expires``. ``check_skew=False`` skips both time checks (development mode).
        """
        if check_skew:
            self._check_time(params, now if now.tzinfo is not None else now.replace(tzinfo=UTC))
        canonical_request = "\n".join(
            (
                method.upper(),
                canonical_uri(path),
                canonical_query_string(query_string, presigned=params.is_presigned),
                canonical_headers(params.signed_headers, headers),
                ";".join(params.signed_headers),
                self._payload_hash(params, body),
            )
        )
        key = self.signing_key(params, secret)
        expected = hmac.digest(key, string_to_sign(params, canonical_request).encode("utf-8"), "sha256").hex()
        if not hmac.compare_digest(expected.encode("ascii"), params.signature.encode("utf-8", "replace")):
            raise SignatureDoesNotMatch(SIGNATURE_MISMATCH)

    def signing_key(self, params: SigV4Params, secret: str) -> bytes:
        """[Step 4] the signing key for ``params``' scope, from the cache when possible."""
        fingerprint = hashlib.sha256(secret.encode("utf-8")).digest()
        cache_key = (params.access_key_id, fingerprint, params.scope_date, params.region, params.service)
        with self._lock:
            key = self._cache.get(cache_key)
            if key is not None:
                self._cache.move_to_end(cache_key)
                return key
        key = derive_signing_key(secret, params.scope_date, params.region, params.service)
        with self._lock:
            self._cache[cache_key] = key
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return key

    def _payload_hash(self, params: SigV4Params, body: bytes) -> str:
        """[Step 1: HashedPayload] the declared ``X-Amz-Content-Sha256`` if it is the body's hash (or
        UNSIGNED-PAYLOAD on a presigned request), else the body's hash."""
        declared = params.content_sha256
        if declared is None:
            return hashlib.sha256(body).hexdigest()
        if declared == UNSIGNED_PAYLOAD and params.is_presigned:
            return declared
        actual = hashlib.sha256(body).hexdigest()
        if not hmac.compare_digest(declared.encode("utf-8", "replace"), actual.encode("ascii")):
            raise SignatureDoesNotMatch(SIGNATURE_MISMATCH)
        return declared

    def _check_time(self, params: SigV4Params, now: datetime) -> None:
        """[Signing elements: date] within ``max_skew`` of the server clock; presigned: until X-Amz-Expires."""
        label = self._skew_label
        if params.date > now + self.max_skew:
            raise SignatureDoesNotMatch(
                f"Signature not yet current: {params.amz_date} is still later than "
                f"{_basic_format(now + self.max_skew)} ({_basic_format(now)} + {label})"
            )
        if params.is_presigned and params.expires is not None:
            if now > params.date + timedelta(seconds=params.expires):
                raise RequestExpired("Request has expired.")
            return
        if params.date < now - self.max_skew:
            raise SignatureDoesNotMatch(
                f"Signature expired: {params.amz_date} is now earlier than "
                f"{_basic_format(now - self.max_skew)} ({_basic_format(now)} - {label})"
            )
