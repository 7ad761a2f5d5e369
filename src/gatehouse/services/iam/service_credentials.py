"""Service-specific credentials: a user name and password for one service (CodeCommit Git over HTTPS, Amazon
Keyspaces), or an API key for the services that take long-term API keys (Bedrock, CloudWatch Logs).

The password or secret is generated here, shown once (on create and on reset) and kept only as an argon2id hash:
nothing needs it back, a service only has to check one.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from gatehouse.credentials import ServiceCredential
from gatehouse.errors import InvalidInput, LimitExceeded, NoSuchEntity, NotSupportedService
from gatehouse.model import Caller, User
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import IamDeps, short_page
from gatehouse.services.iam.holders import CredentialHolder
from gatehouse.services.operation import operation
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import UnitOfWork

PASSWORD_SERVICES = frozenset({"codecommit.amazonaws.com", "cassandra.amazonaws.com"})
API_KEY_SERVICES = frozenset({"bedrock.amazonaws.com", "logs.amazonaws.com"})
SUPPORTED = PASSWORD_SERVICES | API_KEY_SERVICES
MAX_PER_SERVICE = 2


def _unsupported(service_name: str) -> NotSupportedService:
    return NotSupportedService(f"The specified service {service_name} is not supported for service-specific "
                               f"credentials. Supported services: {', '.join(sorted(SUPPORTED))}.")


def _new_secret(service_name: str) -> str:
    if service_name in API_KEY_SERVICES:
        return "ABSK" + base64.b64encode(secrets.token_bytes(60)).decode("ascii")
    return base64.b64encode(secrets.token_bytes(33)).decode("ascii")  # 44 characters, as AWS's Git passwords


def service_credential_view(c: ServiceCredential, user_name: str, secret: str | None = None, *,
                            listing: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"UserName": user_name, "Status": c.status, "CreateDate": c.created,
                           "ServiceSpecificCredentialId": c.credential_id, "ServiceName": c.service_name}
    if c.service_name in API_KEY_SERVICES:
        out["ServiceCredentialAlias"] = c.service_user_name
        if secret is not None:
            out["ServiceCredentialSecret"] = secret
    else:
        out["ServiceUserName"] = c.service_user_name
        if secret is not None and not listing:
            out["ServicePassword"] = secret
    if c.expires:
        out["ExpirationDate"] = c.expires
    return out


class ServiceCredentials(CredentialHolder):
    def __init__(self, deps: IamDeps, passwords: Passwords) -> None:
        super().__init__(deps)
        self.passwords = passwords

    @operation
    def create_service_specific_credential(self, caller: Caller, user_name: str, service_name: str,
                                           credential_age_days: int | None = None) -> dict[str, Any]:
        if service_name not in SUPPORTED:
            raise _unsupported(service_name)
        if credential_age_days is not None and service_name not in API_KEY_SERVICES:
            raise InvalidInput(f"CredentialAgeDays is only valid for services that take API keys, not "
                               f"{service_name}.")
        secret = _new_secret(service_name)
        hashed = self.passwords.hash(secret)
        with self.store.write(caller.account_id) as tx:
            user = self.user_for(tx, caller, "iam:CreateServiceSpecificCredential", user_name,
                                 RequestFacts(service_name=service_name, credential_age_days=credential_age_days))
            if len(tx.service_credentials.for_user(user.user_id, service_name)) >= MAX_PER_SERVICE:
                raise LimitExceeded(f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
                                    f"{MAX_PER_SERVICE}")
            now = whole_seconds(self.deps.clock)
            credential_id = ids.unique_id(ids.Prefix.SERVICE_CREDENTIAL)
            login = f"{user.name}-at-{caller.account_id}"
            if service_name in API_KEY_SERVICES:
                login = f"{login}+{credential_id[-8:].lower()}"
            credential = ServiceCredential(
                account_id=caller.account_id, credential_id=credential_id, user_id=user.user_id,
                service_name=service_name, service_user_name=login, password_hash=hashed, status="Active",
                created=now, expires=now + dt.timedelta(days=credential_age_days) if credential_age_days else None)
            tx.service_credentials.insert(credential)
        return {"ServiceSpecificCredential": service_credential_view(credential, user.name, secret)}

    def _holder_of(self, tx: UnitOfWork, caller: Caller, action: str, user_name: str | None, credential_id: str
                   ) -> User | None:
        """The user meant, authorized with the service of the credential named (when it is that user's): the
        reference's iam:ServiceSpecificCredentialServiceName."""
        name = self.own_user_name(caller, user_name)
        found = tx.service_credentials.get(credential_id)
        user = tx.users.get(name) if name else None
        service = found.service_name if found and user and found.user_id == user.user_id else None
        return self.holder(tx, caller, action, user_name, RequestFacts(service_name=service))

    def _credential(self, tx: UnitOfWork, user: User | None, credential_id: str) -> ServiceCredential:
        found = tx.service_credentials.get(credential_id)
        if found is None or user is None or found.user_id != user.user_id:
            raise NoSuchEntity(f"No such credential {credential_id} exists")
        return found

    @operation
    def reset_service_specific_credential(self, caller: Caller, service_specific_credential_id: str,
                                          user_name: str | None = None) -> dict[str, Any]:
        # The new secret's argon2 hash is made before the write transaction, not under its lock (the secret's form
        # depends only on the credential's service, which never changes).
        with self.store.read(caller.account_id) as tx:
            found = tx.service_credentials.get(service_specific_credential_id)
        prepared = _new_secret(found.service_name) if found else None
        prepared_hash = self.passwords.hash(prepared) if prepared else None
        with self.store.write(caller.account_id) as tx:
            user = self._holder_of(tx, caller, "iam:ResetServiceSpecificCredential", user_name,
                                   service_specific_credential_id)
            credential = self._credential(tx, user, service_specific_credential_id)
            if prepared is None or prepared_hash is None:  # not there a moment ago: made since (rare)
                prepared = _new_secret(credential.service_name)
                prepared_hash = self.passwords.hash(prepared)
            secret = prepared
            tx.service_credentials.set_password(credential.credential_id, prepared_hash)
        assert user is not None
        return {"ServiceSpecificCredential": service_credential_view(credential, user.name, secret)}

    @operation
    def update_service_specific_credential(self, caller: Caller, service_specific_credential_id: str, status: str,
                                           user_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self._holder_of(tx, caller, "iam:UpdateServiceSpecificCredential", user_name,
                                   service_specific_credential_id)
            self._credential(tx, user, service_specific_credential_id)
            tx.service_credentials.set_status(service_specific_credential_id, status)
        return {}

    @operation
    def delete_service_specific_credential(self, caller: Caller, service_specific_credential_id: str,
                                           user_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self._holder_of(tx, caller, "iam:DeleteServiceSpecificCredential", user_name,
                                   service_specific_credential_id)
            self._credential(tx, user, service_specific_credential_id)
            tx.service_credentials.delete(service_specific_credential_id)
        return {}

    @operation
    def list_service_specific_credentials(self, caller: Caller, user_name: str | None = None,
                                          service_name: str | None = None, all_users: bool | None = None,
                                          marker: str | None = None, max_items: int | None = None
                                          ) -> dict[str, Any]:
        if service_name is not None and service_name not in SUPPORTED:
            raise _unsupported(service_name)
        if all_users and user_name:
            raise InvalidInput("UserName and AllUsers cannot be specified together.")
        with self.store.read(caller.account_id) as tx:
            if all_users:
                self.require(tx, caller, "iam:ListServiceSpecificCredentials", self.arn(caller, "user/*"))
                found = tx.service_credentials.for_user(None, service_name)
                names = {u.user_id: u.name for u in tx.users.all()}
            else:
                user = self.holder(tx, caller, "iam:ListServiceSpecificCredentials", user_name)
                found = tx.service_credentials.for_user(user.user_id, service_name) if user else []
                names = {user.user_id: user.name} if user else {}
        return short_page("ServiceSpecificCredentials",
                          [service_credential_view(c, names.get(c.user_id, ""), listing=True) for c in found],
                          marker, max_items)
