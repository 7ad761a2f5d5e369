"""Server certificates (UploadServerCertificate and friends): the PEM body, chain and private key are parsed and
checked with `cryptography` (`x509_pem`); the private key is sealed under the master key and never returned. The
body and chain are kept and returned byte for byte, as uploaded (trailing newline included), as AWS returns them."""

from __future__ import annotations

from typing import Any

from gatehouse.credentials import ServerCertificate
from gatehouse.errors import EntityAlreadyExists, LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, OwnerKind
from gatehouse.services import ids, x509_pem
from gatehouse.services.clock import whole_seconds
from gatehouse.services.iam.common import (
    Finder,
    IamBase,
    checked_tags,
    page_result,
)
from gatehouse.services.iam.views import tags_view
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import UnitOfWork

MAX_SERVER_CERTIFICATES = 20


def server_certificate_metadata(c: ServerCertificate, partition: str) -> dict[str, Any]:
    return {"Path": c.path, "ServerCertificateName": c.name, "ServerCertificateId": c.certificate_id,
            "Arn": c.arn(partition), "UploadDate": c.uploaded, "Expiration": c.expiration}


def key_binding(certificate_id: str) -> str:
    return f"server-certificate-key/{certificate_id}"


class ServerCertificates(IamBase):
    def _certificate_for(self, tx: UnitOfWork, caller: Caller, action: str, name: str,
                         facts: RequestFacts | None = None) -> ServerCertificate:
        cert = tx.server_certificates.get(name)
        target = (self.target(tx, OwnerKind.SERVER_CERTIFICATE, cert.certificate_id, cert.arn(caller.partition))
                  if cert else self.target(tx, OwnerKind.SERVER_CERTIFICATE, None,
                                           self.arn(caller, f"server-certificate/{name}")))
        return self.authorized(tx, caller, action, cert, target,
                               NoSuchEntity(f"The Server Certificate with name {name} cannot be found."), facts)

    @operation
    def upload_server_certificate(self, caller: Caller, server_certificate_name: str, certificate_body: str,
                                  private_key: str, path: str | None = None, certificate_chain: str | None = None,
                                  tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        path = path or "/"
        new_tags = checked_tags(tags, OwnerKind.SERVER_CERTIFICATE)
        with self.store.write(caller.account_id) as tx:
            arn = self.arn(caller, f"server-certificate{path}{server_certificate_name}")
            self.require(tx, caller, "iam:UploadServerCertificate", arn, RequestFacts(tags=new_tags))
            if tx.server_certificates.get(server_certificate_name) is not None:
                raise EntityAlreadyExists(f"The Server Certificate with name {server_certificate_name} already "
                                          f"exists.")
            certificate = x509_pem.parse_certificate(certificate_body)
            key = x509_pem.parse_private_key(private_key)
            x509_pem.check_key_pair(certificate, key)
            if certificate_chain:
                x509_pem.parse_chain(certificate_chain)
            if tx.server_certificates.count() >= MAX_SERVER_CERTIFICATES:
                raise LimitExceeded(f"Cannot exceed quota for ServerCertificatesPerAccount: "
                                    f"{MAX_SERVER_CERTIFICATES}")
            cert_id = ids.unique_id(ids.Prefix.SERVER_CERTIFICATE)
            stored = ServerCertificate(
                account_id=caller.account_id, certificate_id=cert_id, name=server_certificate_name, path=path,
                body=certificate_body, chain=certificate_chain or None,
                sealed_private_key=self.deps.box.seal(private_key.strip(), key_binding(cert_id)),
                uploaded=whole_seconds(self.deps.clock), expiration=certificate.not_valid_after_utc)
            tx.server_certificates.insert(stored)
            tx.tags.replace(OwnerKind.SERVER_CERTIFICATE, cert_id, new_tags)
        out: dict[str, Any] = {"ServerCertificateMetadata": server_certificate_metadata(stored, caller.partition)}
        if new_tags:
            out["Tags"] = tags_view(new_tags)
        return out

    @operation
    def get_server_certificate(self, caller: Caller, server_certificate_name: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            cert = self._certificate_for(tx, caller, "iam:GetServerCertificate", server_certificate_name)
            tags = tx.tags.get(OwnerKind.SERVER_CERTIFICATE, cert.certificate_id)
        out: dict[str, Any] = {"ServerCertificateMetadata": server_certificate_metadata(cert, caller.partition),
                               "CertificateBody": cert.body}
        if cert.chain:
            out["CertificateChain"] = cert.chain
        out["Tags"] = tags_view(tags)  # [] when untagged (LocalStack's AWS-validated server certificate snapshots)
        return {"ServerCertificate": out}

    @operation
    def list_server_certificates(self, caller: Caller, path_prefix: str | None = None, marker: str | None = None,
                                 max_items: int | None = None) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListServerCertificates",
                         self.arn(caller, f"server-certificate{path_prefix or '/'}"))
            page = tx.server_certificates.page(path_prefix or "/", marker, max_items or 100)
        return page_result("ServerCertificateMetadataList", page,
                           lambda c: server_certificate_metadata(c, caller.partition))

    @operation
    def update_server_certificate(self, caller: Caller, server_certificate_name: str, new_path: str | None = None,
                                  new_server_certificate_name: str | None = None) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            cert = self._certificate_for(tx, caller, "iam:UpdateServerCertificate", server_certificate_name)
            name, path = new_server_certificate_name or cert.name, new_path or cert.path
            if name.lower() != cert.name.lower() and tx.server_certificates.get(name) is not None:
                raise EntityAlreadyExists(f"The Server Certificate with name {name} already exists.")
            if (name, path) != (cert.name, cert.path):
                # AWS authorizes the change against the new name too.
                self.require(tx, caller, "iam:UpdateServerCertificate",
                             self.arn(caller, f"server-certificate{path}{name}"))
                tx.server_certificates.rename(cert.certificate_id, name, path)
        return {}

    @operation
    def delete_server_certificate(self, caller: Caller, server_certificate_name: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            cert = self._certificate_for(tx, caller, "iam:DeleteServerCertificate", server_certificate_name)
            tx.tags.replace(OwnerKind.SERVER_CERTIFICATE, cert.certificate_id, [])
            tx.server_certificates.delete(cert.certificate_id)
        return {}

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_certificate(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self._certificate_for(tx, caller, action, name, facts).certificate_id

    @operation
    def tag_server_certificate(self, caller: Caller, server_certificate_name: str, tags: list[dict[str, str]]
                               ) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.SERVER_CERTIFICATE, "iam:TagServerCertificate",
                               self._tagged_certificate(caller, server_certificate_name), tags)

    @operation
    def untag_server_certificate(self, caller: Caller, server_certificate_name: str, tag_keys: list[str]
                                 ) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.SERVER_CERTIFICATE, "iam:UntagServerCertificate",
                                 self._tagged_certificate(caller, server_certificate_name), tag_keys)

    @operation
    def list_server_certificate_tags(self, caller: Caller, server_certificate_name: str, marker: str | None = None,
                                     max_items: int | None = None) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.SERVER_CERTIFICATE, "iam:ListServerCertificateTags",
                                     self._tagged_certificate(caller, server_certificate_name),
                                     marker, max_items)
