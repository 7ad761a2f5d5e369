"""X.509 signing certificates of IAM users (and of the root): upload, list, activate or deactivate, delete.
The body must parse as one PEM certificate; the same certificate cannot be uploaded twice. The body is kept and
returned byte for byte, as uploaded (its trailing newline too), as AWS returns it."""

from __future__ import annotations

import secrets
import string
from typing import Any

from gatehouse.credentials import SigningCertificate
from gatehouse.errors import DuplicateCertificate, LimitExceeded, MalformedCertificate, NoSuchEntity
from gatehouse.model import Caller, User
from gatehouse.services import x509_pem
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import short_page
from gatehouse.services.iam.holders import CredentialHolder
from gatehouse.services.operation import operation
from gatehouse.storage.repository import UnitOfWork

MAX_PER_USER = 2
_ID_ALPHABET = string.ascii_uppercase + string.digits


def signing_certificate_view(c: SigningCertificate, user_name: str) -> dict[str, Any]:
    return {"UserName": user_name, "CertificateId": c.certificate_id, "CertificateBody": c.body, "Status": c.status,
            "UploadDate": c.uploaded}


class SigningCertificates(CredentialHolder):
    @operation
    def upload_signing_certificate(self, caller: Caller, certificate_body: str, user_name: str | None = None
                                   ) -> dict[str, Any]:
        try:
            certificate = x509_pem.parse_certificate(certificate_body)
        except MalformedCertificate:
            # AWS's words, quoting the body (LocalStack's AWS-validated test_iam_signing_certificates snapshot).
            raise MalformedCertificate(f"Certificate {certificate_body} is malformed.") from None
        fingerprint = x509_pem.fingerprint(certificate)
        with self.store.write(caller.account_id) as tx:
            user = self.holder(tx, caller, "iam:UploadSigningCertificate", user_name)
            existing = tx.signing_certificates.for_user(user.user_id if user else None)
            if any(c.fingerprint == fingerprint for c in existing):
                raise DuplicateCertificate("The request was rejected because the same certificate is associated "
                                           "with an IAM user in the account.")
            if len(existing) >= MAX_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for CertificatesPerUser: {MAX_PER_USER}")
            stored = SigningCertificate(
                account_id=caller.account_id, certificate_id="".join(secrets.choice(_ID_ALPHABET) for _ in range(32)),
                user_id=user.user_id if user else None, body=certificate_body, fingerprint=fingerprint,
                status="Active", uploaded=whole_seconds(self.deps.clock))
            tx.signing_certificates.insert(stored)
        return {"Certificate": signing_certificate_view(stored, self.holder_name(caller, user))}

    @operation
    def list_signing_certificates(self, caller: Caller, user_name: str | None = None, marker: str | None = None,
                                  max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            user = self.holder(tx, caller, "iam:ListSigningCertificates", user_name)
            found = tx.signing_certificates.for_user(user.user_id if user else None)
        name = self.holder_name(caller, user)
        return short_page("Certificates", [signing_certificate_view(c, name) for c in found], marker, max_items)

    def _certificate(self, tx: UnitOfWork, user: User | None, certificate_id: str) -> SigningCertificate:
        found = tx.signing_certificates.get(certificate_id)
        if found is None or found.user_id != (user.user_id if user else None):
            raise NoSuchEntity(f"The Certificate with id {certificate_id} cannot be found.")
        return found

    @operation
    def update_signing_certificate(self, caller: Caller, certificate_id: str, status: str,
                                   user_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.holder(tx, caller, "iam:UpdateSigningCertificate", user_name)
            self._certificate(tx, user, certificate_id)
            tx.signing_certificates.set_status(certificate_id, status)
        return {}

    @operation
    def delete_signing_certificate(self, caller: Caller, certificate_id: str, user_name: str | None = None
                                   ) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            user = self.holder(tx, caller, "iam:DeleteSigningCertificate", user_name)
            self._certificate(tx, user, certificate_id)
            tx.signing_certificates.delete(certificate_id)
        return {}
