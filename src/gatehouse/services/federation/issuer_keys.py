"""The signing keys of OIDC issuers: found through the issuer's discovery document (`jwks_uri`), fetched over
verified HTTPS, cached per issuer.

The cache keeps keys for a bounded time (`ttl`), so a key the issuer withdraws stops verifying soon after. A token
whose `kid` is not among the cached keys makes one refetch (an issuer that rotated its keys), but not more often
than every `refresh_floor` seconds per issuer: otherwise tokens with made-up key ids would turn every request into
two outbound fetches. Likewise an issuer that cannot be reached is asked again only after `failure_backoff`
seconds, and never by two requests at once: AssumeRoleWithWebIdentity is unsigned and runs in the shared worker
threads, so without that a flood of tokens naming a slow or unreachable issuer would hold every worker thread in an
outbound fetch (each up to the fetch timeout) and stall everything else that needs one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from gatehouse.services.federation.https_fetch import FetchError, HttpsJsonFetcher

DEFAULT_TTL_S = 600.0
DEFAULT_REFRESH_FLOOR_S = 1.0
DEFAULT_FAILURE_BACKOFF_S = 5.0
MAX_ISSUERS = 256
MAX_KEYS = 100

PublicKey = RSAKey | ECKey | OKPKey
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuerKeySet:
    keys: tuple[PublicKey, ...]
    fetched: float

    def by_kid(self, kid: str | None) -> list[PublicKey]:
        """The key named `kid`; with no kid (in the token or in the JWKS), every candidate (the verifier tries
        each, and only a real signature verifies)."""
        if kid is None:
            return list(self.keys)
        return [k for k in self.keys if k.kid == kid] or [k for k in self.keys if k.kid is None]


class IssuerKeys:
    def __init__(self, fetcher: HttpsJsonFetcher, *, ttl: float = DEFAULT_TTL_S,
                 refresh_floor: float = DEFAULT_REFRESH_FLOOR_S, failure_backoff: float = DEFAULT_FAILURE_BACKOFF_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetcher = fetcher
        self.ttl = ttl
        self.refresh_floor = refresh_floor
        self.failure_backoff = failure_backoff
        self.clock = clock
        self._cache: OrderedDict[str, IssuerKeySet] = OrderedDict()
        self._fetching: set[str] = set()  # issuers with a fetch under way
        self._failed: dict[str, float] = {}  # issuer -> when its last fetch failed
        self._lock = threading.Lock()

    def keys_for(self, issuer: str, kid: str | None) -> list[PublicKey]:
        """The issuer's keys that may have signed a token with this `kid` (empty if none). Raises FetchError when
        the issuer cannot be reached and nothing usable is cached."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(issuer)
        if cached is not None and now - cached.fetched < self.ttl:
            found = cached.by_kid(kid)
            if found or now - cached.fetched < self.refresh_floor:
                return found
        else:
            cached = None  # expired keys are not used: the issuer may have withdrawn them
        with self._lock:
            failed = self._failed.get(issuer)
            if issuer in self._fetching or (failed is not None and now - failed < self.failure_backoff):
                if cached is not None:
                    return cached.by_kid(kid)  # a refetch for an unknown kid is under way, or just failed
                raise FetchError(f"the keys of {issuer} are being fetched, or could not be fetched moments ago")
            self._fetching.add(issuer)
        try:
            fresh = self._fetch(issuer, now)
        except Exception as e:
            # Callers get one fixed message whatever went wrong (it must not map the network); the reason is the
            # operator's. At most once per issuer per failure_backoff.
            log.warning("cannot get the signing keys of %s: %s", issuer, e)
            with self._lock:
                if len(self._failed) >= MAX_ISSUERS:
                    self._failed.clear()
                self._failed[issuer] = self.clock()
            raise
        finally:
            with self._lock:
                self._fetching.discard(issuer)
        with self._lock:
            self._failed.pop(issuer, None)
            self._cache[issuer] = fresh
            self._cache.move_to_end(issuer)
            while len(self._cache) > MAX_ISSUERS:
                self._cache.popitem(last=False)
        return fresh.by_kid(kid)

    def forget(self, issuer: str) -> None:
        with self._lock:
            self._cache.pop(issuer, None)

    def _fetch(self, issuer: str, now: float) -> IssuerKeySet:
        base = issuer.rstrip("/")
        discovery = self.fetcher.get_json(base + "/.well-known/openid-configuration")
        announced = discovery.get("issuer")
        if not isinstance(announced, str) or announced.rstrip("/") != base:
            raise FetchError(f"the discovery document of {issuer} names another issuer: {announced!r}")
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme != "https":
            raise FetchError(f"the discovery document of {issuer} has no HTTPS jwks_uri")
        return IssuerKeySet(parse_jwks(self.fetcher.get_json(jwks_uri)), now)


def parse_jwks(document: dict[str, Any]) -> tuple[PublicKey, ...]:
    """The usable public signing keys of a JWKS document; keys that are private, for encryption only, or of a kind
    we cannot read are skipped (an issuer may publish such keys next to its signing keys)."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise FetchError("the JWKS document has no keys")
    out: list[PublicKey] = []
    for entry in entries[:MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "d" in entry:
            continue
        try:
            key = KeySet.import_key_set({"keys": [entry]}).keys[0]
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, RSAKey | ECKey | OKPKey):
            out.append(key)
    if not out:
        raise FetchError("the JWKS document has no usable signing key")
    return tuple(out)
