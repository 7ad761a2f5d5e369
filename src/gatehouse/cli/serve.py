"""`gatehouse serve` and `gatehouse init`: flags and GATEHOUSE_* variables → Settings → the application."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from gatehouse.settings import (
    DEFAULT_PORT,
    Secret,
    Settings,
    SettingsError,
    export_for_workers,
    export_header_timeout,
    with_environment,
)

if TYPE_CHECKING:
    from gatehouse.app import Application
    from gatehouse.services.bootstrap import BootstrapResult

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

Host = Annotated[str, typer.Option("--host", envvar="GATEHOUSE_HOST", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", envvar="GATEHOUSE_PORT", help="Port to listen on.")]
Data = Annotated[Path, typer.Option("--data", envvar="GATEHOUSE_DATA", help="Data directory (SQLite, keys).")]
Db = Annotated[str | None, typer.Option("--db", envvar="GATEHOUSE_DB",
                                        help="Database URL, e.g. postgresql+psycopg://user@host/db.")]
Dev = Annotated[bool, typer.Option("--dev", envvar="GATEHOUSE_DEV",
                                   help="Development mode: in memory, account 123456789012, root key test/test.")]
Enforce = Annotated[bool, typer.Option("--enforce/--no-enforce", envvar="GATEHOUSE_ENFORCE",
                                       help="--no-enforce (with --dev only) skips clock skew and policy checks.")]
AccountId = Annotated[str | None, typer.Option("--account-id", envvar="GATEHOUSE_ACCOUNT_ID",
                                               help="Pin the bootstrap account id (12 digits).")]
Partition = Annotated[str | None, typer.Option("--partition", envvar="GATEHOUSE_PARTITION",
                                              help="The bootstrap account's partition (aws, aws-cn, aws-us-gov, "
                                                   "...; default aws). Every ARN of the account is in it.")]
RootKey = Annotated[str | None, typer.Option("--root-access-key-id", envvar="GATEHOUSE_ROOT_ACCESS_KEY_ID",
                                             help="Pin the root access key id.")]
RootSecret = Annotated[str | None, typer.Option("--root-secret-access-key",
                                                envvar="GATEHOUSE_ROOT_SECRET_ACCESS_KEY",
                                                help="Pin the root secret access key.", show_default=False)]
MasterKeyFile = Annotated[Path | None, typer.Option("--master-key-file", envvar="GATEHOUSE_MASTER_KEY_FILE",
                                                    help="File holding the master key (32 bytes, base64).")]
Workers = Annotated[int, typer.Option("--workers", envvar="GATEHOUSE_WORKERS", min=1,
                                      help="Worker processes (not with --dev).")]
LogLevel = Annotated[str, typer.Option("--log-level", envvar="GATEHOUSE_LOG_LEVEL")]
PublicUrl = Annotated[str | None, typer.Option("--public-url", envvar="GATEHOUSE_PUBLIC_URL",
                                               help="URL clients reach this server at (names the outbound token "
                                                    "issuer); with --dev, default: the listening address.")]
ForwardedAllowIps = Annotated[str | None, typer.Option(
    "--forwarded-allow-ips", envvar="GATEHOUSE_FORWARDED_ALLOW_IPS",
    help="Proxies (ADDR or CIDR, comma-separated; * for any) whose X-Forwarded-For/-Proto are believed; default: "
         "none, the address and transport are the connection's.")]
FetchAllowPrivate = Annotated[str | None, typer.Option(
    "--fetch-allow-private", envvar="GATEHOUSE_FETCH_ALLOW_PRIVATE",
    help="Non-public networks (CIDR, comma-separated) identity-provider fetches may reach; default: public only.")]
LockoutThreshold = Annotated[int, typer.Option("--lockout-threshold", envvar="GATEHOUSE_LOCKOUT_THRESHOLD", min=0,
                                                help="Failed sign-ins before a user is locked out (0: never).")]
LockoutWindow = Annotated[int, typer.Option("--lockout-window", envvar="GATEHOUSE_LOCKOUT_WINDOW", min=1,
                                            help="Seconds within which failed sign-ins count together.")]
LockoutDuration = Annotated[int, typer.Option("--lockout-duration", envvar="GATEHOUSE_LOCKOUT_DURATION", min=1,
                                              help="Seconds a locked-out user must wait.")]
SigninRateAddress = Annotated[int, typer.Option("--signin-rate-per-address", envvar="GATEHOUSE_SIGNIN_RATE_PER_ADDRESS",
                                                min=1, help="Sign-in attempts per minute from one address.")]
SigninRateUser = Annotated[int, typer.Option("--signin-rate-per-user", envvar="GATEHOUSE_SIGNIN_RATE_PER_USER", min=1,
                                             help="Sign-in attempts per minute for one user name.")]

AuditKeyFile = Annotated[Path | None, typer.Option("--audit-key", envvar="GATEHOUSE_AUDIT_KEY",
                                                   help="The audit trail's Ed25519 digest signing key file (made "
                                                        "if absent; default audit.key in the data directory; with "
                                                        "--db, a file every replica shares).")]
AuditRetention = Annotated[int, typer.Option("--audit-retention-days", envvar="GATEHOUSE_AUDIT_RETENTION_DAYS", min=0,
                                             help="Days the audit trail keeps events (0: forever).")]
NoAudit = Annotated[bool, typer.Option(
    "--no-audit", hidden=True,
    help="Benchmarking only (bench/README.md): record no audit trail, to measure what the trail costs.")]
SigninRetention = Annotated[int, typer.Option("--signin-event-retention-days",
                                              envvar="GATEHOUSE_SIGNIN_EVENT_RETENTION_DAYS", min=1,
                                              help="Days sign-in events are kept before they are pruned.")]
# Limits (see wire/limits.py and wire/connections.py).
ThrottleKey = Annotated[float | None, typer.Option(
    "--throttle-per-key", envvar="GATEHOUSE_THROTTLE_PER_KEY", min=0, show_default=False,
    help="API requests per second per access key (bursts of 2 s; over it: Throttling); 0: no limit. "
         "Default 400, none with --dev.")]
ThrottleAccount = Annotated[float | None, typer.Option(
    "--throttle-per-account", envvar="GATEHOUSE_THROTTLE_PER_ACCOUNT", min=0, show_default=False,
    help="API requests per second per account; 0: no limit. Default 1000, none with --dev.")]
HeaderTimeout = Annotated[float, typer.Option("--header-timeout", envvar="GATEHOUSE_HEADER_TIMEOUT", min=0.1,
                                              help="Seconds a connection has to send a request's headers.")]
BodyTimeout = Annotated[float, typer.Option("--body-timeout", envvar="GATEHOUSE_BODY_TIMEOUT", min=0.1,
                                            help="Seconds a request has to send its body.")]
KeepAlive = Annotated[int, typer.Option("--keep-alive-timeout", envvar="GATEHOUSE_KEEP_ALIVE_TIMEOUT", min=1,
                                        help="Seconds an idle keep-alive connection stays open.")]
MaxConnections = Annotated[int, typer.Option("--max-connections", envvar="GATEHOUSE_MAX_CONNECTIONS", min=1,
                                             help="Connections and requests at once per process; beyond: 503.")]


def _settings(host: str, port: int, data: Path, db: str | None, dev: bool, enforce: bool, account_id: str | None,
              root_access_key_id: str | None, root_secret_access_key: str | None, master_key_file: Path | None,
              workers: int, log_level: str, partition: str | None = None) -> Settings:
    return with_environment(Settings(
        host=host, port=port, data_dir=data, db_url=db, dev=dev, enforce=enforce, account_id=account_id,
        partition=partition, root_access_key_id=root_access_key_id,
        root_secret_access_key=Secret(root_secret_access_key) if root_secret_access_key else None,
        master_key_file=master_key_file, workers=workers, log_level=log_level))


def _start(settings: Settings) -> tuple[Application, BootstrapResult]:
    from gatehouse.app import build

    try:
        app = build(settings)
        result = app.bootstrap()
    except SettingsError as e:
        err.print(f"[red]gatehouse: {e}[/red]")
        raise typer.Exit(2) from None
    return app, result


def _announce(settings: Settings, result: BootstrapResult, url: str) -> None:
    out.print(f"Gatehouse account: [bold]{result.account_id}[/bold]")
    secret = result.secret_access_key
    key_id = result.access_key_id
    if secret and not settings.dev and settings.root_secret_access_key is not None:
        out.print(f"Root access key: {key_id} (with the secret given)")  # never echo a secret into the log
    elif secret and not settings.dev:
        out.print("Root access key (shown once; also saved 0600 in the data directory):")
        out.print(f"  AWS_ACCESS_KEY_ID={key_id}")
        out.print(f"  AWS_SECRET_ACCESS_KEY={secret}")
    elif settings.dev:
        out.print(f"Root access key: {key_id} (development mode)")
    if url:
        out.print("Try:")
        out.print(f"  aws --endpoint-url {url} --region us-east-1 iam create-user --user-name alice")


def serve_command(
    host: Host = "127.0.0.1", port: Port = DEFAULT_PORT, data: Data = Path("data"), db: Db = None, dev: Dev = False,
    enforce: Enforce = True, account_id: AccountId = None, root_access_key_id: RootKey = None,
    root_secret_access_key: RootSecret = None, master_key_file: MasterKeyFile = None, workers: Workers = 1,
    log_level: LogLevel = "info", lockout_threshold: LockoutThreshold = 5, lockout_window: LockoutWindow = 900,
    lockout_duration: LockoutDuration = 900, signin_rate_per_address: SigninRateAddress = 60,
    signin_rate_per_user: SigninRateUser = 20, public_url: PublicUrl = None, partition: Partition = None,
    audit_key: AuditKeyFile = None, audit_retention_days: AuditRetention = 90,
    forwarded_allow_ips: ForwardedAllowIps = None, fetch_allow_private: FetchAllowPrivate = None,
    signin_event_retention_days: SigninRetention = 90,
    throttle_per_key: ThrottleKey = None, throttle_per_account: ThrottleAccount = None,
    header_timeout: HeaderTimeout = 10.0, body_timeout: BodyTimeout = 30.0, keep_alive_timeout: KeepAlive = 5,
    max_connections: MaxConnections = 1000, no_audit: NoAudit = False,
    list_operations: Annotated[bool, typer.Option(
        "--list-operations", help="Print which operations of each service's model are served (Markdown) and exit.")
    ] = False,
) -> None:
    """Serve the AWS IAM and STS APIs."""
    import dataclasses

    import uvicorn

    if list_operations:
        from gatehouse.app import build

        shown = build(Settings(dev=True))
        sys.stdout.write(shown.services.router.coverage_markdown())
        shown.close()
        return

    settings = _settings(host, port, data, db, dev, enforce, account_id, root_access_key_id, root_secret_access_key,
                         master_key_file, workers, log_level, partition)
    settings = dataclasses.replace(settings, lockout_threshold=lockout_threshold, lockout_window=lockout_window,
                                   lockout_duration=lockout_duration, signin_rate_per_address=signin_rate_per_address,
                                   signin_rate_per_user=signin_rate_per_user, public_url=public_url,
                                   audit_key_file=audit_key, audit_retention_days=audit_retention_days,
                                   audit_enabled=not no_audit,
                                   forwarded_allow_ips=_list(forwarded_allow_ips),
                                   fetch_allow_private=_list(fetch_allow_private),
                                   signin_event_retention_days=signin_event_retention_days,
                                   throttle_per_key=throttle_per_key, throttle_per_account=throttle_per_account,
                                   header_timeout=header_timeout, body_timeout=body_timeout,
                                   keep_alive_timeout=keep_alive_timeout, max_connections=max_connections)
    app, result = _start(settings)
    from gatehouse.wire.connections import PROTOCOL

    export_header_timeout(settings)  # read by the HTTP protocol, in every worker
    connections = {"http": PROTOCOL, "timeout_keep_alive": settings.keep_alive_timeout,
                   "limit_concurrency": settings.max_connections, "h11_max_incomplete_event_size": 64 * 1024}
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _announce(settings, result, f"http://{host}:{port}")
    if not settings.audit_enabled:
        err.print("[yellow]gatehouse: --no-audit: no call is recorded (benchmarking only)[/yellow]")
    if settings.workers > 1:
        app.close()
        export_for_workers(settings)
        uvicorn.run("gatehouse.app:worker_app", factory=True, workers=settings.workers, host=host, port=port,
                    log_level=log_level, access_log=False, server_header=False, **_proxy_options(settings),
                    **connections)  # type: ignore[arg-type]
        return
    from gatehouse.app import served

    assert app.asgi is not None
    try:
        uvicorn.run(served(app.asgi, settings), host=host, port=port, log_level=log_level, access_log=False,
                    server_header=False, **_proxy_options(settings), **connections)  # type: ignore[arg-type]
    finally:
        app.close()  # the trail appends what it queued and signs its heads


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _proxy_options(settings: Settings) -> dict[str, Any]:
    """Uvicorn's proxy headers, off unless the operator names the proxies: uvicorn's default believes
    X-Forwarded-For/-Proto from any loopback peer, which anything forwarding onto the host would hand to remote
    callers (aws:SourceIp, aws:SecureTransport and the sign-in limits would be theirs to choose)."""
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.forwarded_allow_ips)}


def init_command(
    data: Data = Path("data"), db: Db = None, account_id: AccountId = None, root_access_key_id: RootKey = None,
    root_secret_access_key: RootSecret = None, master_key_file: MasterKeyFile = None, partition: Partition = None,
) -> None:
    """Create the data store and bootstrap the account, then exit."""
    settings = _settings("127.0.0.1", DEFAULT_PORT, data, db, False, True, account_id, root_access_key_id,
                         root_secret_access_key, master_key_file, 1, "info", partition)
    app, result = _start(settings)
    _announce(settings, result, "")
    app.close()
