"""The SQL implementation of the storage interface (SQLite and PostgreSQL through SQLAlchemy Core)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from gatehouse.model import Account, Workload
from gatehouse.storage.repository import CredentialRecord, Duplicate, SessionState, Store
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.audit import SqlAuditLog
from gatehouse.storage.sql.credentials import (
    SqlLoginProfiles,
    SqlMfaDevices,
    SqlPasswordPolicies,
    SqlServerCertificates,
    SqlServiceCredentials,
    SqlSigningCertificates,
    SqlSshPublicKeys,
)
from gatehouse.storage.sql.engine import WRITE_OPTION, is_sqlite, make_engine
from gatehouse.storage.sql.federation import (
    SqlOidcProviders,
    SqlOutboundIssuers,
    SqlSamlProviders,
    remember_assertion,
)
from gatehouse.storage.sql.held import Connections, OwnedLock
from gatehouse.storage.sql.identities import SqlGroups, SqlPrincipals, SqlRoles, SqlUsers, _user
from gatehouse.storage.sql.migrate import upgrade
from gatehouse.storage.sql.organizations import SqlOrganizations
from gatehouse.storage.sql.others import (
    SqlAccessKeys,
    SqlAccounts,
    SqlInstanceProfiles,
    SqlTags,
    SqlTasks,
    key_from_row,
)
from gatehouse.storage.sql.policies import SqlAttachments, SqlInlinePolicies, SqlManagedPolicies
from gatehouse.storage.sql.resources import SqlResources
from gatehouse.storage.sql.signin_ledger import SqlSigninLedger
from gatehouse.storage.sql.workloads import SqlWorkloads, workload_by_token


class SqlUnitOfWork:
    """Repositories bound to one connection (one transaction) and one account."""

    def __init__(self, conn: Connection, account_id: str | None, revision: int) -> None:
        self.conn = conn
        self.account_id = account_id
        self._revision = revision

    @property
    def revision(self) -> int:
        return self._revision

    def _acct(self) -> str:
        if self.account_id is None:
            raise RuntimeError("this unit of work is not bound to an account")
        return self.account_id

    @cached_property
    def accounts(self) -> SqlAccounts:
        return SqlAccounts(self.conn, self.account_id or "")

    @cached_property
    def users(self) -> SqlUsers:
        return SqlUsers(self.conn, self._acct())

    @cached_property
    def groups(self) -> SqlGroups:
        return SqlGroups(self.conn, self._acct())

    @cached_property
    def roles(self) -> SqlRoles:
        return SqlRoles(self.conn, self._acct())

    @cached_property
    def principals(self) -> SqlPrincipals:
        return SqlPrincipals(self.conn)

    @cached_property
    def policies(self) -> SqlManagedPolicies:
        return SqlManagedPolicies(self.conn, self._acct())

    @cached_property
    def inline(self) -> SqlInlinePolicies:
        return SqlInlinePolicies(self.conn, self._acct())

    @cached_property
    def attachments(self) -> SqlAttachments:
        return SqlAttachments(self.conn, self._acct())

    @cached_property
    def keys(self) -> SqlAccessKeys:
        return SqlAccessKeys(self.conn, self._acct())

    @cached_property
    def profiles(self) -> SqlInstanceProfiles:
        return SqlInstanceProfiles(self.conn, self._acct())

    @cached_property
    def tags(self) -> SqlTags:
        return SqlTags(self.conn, self._acct())

    @cached_property
    def tasks(self) -> SqlTasks:
        return SqlTasks(self.conn, self._acct())

    # --- sign-in credentials ---

    @cached_property
    def logins(self) -> SqlLoginProfiles:
        return SqlLoginProfiles(self.conn, self.account_id or "")  # root_by_email needs no account

    @cached_property
    def password_policy(self) -> SqlPasswordPolicies:
        return SqlPasswordPolicies(self.conn, self._acct())

    @cached_property
    def mfa(self) -> SqlMfaDevices:
        return SqlMfaDevices(self.conn, self._acct())

    @cached_property
    def server_certificates(self) -> SqlServerCertificates:
        return SqlServerCertificates(self.conn, self._acct())

    @cached_property
    def signing_certificates(self) -> SqlSigningCertificates:
        return SqlSigningCertificates(self.conn, self._acct())

    @cached_property
    def ssh_keys(self) -> SqlSshPublicKeys:
        return SqlSshPublicKeys(self.conn, self._acct())

    @cached_property
    def service_credentials(self) -> SqlServiceCredentials:
        return SqlServiceCredentials(self.conn, self._acct())

    @cached_property
    def oidc(self) -> SqlOidcProviders:
        return SqlOidcProviders(self.conn, self._acct())

    @cached_property
    def saml(self) -> SqlSamlProviders:
        return SqlSamlProviders(self.conn, self._acct())

    @cached_property
    def outbound(self) -> SqlOutboundIssuers:
        return SqlOutboundIssuers(self.conn, self._acct())

    @cached_property
    def resources(self) -> SqlResources:
        return SqlResources(self.conn, self._acct())

    @cached_property
    def workloads(self) -> SqlWorkloads:
        return SqlWorkloads(self.conn, self._acct())

    @cached_property
    def organizations(self) -> SqlOrganizations:
        return SqlOrganizations(self.conn)

    def other(self, account_id: str) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.conn, account_id, self._revision)


# Hot-path statements are built once: constructing SQLAlchemy expressions costs more than running them.
_K, _U, _OA, _O = t.access_keys, t.users, t.org_accounts, t.organizations
# The account's organization (and its revision, a cache key) comes in the same statement: outer joins on primary
# keys, so authenticating costs no extra query and the authorizer none for the caller's own organization.
_CREDENTIAL = (
    select(_K, t.accounts.c.revision.label("account_revision"), t.accounts.c.partition, _U.c.name, _U.c.path,
           _U.c.created.label("user_created"), _U.c.boundary, _U.c.password_last_used,
           _O.c.org_id.label("org_id"), _O.c.revision.label("org_revision"))
    .join(t.accounts, t.accounts.c.account_id == _K.c.account_id)
    .outerjoin(_U, _U.c.user_id == _K.c.user_id)
    .outerjoin(_OA, _OA.c.account_id == _K.c.account_id)
    .outerjoin(_O, _O.c.org_id == _OA.c.org_id)
    .where(_K.c.access_key_id == bindparam("key_id"))
)
_BUMP_REVISION = (
    update(t.accounts).where(t.accounts.c.account_id == bindparam("account"))
    .values(revision=t.accounts.c.revision + 1).returning(t.accounts.c.revision)
)
_REVISION = select(t.accounts.c.revision).where(t.accounts.c.account_id == bindparam("account"))
_RS = t.revoked_sessions
# The account's revision and the session's revocation in one statement (the second a primary-key probe): what
# temporary credentials cost to authenticate stays one query.
_SESSION_STATE = (
    select(t.accounts.c.revision, t.accounts.c.partition,
           exists().where(_RS.c.access_key_id == bindparam("key_id")).label("revoked"),
           _O.c.org_id.label("org_id"), _O.c.revision.label("org_revision"))
    .outerjoin(_OA, _OA.c.account_id == t.accounts.c.account_id)
    .outerjoin(_O, _O.c.org_id == _OA.c.org_id)
    .where(t.accounts.c.account_id == bindparam("account"))
)
_W = t.workloads
# A workload's session: also revoked unless its workload (by internal id, a primary-key probe) is still active.
_WORKLOAD_SESSION_STATE = (
    select(t.accounts.c.revision, t.accounts.c.partition,
           or_(exists().where(_RS.c.access_key_id == bindparam("key_id")),
               ~exists().where(_W.c.uid == bindparam("workload"), _W.c.account_id == bindparam("account"),
                               _W.c.revoked_at.is_(None))).label("revoked"),
           _O.c.org_id.label("org_id"), _O.c.revision.label("org_revision"))
    .outerjoin(_OA, _OA.c.account_id == t.accounts.c.account_id)
    .outerjoin(_O, _O.c.org_id == _OA.c.org_id)
    .where(t.accounts.c.account_id == bindparam("account"))
)
_REVOKE = insert(_RS).values(access_key_id=bindparam("key_id"), expires=bindparam("expires"))
_FORGET_REVOKED = delete(_RS).where(_RS.c.expires <= bindparam("now"))
_ROLE_USED = update(t.roles).where(t.roles.c.account_id == bindparam("account"),
                                   t.roles.c.role_id == bindparam("rid")).values(
    last_used=bindparam("when"), last_used_region=bindparam("region"))
_KEY_USED = update(t.access_keys).where(t.access_keys.c.access_key_id == bindparam("key_id")).values(
    last_used=bindparam("when"), last_used_region=bindparam("region"), last_used_service=bindparam("service"))


class SqlStore:
    """Opens units of work. Writers of one account are serialized by the revision bump that starts them."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.memory = is_sqlite(self.engine) and self.engine.url.database in (None, "", ":memory:")
        # One in-memory connection is shared; a lock keeps its transactions apart (owned by a held scope, if any).
        self._lock: contextlib.AbstractContextManager[Any] = OwnedLock() if self.memory else contextlib.nullcontext()
        self._c = Connections(self.engine, self._lock)
        if migrate:
            upgrade(self.engine)
        self.signin = SqlSigninLedger(self._c)
        self.audit = SqlAuditLog(self._c)

    @contextlib.contextmanager
    def read(self, account_id: str | None = None) -> Iterator[SqlUnitOfWork]:
        with self._c.transaction(write=False) as conn:
            yield SqlUnitOfWork(conn, account_id, -1)

    @contextlib.contextmanager
    def write(self, account_id: str) -> Iterator[SqlUnitOfWork]:
        """One unit of work, committed at the end of the block; inside a held scope (`audit.hold`), joined to the
        request's transaction and committed with its event."""
        try:
            with self._c.transaction(write=True, opens=True) as conn:
                revision = conn.execute(_BUMP_REVISION, {"account": account_id}).scalar()
                if revision is None:
                    raise LookupError(f"no account {account_id}")
                yield SqlUnitOfWork(conn, account_id, revision)
        except IntegrityError as e:
            raise Duplicate(str(e.orig)) from None

    def create_account(self, account: Account) -> None:
        try:
            with self._c.transaction(write=True) as conn:
                SqlAccounts(conn, account.account_id).insert(account)
        except IntegrityError as e:
            raise Duplicate(str(e.orig)) from None

    def revision(self, account_id: str) -> int:
        with self._c.transaction(write=False) as conn:
            rev = conn.execute(_REVISION, {"account": account_id}).scalar()
        return -1 if rev is None else int(rev)

    def session_state(self, account_id: str, access_key_id: str, workload: str | None = None
                      ) -> SessionState | None:
        """For temporary credentials: the account's revision and partition, and whether the session was revoked
        (signed out, or its workload revoked), in one query; None when there is no such account."""
        params = {"account": account_id, "key_id": access_key_id}
        with self._c.transaction(write=False) as conn:
            if workload is None:
                r = conn.execute(_SESSION_STATE, params).first()
            else:
                r = conn.execute(_WORKLOAD_SESSION_STATE, params | {"workload": workload}).first()
        return None if r is None else SessionState(int(r.revision), r.partition, bool(r.revoked), _org(r))

    def workload_by_token(self, token_hash: str) -> Workload | None:
        with self._c.transaction(write=False) as conn:
            return workload_by_token(conn, token_hash)

    def revoke_session(self, access_key_id: str, expires: int, now: int) -> None:
        """Refuse the session of `access_key_id` from now until it expires, on every replica; revocations whose
        sessions have expired are forgotten on the way (expiry refuses those). Short transactions of their own, no
        revision bump: it changes no permission."""
        with self._c.transaction(write=True) as conn:
            conn.execute(_FORGET_REVOKED, {"now": now})
        if expires <= now:
            return
        try:
            with self._c.transaction(write=True) as conn:
                conn.execute(_REVOKE, {"key_id": access_key_id, "expires": expires})
        except IntegrityError:  # signed out twice (or on two replicas at once): revoked already
            pass

    def credential(self, access_key_id: str) -> CredentialRecord | None:
        """The key, its user and its account's revision in one query: authentication's hot path."""
        with self._c.transaction(write=False) as conn:
            r = conn.execute(_CREDENTIAL, {"key_id": access_key_id}).first()
        if r is None:
            return None
        user = None
        if r.user_id is not None:
            user = _user(_UserRow(r))
        return CredentialRecord(key=key_from_row(r), user=user, account_revision=r.account_revision,
                                partition=r.partition, org=_org(r))

    def record_key_use(self, access_key_id: str, when: dt.datetime, region: str, service: str) -> None:
        """Last-used bookkeeping: its own short transaction, and no revision bump (it changes no permission)."""
        with self._c.transaction(write=True) as conn:
            conn.execute(_KEY_USED, {"key_id": access_key_id, "when": when, "region": region, "service": service})

    def record_role_use(self, account_id: str, role_id: str, when: dt.datetime, region: str) -> None:
        """RoleLastUsed bookkeeping, like `record_key_use`: no revision bump."""
        with self._c.transaction(write=True) as conn:
            conn.execute(_ROLE_USED, {"account": account_id, "rid": role_id, "when": when, "region": region})

    def remember_assertion(self, account_id: str, provider_id: str, assertion_id: str, expires: dt.datetime,
                           now: dt.datetime) -> bool:
        """SAML replay memory, like `record_role_use`: its own short transactions, and no revision bump. The
        account is implied by the provider id, which is unique across accounts."""
        with self._lock, self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            return remember_assertion(conn, provider_id, assertion_id, expires, now)

    def server_value(self, name: str) -> str | None:
        """A value the whole store shares (`tables.server_values`), or None when none is recorded."""
        with self._lock, self.engine.connect() as conn:
            value = conn.execute(select(t.server_values.c.value).where(t.server_values.c.name == name)).scalar()
            conn.rollback()
        return value

    def record_server_value(self, name: str, value: str) -> str:
        """Record `value` under `name` unless one is recorded already; return the one recorded (the first replica's
        when several start at once)."""
        try:
            with self._lock, self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
                conn.execute(insert(t.server_values).values(name=name, value=value))
            return value
        except IntegrityError:
            recorded = self.server_value(name)
            assert recorded is not None
            return recorded

    def any_sealed_secret(self) -> tuple[str, bytes] | None:
        """One access key's id and sealed secret, if the store holds any: what a master key is tried against."""
        with self._lock, self.engine.connect() as conn:
            r = conn.execute(select(_K.c.access_key_id, _K.c.sealed_secret).limit(1)).first()
            conn.rollback()
        return None if r is None else (r.access_key_id, r.sealed_secret)

    def reset(self) -> None:
        """Delete every row (dev mode's reset) but the store's own values (the master key's check); the schema
        stays."""
        with self._c.transaction(write=True) as conn:
            for table in reversed(t.metadata.sorted_tables):
                if table is not t.server_values:
                    conn.execute(delete(table))

    def close(self) -> None:
        self.engine.dispose()


def _org(r: Any) -> tuple[str, int] | None:
    return None if r.org_id is None else (r.org_id, int(r.org_revision))


class _UserRow:
    """Adapts the joined credential row to the users-row shape `_user` reads."""

    __slots__ = ("account_id", "boundary", "created", "name", "password_last_used", "path", "user_id")

    def __init__(self, r: Any) -> None:
        self.account_id, self.user_id, self.name, self.path = r.account_id, r.user_id, r.name, r.path
        self.created, self.boundary, self.password_last_used = r.user_created, r.boundary, r.password_last_used


# The type checker holds the SQL store to the interface the services are written against.
_STORE_INTERFACE: type[Store] = SqlStore
