"""Composition root: settings → storage, services, wire → one ASGI application. The only module that imports
every layer; nothing else builds objects that live for the process. `build` returns them as one typed `Services`
value (in an `Application` with the ASGI app), which the CLI and the wire layer take them from."""

from __future__ import annotations

import contextlib
import errno
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.types import ASGIApp

from gatehouse.console.deps import ConsoleDeps
from gatehouse.console.routes import console_routes
from gatehouse.services.account_security import AccountSecurity
from gatehouse.services.audit.calls import CallRecorder
from gatehouse.services.audit.credential_report import CredentialReports
from gatehouse.services.audit.last_accessed import ServiceLastAccessed
from gatehouse.services.audit.lookup import CloudTrailLookup
from gatehouse.services.audit.no_trail import NoTrail
from gatehouse.services.audit.signing import AuditKeyError, DigestSigner, load_key, load_or_create_key
from gatehouse.services.audit.signins import SigninTrail
from gatehouse.services.audit.trail import AuditTrail, TrailTiming
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
from gatehouse.services.iam.offboarding import Offboarding
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
from gatehouse.services.organizations.api import OrganizationsApi
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.resources.authorize import AuthorizationApi
from gatehouse.services.resources.registry import ResourceRegistry
from gatehouse.services.secretbox import SealedSecretError, SecretBox, new_master_key, parse_master_key
from gatehouse.services.session_tokens import SessionTokens
from gatehouse.services.signin import Signin
from gatehouse.services.signin_csrf import SigninCsrf
from gatehouse.services.sts import Sts, StsDeps
from gatehouse.services.workloads import Workloads
from gatehouse.settings import Settings, SettingsError, worker_settings
from gatehouse.storage.sql.backup import SqlSnapshots
from gatehouse.storage.sql.migrate import SchemaMismatch
from gatehouse.storage.sql.store import SqlStore
from gatehouse.wire.authorize_http import AuthorizeEndpoint, authorize_routes
from gatehouse.wire.dispatch import Router
from gatehouse.wire.forwarded import ForwardedHeader
from gatehouse.wire.http import AuthSwitch, AwsAsgi, AwsEndpoint, WireConfig, build_app
from gatehouse.wire.limits import Executor, Throttle, ThrottleConfig
from gatehouse.wire.oidc_issuer import issuer_routes
from gatehouse.wire.service_models import ServiceModels
from gatehouse.wire.signin_http import signin_routes
from gatehouse.wire.workload_credentials import CREDENTIALS_PATH, workload_credentials_routes

MASTER_KEY_FILE = "master.key"
AUDIT_KEY_FILE = "audit.key"
DATABASE_FILE = "gatehouse.db"  # as Settings.store_url names it
ROOT_CREDENTIALS_FILE = "root-credentials.json"


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600), never briefly wider, and never through a planted file: the
    text goes to a new file made exclusively (O_EXCL, O_NOFOLLOW) beside it, which then replaces `path` (a rename
    replaces a symbolic link itself, not the file it points to)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _create_private(path: Path, text: str) -> bool:
    """Create `path` (0600) holding `text` only if nothing is there, not even a symbolic link; False if something
    is (another process made it first: the caller reads that one)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return True


def read_private(path: Path, what: str) -> str:
    """The text of a key file the operator owns, refused unless it is a regular file of this user's that nobody else
    can read or write, reached without following a symbolic link: whoever can read the master key can forge
    session tokens for every account, and whoever chose it can read what it seals."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SettingsError(f"{what} {path} is a symbolic link; refusing to follow it (whoever made it chose the "
                                f"key). Replace it with the file itself, owned by you, mode 0600.") from None
        raise SettingsError(f"cannot read {what} {path}: {e.strerror}") from None
    with os.fdopen(fd, "r") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SettingsError(f"{what} {path} is not a regular file")
        if st.st_uid != os.geteuid():
            raise SettingsError(f"{what} {path} belongs to user id {st.st_uid}, not to this user ({os.geteuid()}): "
                                f"refusing a key someone else controls. Fix: chown {os.geteuid()} {path}")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise SettingsError(f"{what} {path} is readable or writable by group or others (mode {mode:04o}); "
                                f"treat the key as exposed. Fix: chmod 600 {path}")
        return f.read()


def check_data_dir(path: Path, *, created: bool) -> None:
    """Refuse a data directory someone else could plant files in (writable by group or others, or not ours), or
    repair it when this process just created it."""
    st = path.stat()
    if not stat.S_ISDIR(st.st_mode):
        raise SettingsError(f"data directory {path} is not a directory")
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid != os.geteuid():
        raise SettingsError(f"data directory {path} belongs to user id {st.st_uid}, not to this user "
                            f"({os.geteuid()}): its owner could replace the key files in it. Fix: chown "
                            f"{os.geteuid()} {path}")
    if mode & 0o022:
        if created:
            os.chmod(path, 0o700)
            return
        raise SettingsError(f"data directory {path} is writable by group or others (mode {mode:04o}): anyone who "
                            f"can write there can plant its key files. Fix: chmod 700 {path}")


def _keep_private(path: Path) -> None:
    """Make a file of ours owner-only (0600), creating it empty if need be (never through a symbolic link).

    For the SQLite database (password hashes, sealed secrets): SQLite creates it, and its -wal and -shm files, with
    the process umask (usually 0644), and copies the database file's mode to the other two.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SettingsError(f"{path} is a symbolic link; refusing to follow it. Replace it with the database "
                                "file itself.") from None
        raise
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def master_key(settings: Settings) -> bytes:
    """GATEHOUSE_MASTER_KEY, else --master-key-file, else (file storage only) a key file in the data dir."""
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.reveal())
    if settings.master_key_file is not None:
        try:
            return parse_master_key(read_private(settings.master_key_file, "master key file"))
        except FileNotFoundError:
            raise SettingsError(f"master key file {settings.master_key_file} does not exist") from None
    if settings.dev:
        return parse_master_key(new_master_key())  # memory only: nothing outlives the process
    if settings.db_url:
        raise SettingsError("--db needs GATEHOUSE_MASTER_KEY or --master-key-file")
    path = settings.data_dir / MASTER_KEY_FILE
    _create_private(path, new_master_key() + "\n")
    return parse_master_key(read_private(path, "master key file"))


def check_master_key(store: SqlStore, box: SecretBox) -> None:
    """Refuse a master key that is not the store's. The first start records the key's check value (after trying it
    on a secret already sealed, for a store made before check values were kept); every later command and replica
    compares with it, so a wrong key fails at once with a clear error instead of sealing what nothing can open."""
    recorded = store.server_value(MASTER_KEY_CHECK)
    if recorded is None:
        sealed = store.any_sealed_secret()
        if sealed is not None:
            try:
                box.open(sealed[1], sealed[0])
            except SealedSecretError:
                raise SettingsError(_WRONG_KEY) from None
        recorded = store.record_server_value(MASTER_KEY_CHECK, box.check_value())
    accepted = box.check_values() if isinstance(box, KeyRing) else [box.check_value()]  # both keys mid-rotation
    if not any(hmac.compare_digest(recorded, value) for value in accepted):
        raise SettingsError(_WRONG_KEY)


MASTER_KEY_CHECK = "master_key_check"
_WRONG_KEY = ("the master key is not the one this store's secrets are sealed under (its check value differs): give "
              "the key the store was first used with (GATEHOUSE_MASTER_KEY, --master-key-file, or master.key in the "
              "data directory)")


def audit_key_path(settings: Settings) -> Path | None:
    """Where the audit trail's signing key lives: --audit-key, else (file storage) audit.key in the data dir."""
    if settings.audit_key_file is not None:
        return settings.audit_key_file
    if settings.dev or settings.db_url:
        return None
    return settings.data_dir / AUDIT_KEY_FILE


def audit_signer(settings: Settings, clock: Clock) -> DigestSigner | None:
    """The digest signer: the key file is made (exclusively, 0600) on first start; development mode signs with a
    key that lives in memory only; --db without --audit-key signs nothing (replicas must share one key file)."""
    if settings.dev and settings.audit_key_file is None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return DigestSigner(Ed25519PrivateKey.generate(), clock)
    path = audit_key_path(settings)
    if path is None:
        return None
    try:
        return DigestSigner(load_or_create_key(path), clock)
    except AuditKeyError as e:
        raise SettingsError(str(e)) from None


@dataclass
class AuditTools:
    """What `gatehouse audit verify` and `export` need: the trail's storage and the digests' public key, found as
    `serve` finds them, without migrating, bootstrapping or reading the master key."""

    store: SqlStore
    key_path: Path | None

    def public_key(self) -> object | None:
        if self.key_path is None or not self.key_path.exists():
            return None
        try:
            return load_key(self.key_path).public_key()
        except AuditKeyError as e:
            raise SettingsError(str(e)) from None

    def close(self) -> None:
        self.store.close()


def audit_tools(settings: Settings) -> AuditTools:
    if settings.dev:
        raise SettingsError("development mode keeps no trail on disk: give --data DIR or --db URL")
    if not settings.db_url and not (settings.data_dir / DATABASE_FILE).exists():
        raise SettingsError(f"no Gatehouse database in {settings.data_dir}")
    try:
        store = SqlStore(settings.store_url, migrate=False)
    except SchemaMismatch as e:
        raise SettingsError(str(e)) from None
    return AuditTools(store=store, key_path=audit_key_path(settings))



def master_key_file(settings: Settings) -> Path | None:
    """The file the master key is read from (None: the environment, or memory in --dev): what a running server
    watches during `gatehouse rotate-master-key` and what the rotation rewrites."""
    if settings.master_key is not None or settings.dev:
        return None
    if settings.master_key_file is not None:
        return settings.master_key_file
    return None if settings.db_url else settings.data_dir / MASTER_KEY_FILE


@dataclass(frozen=True)
class Services:
    """Everything `build` makes, made once: the CLI, the console and the wire layer take what they need from here
    and never build a copy of their own."""

    settings: Settings
    store: SqlStore
    box: SecretBox
    clock: Clock
    tokens: SessionTokens
    managed: AwsManagedPolicies
    authenticator: Authenticator
    authorizer: Authorizer
    iam: tuple[object, ...]  # the IAM use cases (Users, Roles, …), as routed
    sts: Sts
    sts_handlers: tuple[object, ...]  # Sts and the federation use cases that answer STS operations
    signin: Signin
    account_security: AccountSecurity
    outbound: OutboundFederation
    workloads: Workloads
    recorder: CallRecorder  # the trail, or NoTrail when it is off
    trail: AuditTrail | None
    throttle: Throttle
    router: Router
    endpoint: AwsEndpoint


@dataclass
class Application:
    """The built application: its services and the ASGI app serving them."""

    services: Services
    asgi: AwsAsgi | None = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def store(self) -> SqlStore:
        return self.services.store

    @property
    def box(self) -> SecretBox:
        return self.services.box

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def authz(self) -> Authorizer:
        return self.services.authorizer

    @property
    def trail(self) -> AuditTrail | None:
        return self.services.trail

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
        if self.trail is not None:
            self.trail.close()
        if self.asgi is not None:
            self.asgi.executor.close()
        self.store.close()


def snapshots(app: Application) -> SqlSnapshots:
    """Whole-store snapshots and restores (`gatehouse backup`, `restore`, `rotate-master-key`)."""
    return SqlSnapshots(app.store.engine)


def worker_app() -> ASGIApp:
    """Uvicorn factory for `--workers N`: each worker process builds its own application."""
    settings = worker_settings()
    app = build(settings, migrate=False)
    assert app.asgi is not None
    return served(app.asgi, settings)


def served(asgi: AwsAsgi, settings: Settings) -> ASGIApp:
    """What uvicorn runs: the application, behind `Forwarded` handling when the operator names trusted proxies
    (uvicorn itself handles their `X-Forwarded-*`)."""
    return ForwardedHeader(asgi, settings.forwarded_allow_ips) if settings.forwarded_allow_ips else asgi


def build(settings: Settings, *, clock: Clock = system_clock, migrate: bool = True) -> Application:
    settings = settings.checked()
    if not settings.dev and not settings.db_url:
        created = not settings.data_dir.exists()
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        check_data_dir(settings.data_dir, created=created)
        _keep_private(settings.data_dir / DATABASE_FILE)
    key = master_key(settings)
    key_file = master_key_file(settings)
    box, tokens = (KeyRing(key, key_file) if key_file else SecretBox(key)), SessionTokens(key)
    try:
        store = SqlStore(settings.store_url, migrate=migrate)
    except SchemaMismatch as e:
        raise SettingsError(str(e)) from None
    try:
        check_master_key(store, box)
    except SettingsError:
        store.close()
        raise
    trail = (AuditTrail(store.audit, audit_signer(settings, clock),
                        TrailTiming(retention_days=settings.audit_retention_days))
             if settings.audit_enabled else None)
    managed = AwsManagedPolicies()
    authz = Authorizer(managed, enforce=settings.enforce or settings.dev, messages=AuthorizationMessages(key))
    deps = IamDeps(store=store, authz=authz, box=box, documents=PolicyDocuments(), managed=managed, clock=clock)
    iam: list[object] = [Users(deps), Groups(deps), Roles(deps), ManagedPolicies(deps), EntityPolicies(deps),
                         AccessKeys(deps), InstanceProfiles(deps), AccountOps(deps), ServiceLinkedRoles(deps),
                         Simulator(deps)]
    # Sign-in lockout: the server's defaults, which an account may override (`gatehouse account lockout`).
    lockout = LockoutPolicy(settings.lockout_threshold, settings.lockout_window, settings.lockout_duration)
    limits = RateLimits(settings.signin_rate_per_address, settings.signin_rate_per_user,
                        event_retention_days=settings.signin_event_retention_days)
    # ChangePassword and MFA codes (STS, Enable/ResyncMFADevice) check a secret too: their failures count toward
    # the sign-in lockout.
    lockouts = Lockouts(store, lockout, limits)
    passwords, codes = Passwords(), MfaCodes(store, box, clock, lockouts)
    iam += [LoginProfiles(deps, passwords, lockouts), PasswordPolicyOps(deps), MfaDevices(deps, codes),
            ServerCertificates(deps), SigningCertificates(deps), SshKeys(deps), ServiceCredentials(deps, passwords)]
    signin = Signin(store, passwords, codes, tokens, clock, lockout, limits,
                    audit=SigninTrail(trail) if trail else None)
    sts = Sts(StsDeps(store=store, authz=authz, tokens=tokens, managed=managed, clock=clock, mfa=codes))
    federated = FederatedRoles(sts, authz, store)
    outbound = OutboundFederation(OutboundDeps(store=store, authz=authz, box=box, clock=clock,
                                               public_url=issuer_base(settings.public_url, settings.dev, settings.host,
                                                                      settings.port)))
    iam += [OidcProviders(deps), SamlProviders(deps), outbound, CredentialReports(deps, store.audit),
            ServiceLastAccessed(deps, store.audit, flush=trail.flush if trail else None)]
    fetcher = HttpsJsonFetcher(allow_private=settings.fetch_allow_private)  # public addresses + the operator's
    sts_handlers = [sts, WebIdentityFederation(federated, store, IssuerKeys(fetcher), clock),
                    SamlFederation(federated, store, clock), outbound]
    account_security = AccountSecurity(store, passwords, clock, lockout)
    # Registered workloads get role sessions at <public URL, else the listening address>/_gatehouse/workload-...
    server_base = issuer_base(settings.public_url, True, settings.host, settings.port) or ""
    workloads = Workloads(store, authz, sts, clock, server_base + CREDENTIALS_PATH)
    # Gatehouse's own operations (wire/models/gatehouse): OffboardUser, over the IAM use cases above; workloads; the
    # resource registry.
    registry = ResourceRegistry(store, authz, clock)
    handlers: dict[str, list[object]] = {"iam": iam, "sts": sts_handlers,
                                         "gatehouse": [Offboarding(iam), workloads, registry],
                                         "organizations": [OrganizationsApi(store, authz, managed, clock)]}
    if trail is not None:  # CloudTrail's LookupEvents, on the JSON protocol, over the trail
        handlers["cloudtrail"] = [CloudTrailLookup(store.audit, store, authz, flush=trail.flush)]
    models = ServiceModels()
    router = Router(models, handlers)
    # In development mode the auth switch stands for --no-enforce (and moto's reset-auth moves it); policies are
    # then decided per request, as the switch says.
    switch = AuthSwitch(settings.account_id or "", enforce=settings.enforce) if settings.dev else None
    throttle = Throttle(ThrottleConfig(settings.throttle_per_key or 0.0, settings.throttle_per_account or 0.0))
    # Every call's record goes to the audit trail (NoTrail when it is off: bench only).
    recorder: CallRecorder = trail if trail is not None else NoTrail()
    authenticator = Authenticator(store, box, clock, tokens)
    endpoint = AwsEndpoint(router, authenticator, WireConfig(), clock, switch, throttle, recorder=recorder)
    services = Services(settings=settings, store=store, box=box, clock=clock, tokens=tokens, managed=managed,
                        authenticator=authenticator, authorizer=authz, iam=tuple(iam), sts=sts,
                        sts_handlers=tuple(sts_handlers), signin=signin, account_security=account_security,
                        outbound=outbound, workloads=workloads, recorder=recorder, trail=trail, throttle=throttle,
                        router=router, endpoint=endpoint)
    app = Application(services)
    executor = Executor()
    csrf = SigninCsrf(key, clock)
    console = ConsoleDeps(signin=signin, authenticator=authenticator, csrf=csrf, box=box, clock=clock,
                          invoke=endpoint.call, public_url=settings.public_url, dev=settings.dev)
    # POST /authorize[/batch]: the authorization API for applications, on the AWS request path.
    authorize = AuthorizeEndpoint(endpoint, AuthorizationApi(store, authz))
    app.asgi = build_app(endpoint, reset=app.reset if settings.dev else None, executor=executor,
                         body_timeout=settings.body_timeout,
                         extra_routes=signin_routes(signin, csrf, settings.public_url)
                         + issuer_routes(outbound)
                         + workload_credentials_routes(workloads, executor, recorder, models, clock,
                                                       prefix=urlsplit(server_base).path.rstrip("/"))
                         + console_routes(console) + authorize_routes(),
                         paths={"/authorize": authorize, "/authorize/batch": authorize})
    return app
