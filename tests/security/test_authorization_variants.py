"""The authorization matrix, extended to what a caller types: for every routed operation and every parameter that
names an entity the operation is authorized on (or a condition key is read from), the name or ARN of a guarded
entity is sent in every variant a caller could choose (its case, the whole ARN's case, another partition, an unknown
partition, another tenant's account, another signing region), under an explicit Deny on the guarded entity's own
ARN. Every variant must be refused (AccessDenied wherever IAM would resolve the variant to the guarded entity), and
nothing may change in either account, read back as root. A principal of another account naming this account's
entities by ARN is refused the same way.

The other parameters name free entities (of the same kinds, not denied), so a Deny can only hold through the varied
parameter. The guarded value itself is sent first: if the Deny does not stop it, the matrix's idea of which
parameters are authorized is wrong, and that is a failure too.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from gatehouse.app import Application
from gatehouse.services.authorization_reference import DATA_FILE
from gatehouse.services.bootstrap import create_account
from tests.security.support import ACCOUNT, VERSIONS, Answer, Keys, call, ok, signed_headers, user_with_key
from tests.security.world import FRESH, NARROW, TRUST, World, params_for, populated
from tests.support.pki import certificate, new_key, pem
from tests.support.saml_idp import SamlIdp

pytestmark = pytest.mark.xdist_group("authorization-variants")

OTHER = "210987654321"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
UNSIGNED = {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}
# The parameters that name an entity, and the reference resource type of what they name.
NAMES = {"UserName": "user", "GroupName": "group", "RoleName": "role", "InstanceProfileName": "instance-profile",
         "ServerCertificateName": "server-certificate"}
ARNS = {"PolicyArn": "policy", "PermissionsBoundary": "policy", "OpenIDConnectProviderArn": "oidc-provider",
        "SAMLProviderArn": "saml-provider", "SerialNumber": "mfa", "RoleArn": "role", "PolicySourceArn": "user"}
# Where a parameter reaches the decision through a condition key rather than as the resource.
KEYS = {"PolicyArn": "iam:PolicyARN", "PermissionsBoundary": "iam:PermissionsBoundary"}
DEPENDENT = {("AddRoleToInstanceProfile", "RoleName")}  # authorized as iam:PassRole on the role
REFUSED = {"AccessDenied", "NoSuchEntity", "InvalidInput", "ValidationError", "MalformedPolicyDocument",
           "EntityAlreadyExists"}
REGIONS = ("cn-north-1", "us-gov-west-1", "us-iso-east-1")


@dataclass
class Matrix:
    world: World
    guarded: dict[str, str]  # parameter -> the guarded entity's canonical name or ARN
    free: dict[str, str]  # parameter values naming free entities (and everything else an operation takes)
    attacker: Keys
    other_admin: Keys  # a user of the other account allowed everything there
    other_free: dict[str, str]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _free_entities(app: Application, keys: Keys, account: str) -> dict[str, str]:
    """Entities nobody denies, of every kind a parameter can name, in `account` (signed by its root)."""
    ok(app, "iam", "CreateUser", {"UserName": "free"}, keys)
    ok(app, "iam", "CreateGroup", {"GroupName": "free-g"}, keys)
    trust = TRUST.replace(ACCOUNT, account)
    ok(app, "iam", "CreateRole", {"RoleName": "free-r", "AssumeRolePolicyDocument": trust}, keys)
    policy = ok(app, "iam", "CreatePolicy", {"PolicyName": "free-p", "PolicyDocument": NARROW}, keys).text("Arn")
    ok(app, "iam", "CreateInstanceProfile", {"InstanceProfileName": "free-ipr"}, keys)
    oidc = ok(app, "iam", "CreateOpenIDConnectProvider", {"Url": "https://free.example.com",
                                                          "ClientIDList.member.1": "c"}, keys).text(
        "OpenIDConnectProviderArn")
    saml = ok(app, "iam", "CreateSAMLProvider", {"Name": "free-sp", "SAMLMetadataDocument": SamlIdp().metadata()},
              keys).text("SAMLProviderArn")
    key = new_key()
    ok(app, "iam", "UploadServerCertificate", {"ServerCertificateName": "free-sc",
                                               "CertificateBody": pem(certificate("free", key)).decode(),
                                               "PrivateKey": pem(key).decode()}, keys)
    serial = ok(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "free-vd"}, keys).text("SerialNumber")
    return {"UserName": "free", "GroupName": "free-g", "RoleName": "free-r", "InstanceProfileName": "free-ipr",
            "ServerCertificateName": "free-sc", "PolicyArn": policy, "PermissionsBoundary": policy,
            "OpenIDConnectProviderArn": oidc, "SAMLProviderArn": saml, "SerialNumber": serial,
            "RoleArn": f"arn:aws:iam::{account}:role/free-r", "PolicySourceArn": f"arn:aws:iam::{account}:user/free"}


def _other_account(app: Application) -> tuple[Keys, dict[str, str]]:
    """Another tenant with entities named as this account's guarded ones (so an ARN naming them by this account's
    names finds something there) and free ones, and an administrator of its own."""
    made = create_account(app.store, app.box, app.clock, OTHER)
    assert made.access_key_id and made.secret_access_key
    root = Keys(made.access_key_id, made.secret_access_key)
    ok(app, "iam", "CreateUser", {"UserName": "victim"}, root)
    ok(app, "iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST.replace(ACCOUNT, OTHER)}, root)
    ok(app, "iam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument": NARROW}, root)
    ok(app, "iam", "CreateOpenIDConnectProvider", {"Url": "https://idp.example.com", "ClientIDList.member.1": "c"},
       root)
    ok(app, "iam", "CreateSAMLProvider", {"Name": "sp", "SAMLMetadataDocument": SamlIdp().metadata()}, root)
    ok(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "vd"}, root)
    free = _free_entities(app, root, OTHER)
    ok(app, "iam", "CreateUser", {"UserName": "b-admin"}, root)
    ok(app, "iam", "PutUserPolicy", {"UserName": "b-admin", "PolicyName": "all", "PolicyDocument": _doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"})}, root)
    made_key = ok(app, "iam", "CreateAccessKey", {"UserName": "b-admin"}, root)
    return Keys(made_key.text("AccessKeyId"), made_key.text("SecretAccessKey")), free


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def matrix(request: pytest.FixtureRequest, pg_schema_factory: Any) -> Iterator[Matrix]:
    world = populated(pg_schema_factory() if request.param == "postgres" else None)
    app, v = world.app, world.values
    root = Keys("test", "test")
    free = {**v, **_free_entities(app, root, ACCOUNT)}
    arn = f"arn:aws:iam::{ACCOUNT}:"
    guarded = {"UserName": "victim", "GroupName": "g", "RoleName": "r", "InstanceProfileName": "ipr",
               "ServerCertificateName": "sc", "PolicyArn": v["PolicyArn"], "PermissionsBoundary": v["PolicyArn"],
               "OpenIDConnectProviderArn": v["OpenIDConnectProviderArn"], "SAMLProviderArn": v["SAMLProviderArn"],
               "SerialNumber": v["SerialNumber"], "RoleArn": f"{arn}role/r", "PolicySourceArn": f"{arn}user/victim"}
    resources = sorted({f"{arn}user/victim", f"{arn}group/g", f"{arn}role/r", f"{arn}instance-profile/ipr",
                        f"{arn}server-certificate/sc", v["PolicyArn"], v["OpenIDConnectProviderArn"],
                        v["SAMLProviderArn"], v["SerialNumber"], ADMIN})
    attacker = user_with_key(app, "attacker", policy=_doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": resources},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": [v["PolicyArn"], ADMIN]}}},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"ArnEquals": {"iam:PermissionsBoundary": [v["PolicyArn"], ADMIN]}}}))
    other_admin, other_free = _other_account(app)
    yield Matrix(world, guarded, free, attacker, other_admin, other_free)
    app.close()


_REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")


def _snapshot(app: Application, root: Keys, values: dict[str, str]) -> list[bytes]:
    """What an account's root sees: anything a refused request changed shows up here."""
    reads: list[tuple[str, dict[str, str]]] = [
        ("GetAccountAuthorizationDetails", {}), ("ListOpenIDConnectProviders", {}), ("ListSAMLProviders", {}),
        ("ListServerCertificates", {}), ("ListAccountAliases", {}), ("ListVirtualMFADevices", {}),
        ("ListPolicies", {"Scope": "Local"}), ("ListInstanceProfiles", {}), ("GetAccountSummary", {})]
    for user in ("victim", "free"):
        reads += [(a, {"UserName": user}) for a in ("ListAccessKeys", "ListSSHPublicKeys", "ListMFADevices",
                                                     "ListServiceSpecificCredentials", "ListSigningCertificates",
                                                     "GetLoginProfile", "ListUserTags")]
    for name in ("ipr", "free-ipr"):
        reads.append(("ListInstanceProfileTags", {"InstanceProfileName": name}))
    for name in ("sc", "free-sc"):
        reads.append(("ListServerCertificateTags", {"ServerCertificateName": name}))
    for param, action in (("OpenIDConnectProviderArn", "GetOpenIDConnectProvider"),
                          ("SAMLProviderArn", "GetSAMLProvider"), ("PolicyArn", "ListPolicyTags"),
                          ("SerialNumber", "ListMFADeviceTags")):
        if param in values:
            reads.append((action, {param: values[param]}))
    return [_REQUEST_ID.sub(b"", call(app, "iam", a, p, root).body) for a, p in reads]


def _reference() -> dict[str, Any]:
    return dict(json.loads(DATA_FILE.read_text())["services"])


def _protected(reference: dict[str, Any], service: str, operation: str, param: str) -> bool:
    """Whether a Deny on the entity `param` names applies to `operation`: the entity is a resource of the action,
    or `param` fills one of its condition keys, or it is passed (iam:PassRole)."""
    spec = reference[service]["actions"].get(operation)
    if spec is None:
        return False
    if (operation, param) in DEPENDENT or KEYS.get(param) in spec["conditionKeys"]:
        return True
    kind = NAMES.get(param) or ARNS.get(param)
    return param != "PermissionsBoundary" and kind in [r for r, _ in spec["resourceTypes"]]


def _variants(param: str, value: str) -> list[tuple[str, str, bool]]:
    """(label, variant, whether IAM resolves it to the same entity): a resolving variant must meet the Deny."""
    if param in NAMES:
        return [("name upper", value.upper(), True), ("name capitalized", value.capitalize(), True)][
            : 1 if value.upper() == value.capitalize() else 2]
    head, _, name = value.rpartition("/")
    resolves_by_name = param != "OpenIDConnectProviderArn"  # an OIDC provider is its URL, kept as stored
    out = [("name case", f"{head}/{name.swapcase()}", resolves_by_name), ("ARN upper case", value.upper(), False)]
    for partition in ("aws-cn", "aws-us-gov", "aws-foo"):
        out.append((partition, value.replace("arn:aws:", f"arn:{partition}:", 1), False))
    if f":{ACCOUNT}:" in value:
        out.append(("other tenant's account", value.replace(f":{ACCOUNT}:", f":{OTHER}:"), False))
    return out


def _signed_in(app: Application, service: str, operation: str, params: dict[str, str], keys: Keys, region: str
               ) -> Answer:
    body = urlencode({"Action": operation, "Version": VERSIONS[service], **params})
    assert app.asgi is not None
    status, payload = app.asgi.endpoint.handle("POST", "/", "", signed_headers(service, body, keys, region=region),
                                               body.encode(), "127.0.0.1", False)
    return Answer(status, payload)


def _entity_params(matrix: Matrix, values: dict[str, str]) -> Iterator[tuple[str, str, dict[str, str], str]]:
    """(service, operation, parameters from `values`, a parameter that names an entity) for every signed routed
    operation."""
    app = matrix.world.app
    assert app.asgi is not None
    for service in ("iam", "sts"):
        for operation in app.asgi.endpoint.router.operations(service):
            if operation in UNSIGNED:
                continue
            base = params_for(app, service, operation, values)
            for param in [p for p in base if p in NAMES or p in ARNS]:
                yield service, operation, base, param


def _protected_params(matrix: Matrix) -> Iterator[tuple[str, str, dict[str, str], str]]:
    """The entity parameters through which a Deny on the guarded entities applies, naming free entities."""
    reference = _reference()
    for service, operation, base, param in _entity_params(matrix, matrix.free):
        if _protected(reference, service, operation, param):
            yield service, operation, base, param


def _refused(answer: Answer, resolves: bool, operation: str) -> bool:
    """Refused, and by the Deny wherever IAM finds the guarded entity through the variant (an operation that
    creates an entity of that name only finds that the name is taken)."""
    if answer.status == 200 or answer.status >= 500:
        return False
    if resolves and operation not in FRESH:
        return answer.code == "AccessDenied"
    return answer.code in REFUSED


@pytest.fixture
def unchanged(matrix: Matrix) -> Iterator[None]:
    """Both accounts, read back by their administrators, are as they were."""
    app, root = matrix.world.app, Keys("test", "test")
    before = (_snapshot(app, root, matrix.guarded), _snapshot(app, matrix.other_admin, matrix.other_free))
    yield
    after = (_snapshot(app, root, matrix.guarded), _snapshot(app, matrix.other_admin, matrix.other_free))
    assert after == before


def test_variants_of_a_denied_entity_are_refused(matrix: Matrix, unchanged: None) -> None:
    app = matrix.world.app
    wrong: dict[str, Any] = {}
    sent, started = 0, time.monotonic()
    for service, operation, base, param in _protected_params(matrix):
        tries = [("guarded", matrix.guarded[param], True), *_variants(param, matrix.guarded[param])]
        for label, value, resolves in tries:
            answer = call(app, service, operation, {**base, param: value}, matrix.attacker)
            sent += 1
            if not _refused(answer, resolves, operation):
                wrong[f"{operation} {param} {label}"] = (answer.status, answer.code, answer.message[:140])
    print(f"\nauthorization variants (typed): {sent} requests in {time.monotonic() - started:.1f} s")
    assert wrong == {}, json.dumps(wrong, indent=1)
    assert sent > 500


def test_another_tenant_naming_this_accounts_entities_is_refused(matrix: Matrix, unchanged: None) -> None:
    """The other account's administrator names this account's guarded entities by ARN (the other parameters name
    its own free entities): nothing of this account is found, read or changed."""
    app = matrix.world.app
    wrong: dict[str, Any] = {}
    sent, started = 0, time.monotonic()
    for service, operation, base, param in _entity_params(matrix, matrix.other_free):
        if param in ARNS and f":{ACCOUNT}:" in matrix.guarded[param]:
            answer = call(app, service, operation, {**base, param: matrix.guarded[param]}, matrix.other_admin)
            sent += 1
            if not _refused(answer, False, operation):
                wrong[f"{operation} {param}"] = (answer.status, answer.code, answer.message[:140])
    print(f"\nauthorization variants (other tenant): {sent} requests in {time.monotonic() - started:.1f} s")
    assert wrong == {}, json.dumps(wrong, indent=1)
    assert sent > 30


def test_the_signing_region_does_not_move_a_request_past_the_deny(matrix: Matrix, unchanged: None) -> None:
    """The guarded names and ARNs, signed for regions of other partitions."""
    app = matrix.world.app
    wrong: dict[str, Any] = {}
    sent, started = 0, time.monotonic()
    for service, operation, base, param in _protected_params(matrix):
        for region in REGIONS:
            answer = _signed_in(app, service, operation, {**base, param: matrix.guarded[param]}, matrix.attacker,
                                region)
            sent += 1
            if answer.status == 200 or answer.status >= 500:
                wrong[f"{operation} {param} signed in {region}"] = (answer.status, answer.code, answer.message[:140])
    print(f"\nauthorization variants (signing region): {sent} requests in {time.monotonic() - started:.1f} s")
    assert wrong == {}, json.dumps(wrong, indent=1)
