"""A populated account for the security suite: one of every entity a request can name (users, groups, roles,
policies with versions, instance profiles, OIDC and SAML providers, certificates, SSH keys, service credentials, an
enabled MFA device, an alias, a password policy), and request parameters naming them (`values`) or naming entities
that do not exist (`ghosts`)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from gatehouse.app import Application
from gatehouse.services import totp
from tests.security.support import ACCOUNT, new_app, ok
from tests.support.pki import certificate, new_key, pem
from tests.support.saml_idp import SamlIdp

NARROW = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})


@dataclass
class World:
    app: Application
    values: dict[str, str]
    ghosts: dict[str, str]


FRESH = {"CreatePolicy": ("PolicyName", "p2"), "CreateRole": ("RoleName", "r2"), "CreateUser": ("UserName", "u2"),
         "CreateGroup": ("GroupName", "g2"), "CreateInstanceProfile": ("InstanceProfileName", "ipr2"),
         "CreateAccountAlias": ("AccountAlias", "other-alias"),
         "UploadServerCertificate": ("ServerCertificateName", "sc2")}


def params_for(app: Application, service: str, operation: str, values: dict[str, str]) -> dict[str, str]:
    """The members of `values` that `operation` takes (new names for the operations that create), without MFA for
    AssumeRole and GetSessionToken (MFA has its own answer; the callers ask about permissions)."""
    assert app.asgi is not None
    model = app.asgi.endpoint.router.route(service, operation).operation
    members = model.input_shape.members if model.input_shape is not None else {}
    out = {k: v for k, v in values.items() if k.split(".")[0] in members}
    if operation in FRESH:
        name, value = FRESH[operation]
        out[name] = value
    if operation in ("AssumeRole", "GetSessionToken"):
        out.pop("SerialNumber", None)
    return out


def populated(db_url: str | None = None) -> World:
    app = new_app(db_url)
    ok(app, "iam", "CreateUser", {"UserName": "victim"})
    ok(app, "iam", "CreateLoginProfile", {"UserName": "victim", "Password": "Victim-password-1!"})
    victim_key = ok(app, "iam", "CreateAccessKey", {"UserName": "victim"}).text("AccessKeyId")
    ok(app, "iam", "CreateGroup", {"GroupName": "g"})
    ok(app, "iam", "AddUserToGroup", {"GroupName": "g", "UserName": "victim"})
    ok(app, "iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
    for action, owner in (("PutRolePolicy", {"RoleName": "r"}), ("PutUserPolicy", {"UserName": "victim"}),
                          ("PutGroupPolicy", {"GroupName": "g"})):
        ok(app, "iam", action, {**owner, "PolicyName": "ip", "PolicyDocument": NARROW})
    policy_arn = ok(app, "iam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument": NARROW}).text("Arn")
    ok(app, "iam", "CreatePolicyVersion", {"PolicyArn": policy_arn, "PolicyDocument": NARROW})
    ok(app, "iam", "AttachUserPolicy", {"UserName": "victim", "PolicyArn": policy_arn})
    ok(app, "iam", "CreateInstanceProfile", {"InstanceProfileName": "ipr"})
    ok(app, "iam", "AddRoleToInstanceProfile", {"InstanceProfileName": "ipr", "RoleName": "r"})
    oidc = ok(app, "iam", "CreateOpenIDConnectProvider", {
        "Url": "https://idp.example.com", "ClientIDList.member.1": "c",
        "ThumbprintList.member.1": "a" * 40}).text("OpenIDConnectProviderArn")
    idp = SamlIdp()
    saml = ok(app, "iam", "CreateSAMLProvider", {"Name": "sp", "SAMLMetadataDocument": idp.metadata()}).text(
        "SAMLProviderArn")
    key = new_key()
    ok(app, "iam", "UploadServerCertificate", {"ServerCertificateName": "sc",
                                               "CertificateBody": pem(certificate("sc", key)).decode(),
                                               "PrivateKey": pem(key).decode()})
    signing = ok(app, "iam", "UploadSigningCertificate", {
        "UserName": "victim", "CertificateBody": pem(certificate("signing", new_key())).decode()}).text(
        "CertificateId")
    ssh = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    ssh_id = ok(app, "iam", "UploadSSHPublicKey", {"UserName": "victim", "SSHPublicKeyBody": ssh}).text(
        "SSHPublicKeyId")
    credential_id = ok(app, "iam", "CreateServiceSpecificCredential", {
        "UserName": "victim", "ServiceName": "codecommit.amazonaws.com"}).text("ServiceSpecificCredentialId")
    device = ok(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "vd"})
    serial, seed = device.text("SerialNumber"), base64.b64decode(device.text("Base32StringSeed")).decode()
    step = totp.step_at(time.time())
    ok(app, "iam", "EnableMFADevice", {"UserName": "victim", "SerialNumber": serial,
                                       "AuthenticationCode1": totp.code_at(seed, step - 1),
                                       "AuthenticationCode2": totp.code_at(seed, step)})
    ok(app, "iam", "CreateAccountAlias", {"AccountAlias": "matrix-alias"})
    ok(app, "iam", "UpdateAccountPasswordPolicy", {"MinimumPasswordLength": "8"})
    ok(app, "iam", "TagRole", {"RoleName": "r", "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"})
    job_id = ok(app, "iam", "GenerateServiceLastAccessedDetails",
                {"Arn": f"arn:aws:iam::{ACCOUNT}:user/victim"}).text("JobId")
    values = {
        "UserName": "victim", "GroupName": "g", "RoleName": "r", "PolicyArn": policy_arn, "PolicyName": "ip",
        "PolicyDocument": NARROW, "AssumeRolePolicyDocument": TRUST, "InstanceProfileName": "ipr",
        "OpenIDConnectProviderArn": oidc, "ClientID": "c2", "Url": "https://idp2.example.com",
        "SAMLProviderArn": saml, "SAMLMetadataDocument": idp.metadata(), "Name": "fed", "AccountAlias": "matrix-alias",
        "AccessKeyId": victim_key, "SerialNumber": serial, "AuthenticationCode1": "123456",
        "AuthenticationCode2": "654321", "VersionId": "v1", "ServerCertificateName": "sc", "CertificateId": signing,
        "SSHPublicKeyId": ssh_id, "Encoding": "SSH", "ServiceSpecificCredentialId": credential_id,
        "ServiceName": "codecommit.amazonaws.com", "AWSServiceName": "autoscaling.amazonaws.com",
        "OldPassword": "Nobody-password-1!", "NewPassword": "Nobody-password-2!", "Password": "Another-password-3!",
        "VirtualMFADeviceName": "vd2", "DeletionTaskId": "task/aws-service-role/autoscaling.amazonaws.com/x/y",
        "PermissionsBoundary": policy_arn, "Tags.member.1.Key": "k", "Tags.member.1.Value": "v2",
        "TagKeys.member.1": "k", "Status": "Inactive", "Description": "changed",
        "ThumbprintList.member.1": "b" * 40, "SSHPublicKeyBody": ssh,
        "CertificateBody": pem(certificate("another", new_key())).decode(), "PrivateKey": pem(key).decode(),
        "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/victim", "ActionNames.member.1": "iam:CreateUser",
        "PolicyInputList.member.1": NARROW, "GlobalEndpointTokenVersion": "v2Token", "EncodedMessage": "xx",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "RoleSessionName": "matrix", "Audience.member.1": "aud",
        "SigningAlgorithm": "RS256", "NewUserName": "victim2", "NewGroupName": "g2", "MaxSessionDuration": "7200",
        "MinimumPasswordLength": "20", "Arn": f"arn:aws:iam::{ACCOUNT}:user/victim", "JobId": job_id,
        "ServiceNamespace": "iam",
    }
    ghosts = {**values, "UserName": "ghost", "GroupName": "ghost-g", "RoleName": "ghost-r",
              "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/ghost", "InstanceProfileName": "ghost-ip",
              "OpenIDConnectProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/ghost.example.com",
              "SAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/ghost",
              "ServerCertificateName": "ghost-sc", "SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/ghost",
              "AccessKeyId": "AKIAGHOSTGHOSTGHOST7", "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/ghost",
              "Arn": f"arn:aws:iam::{ACCOUNT}:user/ghost"}
    return World(app, values, ghosts)
