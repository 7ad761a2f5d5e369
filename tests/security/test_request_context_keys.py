"""Every routed IAM and STS operation puts in its request context the condition keys that AWS's Service Authorization
Reference lists for each action it authorizes: the action's own keys, and its resource type's (the entity's tags).

The walk calls every operation, signed by a user allowed everything, on entities that carry everything a key can be
read from (tags on every taggable entity, a permissions boundary on the user and the role), with every parameter a
key can be read from. The engine is watched: the k-th authorization of an operation is recorded and refused, so
nothing changes and the next operation finds the same world; an operation that authorizes several actions
(AddRoleToInstanceProfile's iam:PassRole, AssumeRole's sts:TagSession) is called once per action.

The keys are compared with the reference as shipped (`authorization_reference.json`, itself compared with the
pinned dataset in tests/services/test_authorization_reference.py), read here without the production code's help.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

import gatehouse.services.authorization as authorization
from gatehouse.app import Application
from gatehouse.policy import Decision, DecisionKind, PolicyKind, RequestContext
from gatehouse.services.authorization_reference import DATA_FILE
from gatehouse.services.federation.issuer_keys import IssuerKeys, parse_jwks
from tests.security.support import ACCOUNT, Keys, call, ok, unsigned, user_with_key
from tests.security.world import World, params_for, populated
from tests.support.saml_idp import SamlIdp

pytestmark = pytest.mark.xdist_group("request-context-keys")

# Listed by the reference, but no request to Gatehouse can give them a value.
NOT_SET = {
    "iam:RoleTemplateARN": "role templates are not offered: no request names one",
    "iam:FIDO-certification": "FIDO security keys are not offered (virtual TOTP devices only)",
    "iam:FIDO-FIPS-140-2-certification": "FIDO security keys are not offered",
    "iam:FIDO-FIPS-140-3-certification": "FIDO security keys are not offered",
    "iam:RegisterSecurityKey": "FIDO security keys are not offered",
    "iam:AssociatedResourceArn": "a role is passed only into an instance profile: no resource of the destination "
                                 "service is named",
    "sts:RoleAuthorizedByIdp": "an OIDC token's roles claim is not read: no identity provider authorizes a role",
}
# The actions each operation authorizes, in order, where they are not just its own.
ACTIONS = {
    ("iam", "AddRoleToInstanceProfile"): ["iam:AddRoleToInstanceProfile", "iam:PassRole"],
    ("iam", "UpdateUser"): ["iam:UpdateUser", "iam:UpdateUser"],  # the old name, then the new one
    ("iam", "UpdateGroup"): ["iam:UpdateGroup", "iam:UpdateGroup"],
    ("sts", "AssumeRole"): ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
    ("sts", "GetFederationToken"): ["sts:GetFederationToken", "sts:TagSession"],
    ("sts", "AssumeRoleWithSAML"): ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
    ("sts", "AssumeRoleWithWebIdentity"): ["sts:AssumeRoleWithWebIdentity", "sts:TagSession",
                                           "sts:SetSourceIdentity"],
    ("sts", "GetCallerIdentity"): [],  # AWS: no permission is needed
    ("sts", "GetSessionToken"): [],
}
_RESOURCE_TYPE = re.compile(r"arn:[^:]+:(?:iam|sts)::[^:]*:([a-z-]+)/")
_OIDC_URL = "idp.example.com"
FEDERATED_GIVEN = {"Tags", "TransitiveTagKeys", "SourceIdentity"}  # in the assertion or token


@dataclass
class Walk:
    world: World
    keys: Keys
    tagged: set[str]  # canonical ARNs of the entities tagged `k`
    bounded: set[str]  # and of those with a permissions boundary
    federated: dict[str, Any] = field(default_factory=dict)


class Watch:
    """Stands in for the engine: records each request context and refuses the `deny_at`-th."""

    def __init__(self) -> None:
        self.real = authorization.evaluate
        self.seen: list[RequestContext] = []
        self.deny_at = 1

    def __call__(self, policy_set: Any, ctx: RequestContext) -> Decision:
        self.seen.append(ctx)
        if len(self.seen) == self.deny_at:
            return Decision(DecisionKind.EXPLICIT_DENY, (), PolicyKind.IDENTITY)
        return self.real(policy_set, ctx)


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tag(params: dict[str, str]) -> dict[str, str]:
    return {**params, "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def walk(request: pytest.FixtureRequest, pg_schema_factory: Any) -> Iterator[Walk]:
    world = populated(pg_schema_factory() if request.param == "postgres" else None)
    app, v = world.app, world.values
    ok(app, "iam", "PutUserPermissionsBoundary", {"UserName": "victim", "PermissionsBoundary": v["PolicyArn"]})
    ok(app, "iam", "PutRolePermissionsBoundary", {"RoleName": "r", "PermissionsBoundary": v["PolicyArn"]})
    ok(app, "iam", "UpdateAssumeRolePolicy", {"RoleName": "r", "PolicyDocument": _doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]})})
    for action, params in (("TagUser", {"UserName": "victim"}), ("TagPolicy", {"PolicyArn": v["PolicyArn"]}),
                           ("TagInstanceProfile", {"InstanceProfileName": "ipr"}),
                           ("TagOpenIDConnectProvider", {"OpenIDConnectProviderArn": v["OpenIDConnectProviderArn"]}),
                           ("TagSAMLProvider", {"SAMLProviderArn": v["SAMLProviderArn"]}),
                           ("TagServerCertificate", {"ServerCertificateName": "sc"}),
                           ("TagMFADevice", {"SerialNumber": v["SerialNumber"]})):
        ok(app, "iam", action, _tag(params))
    # Allowed everything; the Deny names a resource tag, so the caller's policies could test tags (they are read).
    keys = user_with_key(app, "observer", policy=_doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/no": "x"}}}))
    ok(app, "iam", "TagUser", _tag({"UserName": "observer"}))
    arn = f"arn:aws:iam::{ACCOUNT}:"
    tagged = {f"{arn}user/victim", f"{arn}user/observer", f"{arn}role/r", v["PolicyArn"], f"{arn}instance-profile/ipr",
              v["OpenIDConnectProviderArn"], v["SAMLProviderArn"], f"{arn}server-certificate/sc", v["SerialNumber"]}
    built = Walk(world, keys, tagged, {f"{arn}user/victim", f"{arn}role/r"})
    _federation(built)
    yield built
    app.close()


def _federation(walk: Walk) -> None:
    """A SAML provider and an OIDC issuer (its keys handed to the server in process), with a tagged role each."""
    app, idp = walk.world.app, SamlIdp()
    saml = ok(app, "iam", "CreateSAMLProvider", {"Name": "keys-idp", "SAMLMetadataDocument": idp.metadata()}).text(
        "SAMLProviderArn")
    oidc = walk.world.values["OpenIDConnectProviderArn"]
    for name, principal, action in (("saml-role", saml, "sts:AssumeRoleWithSAML"),
                                    ("web-role", oidc, "sts:AssumeRoleWithWebIdentity")):
        trust = _doc({"Effect": "Allow", "Principal": {"Federated": principal},
                      "Action": [action, "sts:TagSession", "sts:SetSourceIdentity"]})
        ok(app, "iam", "CreateRole", _tag({"RoleName": name, "AssumeRolePolicyDocument": trust}))
        walk.tagged.add(f"arn:aws:iam::{ACCOUNT}:role/{name}")
    key = RSAKey.generate_key(2048, parameters={"kid": "walk", "alg": "RS256", "use": "sig"})
    walk.federated = {"idp": idp, "saml": saml, "oidc": oidc, "key": key}


def _federated_params(walk: Walk, operation: str) -> dict[str, str]:
    f = walk.federated
    if operation == "AssumeRoleWithSAML":
        role = f"arn:aws:iam::{ACCOUNT}:role/saml-role"
        attributes = {"https://aws.amazon.com/SAML/Attributes/PrincipalTag:k": ["v"],
                      "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys": ["k"],
                      "https://aws.amazon.com/SAML/Attributes/SourceIdentity": ["walker"]}
        return {"Action": "AssumeRoleWithSAML", "Version": "2011-06-15", "RoleArn": role, "PrincipalArn": f["saml"],
                "SAMLAssertion": f["idp"].good(role, f["saml"], "walker", attributes=attributes)}
    now = int(time.time())
    claims = {"iss": f"https://{_OIDC_URL}", "aud": "c", "sub": "walker", "iat": now, "exp": now + 300,
              "https://aws.amazon.com/source_identity": "walker",
              "https://aws.amazon.com/tags": {"principal_tags": {"k": ["v"]}, "transitive_tag_keys": ["k"]}}
    token = jwt.encode({"alg": "RS256", "kid": "walk"}, claims, f["key"])
    return {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleSessionName": "walker",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-role", "WebIdentityToken": token}


def _params(walk: Walk, service: str, operation: str) -> dict[str, str]:
    extra = {"ExternalId": "ext-1", "SourceIdentity": "walker", "TransitiveTagKeys.member.1": "k",
             "TagKeys.member.1": "k", "Tags.member.1.Key": "k", "Tags.member.1.Value": "v2"}
    params = params_for(walk.world.app, service, operation, {**walk.world.values, **extra})
    if operation == "CreateServiceSpecificCredential":  # the services that take an age are the API-key ones
        params.update(ServiceName="bedrock.amazonaws.com", CredentialAgeDays="30")
    return params


def _reference() -> dict[str, Any]:
    return dict(json.loads(DATA_FILE.read_text())["services"])


# Keys read from a request parameter (by its name before `.member`): expected only when it is given.
FROM_PARAMETER = {"aws:RequestTag/${TagKey}": ("Tags",), "aws:TagKeys": ("Tags", "TagKeys"),
                  "sts:TransitiveTagKeys": ("TransitiveTagKeys",), "sts:ExternalId": ("ExternalId",),
                  "sts:SourceIdentity": ("SourceIdentity",),
                  "iam:ServiceSpecificCredentialAgeDays": ("CredentialAgeDays",),
                  "iam:PermissionsBoundary": ("PermissionsBoundary",)}


def _expected(reference: dict[str, Any], ctx: RequestContext, given: set[str], walk: Walk) -> set[str]:
    """The keys `ctx` must carry: what the reference lists for its action and resource type, read without the
    production code. `given`: the names of the request's parameters."""
    service, name = ctx.action.split(":", 1)
    action = reference[service]["actions"][name]
    found = _RESOURCE_TYPE.match(ctx.resource)
    kind = found.group(1) if found else None
    listed = list(action["conditionKeys"])
    if kind in [r for r, _ in action["resourceTypes"]]:
        listed += reference[service]["resourceTypes"].get(kind, {}).get("conditionKeys", [])
    out = set()
    for key in listed:
        prefix = key.split(":", 1)[0]
        if key in NOT_SET or prefix not in ("aws", "iam", "sts"):
            continue  # an identity provider's claims are keys of its own tokens and assertions, not of requests
        if key.endswith("ResourceTag/${TagKey}"):
            out |= {f"{key.split('/')[0]}/k"} if ctx.resource in walk.tagged else set()
        elif key == "iam:PermissionsBoundary" and ctx.resource in walk.bounded:
            out.add(key)  # the target's current boundary
        elif key in FROM_PARAMETER and not given & set(FROM_PARAMETER[key]):
            continue
        elif key == "aws:RequestTag/${TagKey}":
            out.add("aws:RequestTag/k")
        else:
            out.add(key)
    return out


def _listed_pattern(reference: dict[str, Any], action: str) -> re.Pattern[str]:
    service, name = action.split(":", 1)
    spec = reference[service]["actions"][name]
    keys = list(spec["conditionKeys"]) + [k for r, _ in spec["resourceTypes"]
                                          for k in reference[service]["resourceTypes"].get(r, {}).get(
                                              "conditionKeys", [])]
    return re.compile("|".join(re.escape(k).replace(re.escape("${TagKey}"), ".+") for k in keys) or "(?!)",
                      re.IGNORECASE)


def test_every_operation_sets_the_keys_the_reference_lists(walk: Walk, monkeypatch: pytest.MonkeyPatch) -> None:
    app: Application = walk.world.app
    assert app.asgi is not None
    router = app.asgi.endpoint.router
    reference = _reference()
    watch = Watch()
    monkeypatch.setattr(authorization, "evaluate", watch)
    monkeypatch.setattr(IssuerKeys, "keys_for", lambda self, issuer, kid: list(
        parse_jwks({"keys": [walk.federated["key"].as_dict(private=False)]})))
    wrong: dict[str, Any] = {}
    walked = 0
    for service in ("iam", "sts"):
        for operation in router.operations(service):
            expected_actions = ACTIONS.get((service, operation), [f"{service}:{operation}"])
            federated = operation in ("AssumeRoleWithSAML", "AssumeRoleWithWebIdentity")
            params = _federated_params(walk, operation) if federated else _params(walk, service, operation)
            for k, action in enumerate(expected_actions, start=1):
                watch.seen, watch.deny_at = [], k
                if federated:
                    answer = unsigned(app, _federated_params(walk, operation))  # a fresh assertion or token each time
                else:
                    answer = call(app, service, operation, params, walk.keys)
                walked += 1
                if len(watch.seen) < k or watch.seen[k - 1].action != action:
                    wrong[f"{operation} #{k}"] = ("authorized", [c.action for c in watch.seen], answer.code,
                                                  answer.message[:160])
                    break
                ctx = watch.seen[k - 1]
                given = FEDERATED_GIVEN if federated else {n.split(".")[0] for n in params}
                expected = _expected(reference, ctx, given, walk)
                missing = {key for key in expected if key.lower() not in ctx.keys}  # kept in lower case
                unlisted = {key for key in ctx.keys if key.split(":", 1)[0] in ("iam", "sts")
                            and not _listed_pattern(reference, action).fullmatch(key)}
                if missing or unlisted:
                    wrong[f"{operation} #{k} {action} on {ctx.resource}"] = {"missing": sorted(missing),
                                                                            "not listed": sorted(unlisted)}
            if not expected_actions:
                call(app, service, operation, params, walk.keys)
                if watch.seen:
                    wrong[operation] = ("authorized", [c.action for c in watch.seen])
            watch.seen = []
    assert wrong == {}, json.dumps(wrong, indent=1)
    assert walked > 160


def test_the_values_are_the_entities_found(walk: Walk, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys that name an entity hold its canonical ARN, whatever form the request named it in."""
    app, v = walk.world.app, walk.world.values
    watch = Watch()
    monkeypatch.setattr(authorization, "evaluate", watch)
    variant = v["PolicyArn"].replace(":policy/p", ":policy/P")
    for operation, params, key in (
            ("AttachUserPolicy", {"UserName": "victim", "PolicyArn": variant}, "iam:PolicyARN"),
            ("PutUserPermissionsBoundary", {"UserName": "victim", "PermissionsBoundary": variant},
             "iam:PermissionsBoundary"),
            ("CreateUser", {"UserName": "bounded", "PermissionsBoundary": variant}, "iam:PermissionsBoundary"),
            ("DeleteUserPermissionsBoundary", {"UserName": "VICTIM"}, "iam:PermissionsBoundary")):
        watch.seen, watch.deny_at = [], 1
        assert call(app, "iam", operation, params, walk.keys).code == "AccessDenied"
        assert watch.seen[0].get(key) == v["PolicyArn"], operation
    watch.seen, watch.deny_at = [], 1
    call(app, "iam", "GetPolicy", {"PolicyArn": variant}, walk.keys)
    assert watch.seen[0].resource == v["PolicyArn"]
    assert watch.seen[0].get("aws:ResourceTag/k") == "v"
    assert watch.seen[0].get("iam:ResourceTag/k") is None  # iam:ResourceTag is for users and roles only
