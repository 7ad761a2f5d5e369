"""One frozen settings object, from command-line flags and GATEHOUSE_* environment variables.

Secrets are wrapped in `Secret` so that printing or logging the settings never shows them. This is the only module
that reads the process environment (flags declare their variable to typer; everything else is read here), so a
command or a service never finds a setting of its own.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from gatehouse.model import PARTITIONS

DEFAULT_PORT = 4599
DEV_ACCOUNT = "123456789012"
ENV_PREFIX = "GATEHOUSE_"
WORKER_SETTINGS_ENV = "GATEHOUSE_WORKER_SETTINGS"
HEADER_TIMEOUT_ENV = "GATEHOUSE_HEADER_TIMEOUT"  # for the HTTP protocol class, which uvicorn builds in each worker
_SIGNIN_SETTINGS = ("lockout_threshold", "lockout_window", "lockout_duration", "signin_rate_per_address",
                    "signin_rate_per_user", "signin_event_retention_days", "throttle_per_key",
                    "throttle_per_account", "header_timeout", "body_timeout", "keep_alive_timeout", "max_connections")


class Secret:
    """A value that never prints."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(ValueError):
    """A combination of settings the server refuses to start with."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = Path("data")
    db_url: str | None = None
    dev: bool = False
    enforce: bool = True
    account_id: str | None = None
    partition: str | None = None  # the bootstrap account's (default aws); never changes once the account exists
    root_access_key_id: str | None = None
    root_secret_access_key: Secret | None = None
    master_key_file: Path | None = None
    master_key: Secret | None = field(default=None, repr=False)
    workers: int = 1
    log_level: str = "info"
    # Sign-in lockout (seconds; threshold 0 turns it off) and rate limits (attempts per minute); accounts may
    # override the lockout (`gatehouse account lockout`).
    lockout_threshold: int = 5
    lockout_window: int = 900
    lockout_duration: int = 900
    signin_rate_per_address: int = 60
    signin_rate_per_user: int = 20
    # Days sign-in events are kept before they are pruned.
    signin_event_retention_days: int = 90
    # The URL clients reach this server at (behind a proxy or TLS terminator): names the outbound token issuer.
    public_url: str | None = None
    # The audit trail's Ed25519 digest signing key (a file outside the database): default audit.key in the data
    # directory; with --db, digests are signed only when this names a file every replica shares.
    audit_key_file: Path | None = None
    audit_enabled: bool = True  # off only to measure what the trail costs (bench)
    audit_retention_days: int = 90  # events older than this are pruned; 0 keeps everything
    # Limits (wire/limits.py, wire/connections.py): requests per second per access key and per account (0: none);
    # seconds a client has to send a request's headers, then its body; seconds an idle keep-alive connection is
    # kept; connections (and requests) served at once before new requests are answered 503. Throttling left unset
    # (None) is 400 and 1,000 requests/s, and off in development mode (test suites hammer one key there).
    throttle_per_key: float | None = None
    throttle_per_account: float | None = None
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: int = 5
    max_connections: int = 1000
    # The proxies (addresses or CIDR blocks, "*" for any) whose X-Forwarded-For and X-Forwarded-Proto are believed;
    # empty: none, so aws:SourceIp and aws:SecureTransport are what this server sees on the connection.
    forwarded_allow_ips: tuple[str, ...] = ()
    # Non-public networks (CIDR blocks) identity-provider fetches may connect to besides the public internet.
    fetch_allow_private: tuple[str, ...] = ()

    def checked(self) -> Settings:
        """Apply dev-mode pins and refuse what must not run."""
        if not self.enforce and not self.dev:
            raise SettingsError("--no-enforce is only available with --dev")
        if self.account_id is not None and not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise SettingsError("--account-id must be 12 digits")
        if self.partition is not None and self.partition not in PARTITIONS:
            raise SettingsError(f"--partition must be one of {', '.join(PARTITIONS)}")
        if min(self.lockout_threshold, self.lockout_window, self.lockout_duration) < 0:
            raise SettingsError("--lockout-threshold, --lockout-window and --lockout-duration cannot be negative")
        if self.lockout_threshold and (self.lockout_window < 1 or self.lockout_duration < 1):
            raise SettingsError("--lockout-window and --lockout-duration must be at least 1 second")
        if self.signin_event_retention_days < 1:
            raise SettingsError("--signin-event-retention-days must be at least 1")
        if min(self.signin_rate_per_address, self.signin_rate_per_user) < 1:
            raise SettingsError("sign-in rate limits must allow at least 1 attempt per minute")
        if min(self.throttle_per_key or 0, self.throttle_per_account or 0) < 0:
            raise SettingsError("--throttle-per-key and --throttle-per-account cannot be negative (0: no limit)")
        if min(self.header_timeout, self.body_timeout, self.keep_alive_timeout) <= 0 or self.max_connections < 1:
            raise SettingsError("connection timeouts must be positive and --max-connections at least 1")
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
                raise SettingsError("--public-url must be an http(s) URL without query or fragment")
        _check_networks(self.forwarded_allow_ips, "--forwarded-allow-ips", allow_any=True)
        _check_networks(self.fetch_allow_private, "--fetch-allow-private", allow_any=False)
        if self.throttle_per_key is None or self.throttle_per_account is None:
            self = replace(self, throttle_per_key=(0.0 if self.dev else 400.0) if self.throttle_per_key is None
                           else self.throttle_per_key,
                           throttle_per_account=(0.0 if self.dev else 1000.0) if self.throttle_per_account is None
                           else self.throttle_per_account)
        if self.dev:
            if self.db_url:
                raise SettingsError("--dev keeps everything in memory; it does not take --db")
            if self.workers != 1:
                raise SettingsError("--dev keeps state in one process; it does not take --workers")
            return replace(self, account_id=self.account_id or DEV_ACCOUNT,
                           root_access_key_id=self.root_access_key_id or "test",
                           root_secret_access_key=self.root_secret_access_key or Secret("test"))
        if self.db_url and self.master_key is None and self.master_key_file is None:
            raise SettingsError(
                "--db needs a master key shared by every replica: set GATEHOUSE_MASTER_KEY (32 random bytes, "
                "base64) or --master-key-file PATH; refusing to invent one another replica would not share"
            )
        return self

    @property
    def store_url(self) -> str:
        if self.dev:
            return "sqlite://"
        if self.db_url:
            return self.db_url
        return f"sqlite+pysqlite:///{(self.data_dir / 'gatehouse.db').resolve()}"


def _check_networks(values: tuple[str, ...], flag: str, *, allow_any: bool) -> None:
    """Each value an IP address or CIDR block (or "*" where any address may be named)."""
    for value in values:
        if allow_any and value == "*":
            continue
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise SettingsError(f"{flag} takes IP addresses or CIDR blocks, comma-separated, not {value!r}") from None


def env_secret(name: str) -> Secret | None:
    """`GATEHOUSE_{name}` (the master key, a password given to a command), wrapped so it never prints; None if unset
    or empty. Secrets travel in the environment, never in flags, which `ps` shows."""
    value = os.environ.get(ENV_PREFIX + name)
    return Secret(value) if value else None


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(ENV_PREFIX + name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a whole number, not {text!r}") from None


def with_environment(settings: Settings) -> Settings:
    """`settings` (from a command's flags) plus what only the environment carries: the master key."""
    return replace(settings, master_key=env_secret("MASTER_KEY"))


def store_settings(data_dir: Path, db_url: str | None, master_key_file: Path | None) -> Settings:
    """The settings of an operator command on an existing store (`gatehouse account ...`): where the store is, its
    master key, and the server's sign-in lockout defaults (`GATEHOUSE_LOCKOUT_*`, as `serve` reads them)."""
    base = Settings()
    return Settings(data_dir=data_dir, db_url=db_url, master_key_file=master_key_file,
                    master_key=env_secret("MASTER_KEY"),
                    lockout_threshold=_env_int("LOCKOUT_THRESHOLD", base.lockout_threshold),
                    lockout_window=_env_int("LOCKOUT_WINDOW", base.lockout_window),
                    lockout_duration=_env_int("LOCKOUT_DURATION", base.lockout_duration))


def export_for_workers(settings: Settings) -> None:
    """Hand `--workers N` processes what they need to rebuild the application: no secrets (each worker re-reads
    the master key from the environment or its file; bootstrap already ran in the parent)."""
    os.environ[WORKER_SETTINGS_ENV] = json.dumps({
        "data_dir": str(settings.data_dir), "db_url": settings.db_url,
        "master_key_file": str(settings.master_key_file) if settings.master_key_file else None,
        "log_level": settings.log_level, "public_url": settings.public_url,
        "audit_key_file": str(settings.audit_key_file) if settings.audit_key_file else None,
        "audit_retention_days": settings.audit_retention_days, "audit_enabled": settings.audit_enabled,
        "fetch_allow_private": list(settings.fetch_allow_private),
        "forwarded_allow_ips": list(settings.forwarded_allow_ips),
        "signin": {name: getattr(settings, name) for name in _SIGNIN_SETTINGS}})


def worker_settings() -> Settings:
    """The settings `export_for_workers` handed to this worker process."""
    raw = json.loads(os.environ[WORKER_SETTINGS_ENV])
    return Settings(data_dir=Path(raw["data_dir"]), db_url=raw["db_url"],
                    master_key_file=Path(raw["master_key_file"]) if raw["master_key_file"] else None,
                    master_key=env_secret("MASTER_KEY"), log_level=raw["log_level"],
                    public_url=raw.get("public_url"),
                    fetch_allow_private=tuple(raw.get("fetch_allow_private", ())),
                    forwarded_allow_ips=tuple(raw.get("forwarded_allow_ips", ())),
                    audit_key_file=Path(raw["audit_key_file"]) if raw.get("audit_key_file") else None,
                    audit_retention_days=raw.get("audit_retention_days", 90),
                    audit_enabled=raw.get("audit_enabled", True), **raw.get("signin", {}))


def export_header_timeout(settings: Settings) -> None:
    """Hand the header timeout to the HTTP protocol class (`wire/connections.py`): uvicorn builds it by name, in
    every worker, with no way to pass it settings."""
    os.environ[HEADER_TIMEOUT_ENV] = str(settings.header_timeout)


def exported_header_timeout() -> str | None:
    """The header timeout `export_header_timeout` handed over (None if not set)."""
    return os.environ.get(HEADER_TIMEOUT_ENV)
