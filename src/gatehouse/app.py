"""Composition root: settings → storage, services, wire → one ASGI application. The only module that imports
every layer; nothing else builds objects that live for the process."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from gatehouse.services.authentication import Authenticator
from gatehouse.services.authorization import Authorizer
from gatehouse.services.authorization_messages import AuthorizationMessages
from gatehouse.services.bootstrap import BootstrapResult, PartitionMismatch, bootstrap
from gatehouse.services.clock import Clock, system_clock
from gatehouse.services.federation.https_fetch import HttpsJsonFetcher
from gatehouse.services.federation.issuer_keys import IssuerKeys
from gatehouse.services.federation.outbound import OutboundDeps, OutboundFederation, issuer_base
from gatehouse.services.federation.saml_federation import SamlFederation
from gatehouse.services.federation.sessions import FederatedRoles
from gatehouse.services.federation.web_identity import WebIdentityFederation
from gatehouse.services.iam.access_keys import AccessKeys
from gatehouse.services.iam.account import AccountOps
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.common import IamDeps
from gatehouse.services.iam.documents import PolicyDocuments
from gatehouse.services.iam.entity_policies import EntityPolicies
from gatehouse.services.iam.groups import Groups
from gatehouse.services.iam.instance_profiles import InstanceProfiles
from gatehouse.services.iam.login_profiles import LoginProfiles
from gatehouse.services.iam.managed_policies import ManagedPolicies
from gatehouse.services.iam.mfa_devices import MfaDevices
from gatehouse.services.iam.oidc_providers import OidcProviders
from gatehouse.services.iam.password_policy import PasswordPolicyOps
from gatehouse.services.iam.roles import Roles
from gatehouse.services.iam.saml_providers import SamlProviders
from gatehouse.services.iam.server_certificates import ServerCertificates
from gatehouse.services.iam.service_credentials import ServiceCredentials
from gatehouse.services.iam.service_linked import ServiceLinkedRoles
from gatehouse.services.iam.signing_certificates import SigningCertificates
from gatehouse.services.iam.simulator import Simulator
from gatehouse.services.iam.ssh_keys import SshKeys
from gatehouse.services.iam.users import Users
from gatehouse.services.key_rotation import KeyRing
from gatehouse.services.lockouts import LockoutPolicy, Lockouts, RateLimits
from gatehouse.services.mfa_codes import MfaCodes
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.secretbox import SecretBox, new_master_key, parse_master_key
from gatehouse.services.session_tokens import SessionTokens
from gatehouse.services.signin import Signin
from gatehouse.services.signin_csrf import SigninCsrf
from gatehouse.services.sts import Sts, StsDeps
from gatehouse.settings import Secret, Settings, SettingsError
from gatehouse.storage.sql.backup import SqlSnapshots
from gatehouse.storage.sql.migrate import SchemaMismatch
from gatehouse.storage.sql.store import SqlStore
from gatehouse.wire.dispatch import Router
from gatehouse.wire.http import AuthSwitch, AwsAsgi, AwsEndpoint, WireConfig, build_app
from gatehouse.wire.oidc_issuer import issuer_routes
from gatehouse.wire.service_models import ServiceModels
from gatehouse.wire.signin_http import signin_routes

MASTER_KEY_FILE = "master.key"
DATABASE_FILE = "gatehouse.db"  # as Settings.store_url names it
ROOT_CREDENTIALS_FILE = "root-credentials.json"


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600), never briefly wider."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _keep_private(path: Path) -> None:
    """Make a file of ours owner-only (0600), creating it empty if need be.

    For the SQLite database (password hashes, sealed secrets): SQLite creates it, and its -wal and -shm files, with
    the process umask (usually 0644), and copies the database file's mode to the other two. A data directory we
    create is 0700, but an operator may point --data at one that exists with wider permissions.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)


def master_key(settings: Settings) -> bytes:
    """GATEHOUSE_MASTER_KEY, else --master-key-file, else (file storage only) a key file in the data dir."""
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.reveal())
    if settings.master_key_file is not None:
        try:
            return parse_master_key(settings.master_key_file.read_text())
        except FileNotFoundError:
            raise SettingsError(f"master key file {settings.master_key_file} does not exist") from None
    if settings.dev:
        return parse_master_key(new_master_key())  # memory only: nothing outlives the process
    if settings.db_url:
        raise SettingsError("--db needs GATEHOUSE_MASTER_KEY or --master-key-file")
    path = settings.data_dir / MASTER_KEY_FILE
    if not path.exists():
        _write_private(path, new_master_key() + "\n")
    elif path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # ours (we made it): whatever widened it, the key stays readable by its owner only
    return parse_master_key(path.read_text())


def master_key_file(settings: Settings) -> Path | None:
    """The file the master key is read from (None: the environment, or memory in --dev): what a running server
    watches during `gatehouse rotate-master-key` and what the rotation rewrites."""
    if settings.master_key is not None or settings.dev:
        return None
    if settings.master_key_file is not None:
        return settings.master_key_file
    return None if settings.db_url else settings.data_dir / MASTER_KEY_FILE


@dataclass
class Application:
    settings: Settings
    store: SqlStore
    box: SecretBox
    clock: Clock
    asgi: AwsAsgi | None = None

    def bootstrap(self) -> BootstrapResult:
        s = self.settings
        secret = s.root_secret_access_key.reveal() if s.root_secret_access_key else None
        try:
            result = bootstrap(self.store, self.box, self.clock, account_id=s.account_id,
                               root_access_key_id=s.root_access_key_id, root_secret_access_key=secret,
                               partition=s.partition)
        except PartitionMismatch as e:
            raise SettingsError(str(e)) from None
        # A generated secret is written once for the operator (0600); a pinned one they already hold.
        if result.secret_access_key and secret is None and not s.dev and not s.db_url:
            _write_private(s.data_dir / ROOT_CREDENTIALS_FILE, json.dumps({
                "AccountId": result.account_id, "AccessKeyId": result.access_key_id,
                "SecretAccessKey": result.secret_access_key}, indent=2) + "\n")
        return result

    def reset(self) -> None:
        """Development mode: back to the freshly bootstrapped state."""
        self.store.reset()
        self.bootstrap()

    def close(self) -> None:
        self.store.close()


def snapshots(app: Application) -> SqlSnapshots:
    """Whole-store snapshots and restores (`gatehouse backup`, `restore`, `rotate-master-key`)."""
    return SqlSnapshots(app.store.engine)


WORKER_SETTINGS_ENV = "GATEHOUSE_WORKER_SETTINGS"
_SIGNIN_SETTINGS = ("lockout_threshold", "lockout_window", "lockout_duration", "signin_rate_per_address",
                    "signin_rate_per_user")


def worker_settings_env(settings: Settings) -> str:
    """What a worker process needs to rebuild the application: no secrets (the master key is re-read from the
    environment or its file by each worker; bootstrap already ran in the parent)."""
    return json.dumps({"data_dir": str(settings.data_dir), "db_url": settings.db_url,
                       "master_key_file": str(settings.master_key_file) if settings.master_key_file else None,
                       "log_level": settings.log_level, "public_url": settings.public_url,
                       "fetch_allow_private": list(settings.fetch_allow_private),
                       "signin": {name: getattr(settings, name) for name in _SIGNIN_SETTINGS}})


def worker_app() -> AwsAsgi:
    """Uvicorn factory for `--workers N`: each worker process builds its own application."""
    raw = json.loads(os.environ[WORKER_SETTINGS_ENV])
    master = os.environ.get("GATEHOUSE_MASTER_KEY")
    settings = Settings(data_dir=Path(raw["data_dir"]), db_url=raw["db_url"],
                        master_key_file=Path(raw["master_key_file"]) if raw["master_key_file"] else None,
                        master_key=Secret(master) if master else None, log_level=raw["log_level"],
                        public_url=raw.get("public_url"), fetch_allow_private=tuple(raw.get("fetch_allow_private", ())),
                        **raw.get("signin", {}))
    app = build(settings, migrate=False)
    assert app.asgi is not None
    return app.asgi


def build(settings: Settings, *, clock: Clock = system_clock, migrate: bool = True) -> Application:
    settings = settings.checked()
    if not settings.dev and not settings.db_url:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _keep_private(settings.data_dir / DATABASE_FILE)
    key = master_key(settings)
    key_file = master_key_file(settings)
    box, tokens = (KeyRing(key, key_file) if key_file else SecretBox(key)), SessionTokens(key)
    try:
        store = SqlStore(settings.store_url, migrate=migrate)
    except SchemaMismatch as e:
        raise SettingsError(str(e)) from None
    managed = AwsManagedPolicies()
    authz = Authorizer(managed, enforce=settings.enforce or settings.dev, messages=AuthorizationMessages(key))
    deps = IamDeps(store=store, authz=authz, box=box, documents=PolicyDocuments(), managed=managed, clock=clock)
    iam: list[object] = [Users(deps), Groups(deps), Roles(deps), ManagedPolicies(deps), EntityPolicies(deps),
                         AccessKeys(deps), InstanceProfiles(deps), AccountOps(deps), ServiceLinkedRoles(deps),
                         Simulator(deps)]
    lockout = LockoutPolicy(settings.lockout_threshold, settings.lockout_window, settings.lockout_duration)
    limits = RateLimits(settings.signin_rate_per_address, settings.signin_rate_per_user)
    # ChangePassword and MFA codes (STS, Enable/ResyncMFADevice) check a secret too: their failures count toward
    # the sign-in lockout.
    lockouts = Lockouts(store, lockout, limits)
    passwords, codes = Passwords(), MfaCodes(store, box, clock, lockouts)
    iam += [LoginProfiles(deps, passwords, lockouts), PasswordPolicyOps(deps), MfaDevices(deps, codes),
            ServerCertificates(deps), SigningCertificates(deps), SshKeys(deps), ServiceCredentials(deps, passwords)]
    signin = Signin(store, passwords, codes, tokens, clock, lockout, limits)
    sts = Sts(StsDeps(store=store, authz=authz, tokens=tokens, managed=managed, clock=clock, mfa=codes))
    federated = FederatedRoles(sts, authz, store)
    outbound = OutboundFederation(OutboundDeps(store=store, authz=authz, box=box, clock=clock,
                                               public_url=issuer_base(settings.public_url, settings.dev, settings.host,
                                                                      settings.port)))
    iam += [OidcProviders(deps), SamlProviders(deps), outbound]
    fetcher = HttpsJsonFetcher(allow_private=settings.fetch_allow_private)  # public addresses + the operator's
    sts_handlers = [sts, WebIdentityFederation(federated, store, IssuerKeys(fetcher), clock),
                    SamlFederation(federated, store, clock), outbound]
    router = Router(ServiceModels(), {"iam": iam, "sts": sts_handlers})
    # In development mode the auth switch stands for --no-enforce (and moto's reset-auth moves it); policies are
    # then decided per request, as the switch says.
    switch = AuthSwitch(settings.account_id or "", enforce=settings.enforce) if settings.dev else None
    endpoint = AwsEndpoint(router, Authenticator(store, box, clock, tokens), WireConfig(), clock, switch)
    app = Application(settings=settings, store=store, box=box, clock=clock)
    # SQLite answers in microseconds: handle requests on the event loop; a networked database gets threads.
    inline = store.engine.dialect.name == "sqlite"
    app.asgi = build_app(endpoint, reset=app.reset if settings.dev else None, inline=inline,
                         extra_routes=signin_routes(signin, SigninCsrf(key, clock), settings.public_url)
                         + issuer_routes(outbound))
    return app
