"""An action's request context, as the Service Authorization Reference defines it.

One mechanism for every IAM and STS action: the reference names the condition keys of the action and of the
resource type it acts on; each key is read from the entity that was looked up (`Target`: its canonical ARN, its
tags, its current permissions boundary) or from what the request says (`RequestFacts`: tags, the policy it names,
the service a role is passed to, ...). Use cases state facts; they never choose key names, so a key the reference
lists cannot be forgotten by one operation and set by another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gatehouse.model import OwnerKind, Tag
from gatehouse.services.authorization_reference import AuthorizationReference

TagLoader = Callable[[], Sequence[Tag]]


@dataclass(frozen=True)
class Target:
    """What an action is authorized on: the canonical ARN of the entity found (or, when nothing was found, the ARN it
    would have), its resource type, and what the context reads from it. `tags` loads the entity's tags; it is called
    only when a policy could test them."""

    arn: str
    kind: OwnerKind | None = None
    tags: TagLoader | None = None
    boundary: str | None = None  # the entity's current permissions boundary (users and roles), as stored


@dataclass(frozen=True)
class RequestFacts:
    """What a request says, in the terms the reference's condition keys read. Values are canonical: an ARN here is
    the ARN of the entity the request's text resolved to."""

    tags: Sequence[Tag] | None = None  # aws:RequestTag/*, aws:TagKeys
    tag_keys: Sequence[str] | None = None  # aws:TagKeys of UntagX
    policy_arn: str | None = None  # iam:PolicyARN
    permissions_boundary: str | None = None  # iam:PermissionsBoundary being set (else the target's current one)
    passed_to_service: str | None = None  # iam:PassedToService
    associated_resource_arn: str | None = None  # iam:AssociatedResourceArn
    service_name: str | None = None  # iam:AWSServiceName, iam:ServiceSpecificCredentialServiceName
    credential_age_days: int | None = None  # iam:ServiceSpecificCredentialAgeDays
    session_name: str | None = None  # sts:RoleSessionName
    external_id: str | None = None  # sts:ExternalId
    source_identity: str | None = None  # sts:SourceIdentity
    transitive_tag_keys: Sequence[str] | None = None  # sts:TransitiveTagKeys
    duration_seconds: int | None = None  # sts:DurationSeconds
    audiences: Sequence[str] | None = None  # sts:IdentityTokenAudience
    signing_algorithm: str | None = None  # sts:SigningAlgorithm
    policy_type: str | None = None  # organizations:PolicyType
    # Keys the reference does not list per action: global keys a request sets (aws:MultiFactorAuthPresent when a
    # TokenCode was given, aws:FederatedProvider) and an identity provider's claims (`<issuer>:sub`, `saml:aud`).
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        action_keys = [k for k in self.extra if k.split(":", 1)[0].lower() in ("iam", "sts", "organizations")]
        if action_keys:
            raise ValueError(f"action-specific keys come from the reference, not from `extra`: {action_keys}")


def _tag_keys(f: RequestFacts) -> list[str] | None:
    if f.tag_keys is not None:
        return list(f.tag_keys)
    return [t.key for t in f.tags] if f.tags else None


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


# Each key the reference names, lower-cased, and where its value comes from. Keys not here are not set: the tests
# (tests/services/test_request_context.py) list, with reasons, the ones that cannot arise in Gatehouse.
_KEYS: dict[str, Callable[[RequestFacts, Target], Any]] = {
    "aws:tagkeys": lambda f, t: _tag_keys(f),
    "iam:permissionsboundary": lambda f, t: f.permissions_boundary or t.boundary,
    "iam:policyarn": lambda f, t: f.policy_arn,
    "iam:passedtoservice": lambda f, t: f.passed_to_service,
    "iam:associatedresourcearn": lambda f, t: f.associated_resource_arn,
    "iam:awsservicename": lambda f, t: f.service_name,
    "iam:servicespecificcredentialservicename": lambda f, t: f.service_name,
    "iam:servicespecificcredentialagedays": lambda f, t: _text(f.credential_age_days),
    "sts:rolesessionname": lambda f, t: f.session_name,
    "sts:externalid": lambda f, t: f.external_id,
    "sts:sourceidentity": lambda f, t: f.source_identity,
    "sts:transitivetagkeys": lambda f, t: list(f.transitive_tag_keys) if f.transitive_tag_keys else None,
    "sts:durationseconds": lambda f, t: _text(f.duration_seconds),
    "sts:identitytokenaudience": lambda f, t: list(f.audiences) if f.audiences else None,
    "sts:signingalgorithm": lambda f, t: f.signing_algorithm,
    "organizations:policytype": lambda f, t: f.policy_type,
}
_REQUEST_TAG = "aws:requesttag/${tagkey}"
_RESOURCE_TAGS = ("aws:resourcetag/${tagkey}", "iam:resourcetag/${tagkey}")


def provided(key: str) -> bool:
    """Whether the mechanism can set `key` (a key as the reference spells it)."""
    lower = key.lower()
    return lower in _KEYS or lower == _REQUEST_TAG or lower in _RESOURCE_TAGS


def action_keys(reference: AuthorizationReference, action: str, target: Target, facts: RequestFacts | None,
                resource_tags: TagLoader | None) -> dict[str, Any]:
    """The action-specific part of the request context: every key the reference lists for `action` on `target`'s
    resource type that this request has a value for. `resource_tags` is None when no policy could test tags."""
    facts = facts or RequestFacts()
    out: dict[str, Any] = {}
    loaded: Sequence[Tag] | None = None
    for key in reference.keys_for(action, target.kind.value if target.kind else None):
        lower = key.lower()
        if lower == _REQUEST_TAG:
            out.update({f"aws:RequestTag/{t.key}": t.value for t in facts.tags or ()})
        elif lower in _RESOURCE_TAGS:
            if resource_tags is not None:
                loaded = resource_tags() if loaded is None else loaded
                prefix = key.split("/", 1)[0]
                out.update({f"{prefix}/{t.key}": t.value for t in loaded})
        elif lower in _KEYS:
            value = _KEYS[lower](facts, target)
            if value is not None:
                out[key] = value
    out.update(facts.extra)
    return out
