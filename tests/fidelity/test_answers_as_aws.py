"""Answers recorded from AWS (LocalStack's AWS-validated snapshots, February 2026), through the whole stack in
memory: CreateVirtualMFADevice's own message for a bad path, UploadSigningCertificate's for a malformed body,
AddUserToGroup's order when the user and the group are both missing."""

from __future__ import annotations

from tests.security.support import call, new_app, ok

BAD_PATH = ("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric "
            "characters and/or / characters.")


def test_create_virtual_mfa_device_path_messages() -> None:
    app = new_app()
    try:
        for path in ("test/", "/test"):
            answer = call(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "d", "Path": path})
            assert (answer.status, answer.code, answer.message) == (400, "ValidationError", BAD_PATH)
        answer = call(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "d", "Path": "/" + "a" * 512})
        assert answer.message == ("1 validation error detected: Value at 'path' failed to satisfy constraint: Member "
                                  "must have length less than or equal to 512")
        serial = ok(app, "iam", "CreateVirtualMFADevice",
                    {"VirtualMFADeviceName": "d", "Path": "/test//double/"}).text("SerialNumber")
        assert serial.endswith(":mfa/test//double/d")
    finally:
        app.close()


def test_upload_signing_certificate_malformed_body() -> None:
    app = new_app()
    try:
        ok(app, "iam", "CreateUser", {"UserName": "signer"})
        answer = call(app, "iam", "UploadSigningCertificate",
                      {"UserName": "signer", "CertificateBody": "invalid-certificate-body"})
        assert (answer.code, answer.message) == ("MalformedCertificate",
                                                 "Certificate invalid-certificate-body is malformed.")
    finally:
        app.close()


def test_add_user_to_group_reports_the_user_first() -> None:
    app = new_app()
    try:
        both = call(app, "iam", "AddUserToGroup", {"GroupName": "nogroup", "UserName": "nouser"})
        assert (both.code, both.message) == ("NoSuchEntity", "The user with name nouser cannot be found.")
        ok(app, "iam", "CreateUser", {"UserName": "u"})
        group = call(app, "iam", "AddUserToGroup", {"GroupName": "nogroup", "UserName": "u"})
        assert group.message == "The group with name nogroup cannot be found."
        ok(app, "iam", "CreateGroup", {"GroupName": "g"})
        user = call(app, "iam", "AddUserToGroup", {"GroupName": "g", "UserName": "nouser"})
        assert user.message == "The user with name nouser cannot be found."
        ok(app, "iam", "AddUserToGroup", {"GroupName": "g", "UserName": "u"})
    finally:
        app.close()
