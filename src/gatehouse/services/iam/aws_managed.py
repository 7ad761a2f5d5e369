"""AWS managed policies under `arn:<partition>:iam::aws:policy/`: AWS's catalogue, shipped as package data.

`aws_managed_policies.zip` is made by `scripts/update_aws_managed_policies.py` from a public dataset (its name and
version are in the archive's `index.json`, see `source`), never written by hand. The policies live in no account:
every account sees the same ones, attachments store (account "aws", policy id), and attachment counts are per
account. Policy ids are derived from the name, so they stay the same across restarts, replicas and catalogue
refreshes (the dataset has no ids of its own).

Loaded lazily: nothing at import or start-up; the index (names, paths, versions, dates) at first use; each document
when it is first asked for, then kept in a small LRU cache (compiled policies are cached by the authorizer).
Look-ups are exact: a name in another case or under another path names no policy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import io
import json
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gatehouse.model import ManagedPolicy, PolicyVersion

AWS = "aws"
ARCHIVE = "aws_managed_policies.zip"
FORMAT = 1


def policy_id(name: str) -> str:
    """Stable across restarts, replicas and catalogue refreshes: derived from the name (unique among AWS's)."""
    digest = hashlib.sha256(f"gatehouse-aws-managed:{name}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "ANPA" + "".join(alphabet[b % 32] for b in digest[:17])


@dataclass(frozen=True)
class _Index:
    source: dict[str, str]
    ordered: tuple[ManagedPolicy, ...]  # by name without case, as ListPolicies lists them
    by_name: dict[str, ManagedPolicy]
    by_id: dict[str, ManagedPolicy]
    archive: zipfile.ZipFile


def _load(data: bytes) -> _Index:
    archive = zipfile.ZipFile(io.BytesIO(data))
    index: dict[str, Any] = json.loads(archive.read("index.json"))
    if index.get("format") != FORMAT:
        raise ValueError(f"{ARCHIVE}: unknown format {index.get('format')!r}")
    policies = [ManagedPolicy(account_id=AWS, policy_id=policy_id(p["name"]), name=p["name"], path=p["path"],
                              default_version_id=p["default_version_id"],
                              created=dt.datetime.fromisoformat(p["created"]),
                              updated=dt.datetime.fromisoformat(p["updated"]))
                for p in index["policies"]]
    policies.sort(key=lambda p: p.name.lower())
    return _Index(dict(index["source"]), tuple(policies), {p.name: p for p in policies},
                  {p.policy_id: p for p in policies}, archive)


class AwsManagedPolicies:
    """The catalogue. `data` replaces the shipped archive (tests build small ones with the regeneration script)."""

    def __init__(self, data: bytes | None = None, *, cache_size: int = 128) -> None:
        self._data = data
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._index: _Index | None = None
        self._documents: OrderedDict[str, str] = OrderedDict()

    def _loaded(self) -> _Index:
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    data = self._data
                    if data is None:
                        data = importlib.resources.files("gatehouse.services.iam").joinpath(ARCHIVE).read_bytes()
                    self._index = _load(data)
                index = self._index
        return index

    @property
    def loaded(self) -> bool:
        return self._index is not None

    @property
    def source(self) -> dict[str, str]:
        """The dataset the catalogue was made from (name, version, file) and the script that made it."""
        return dict(self._loaded().source)

    def __len__(self) -> int:
        return len(self._loaded().ordered)

    def get(self, path: str, name: str) -> ManagedPolicy | None:
        """The policy with exactly this path and name (AWS matches policy ARNs with case)."""
        policy = self._loaded().by_name.get(name)
        return policy if policy is not None and policy.path == path else None

    def by_id(self, policy_id: str) -> ManagedPolicy | None:
        return self._loaded().by_id.get(policy_id)

    def all(self) -> Sequence[ManagedPolicy]:
        return self._loaded().ordered

    def default_version(self, policy: ManagedPolicy) -> PolicyVersion:
        """The document in effect, dated when it became the default (the policy's update date)."""
        return PolicyVersion(policy.default_version_id, self._document(policy.name), True, policy.updated)

    def versions(self, policy: ManagedPolicy) -> list[PolicyVersion]:
        """The versions the catalogue holds: the default one (the dataset keeps no earlier versions)."""
        return [self.default_version(policy)]

    def version(self, policy: ManagedPolicy, version_id: str) -> PolicyVersion | None:
        return self.default_version(policy) if version_id == policy.default_version_id else None

    def _document(self, name: str) -> str:
        archive = self._loaded().archive
        with self._lock:
            document = self._documents.get(name)
            if document is not None:
                self._documents.move_to_end(name)
                return document
            document = archive.read(f"policies/{name}.json").decode()
            self._documents[name] = document
            if len(self._documents) > self._cache_size:
                self._documents.popitem(last=False)
            return document
