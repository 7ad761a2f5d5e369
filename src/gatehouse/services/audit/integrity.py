"""Verifying the trail: every chain recomputed from its records, every digest's signature and order checked, and
every head a digest signed found where it was. The first problem found is reported, named as what happened to the
event: modified (its record no longer gives its hash), deleted (a gap in the sequence, or a signed head that is
gone), inserted (an event whose predecessor is an earlier event than the one before it) or reordered (an event
whose predecessor is elsewhere).

Reads in pages of short transactions, so it runs beside a serving process.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gatehouse.services.audit.signing import digest_hash, public_text, signature_valid
from gatehouse.storage.audit import GENESIS, AuditLog, StoredDigest, StoredEvent, chain_hash

_RECENT = 10_000  # hashes remembered per chain to tell an insertion from a reordering


@dataclass
class Report:
    events: int = 0
    chains: int = 0
    digests: int = 0
    unsigned: int = 0  # events after the last digest (their chain is checked, but not yet signed)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _label(e: StoredEvent) -> str:
    return f"chain {e.chain or '(no account)'} event #{e.seq} ({e.event_id})"


def _check_chain(events: Iterator[StoredEvent], first_seq: int, start_hash: str) -> tuple[int, str, str | None,
                                                                                        dict[int, str]]:
    """(count, last hash, first problem, seq → hash of every event) for one chain's events in sequence order."""
    recent: OrderedDict[str, int] = OrderedDict()
    hashes: dict[int, str] = {}
    prev, last_seq, count = start_hash, first_seq - 1, 0
    for e in events:
        count += 1
        if e.hash != chain_hash(e.prev_hash, e.record):
            return count, prev, f"modified: {_label(e)}: its record does not match its hash", hashes
        if e.seq != last_seq + 1:
            missing = f"#{last_seq + 1}" if e.seq == last_seq + 2 else f"#{last_seq + 1}..#{e.seq - 1}"
            return count, prev, f"deleted: chain {e.chain or '(no account)'} lacks event {missing} " \
                                f"(found #{e.seq} after #{last_seq})", hashes
        if e.prev_hash != prev:
            if e.prev_hash in recent:
                return count, prev, (f"inserted: chain {e.chain or '(no account)'} has events between "
                                     f"#{recent[e.prev_hash]} and {_label(e)} that were not in it"), hashes
            return count, prev, f"reordered: {_label(e)} does not follow the event before it", hashes
        recent[e.hash] = e.seq
        if len(recent) > _RECENT:
            recent.popitem(last=False)
        hashes[e.seq] = e.hash
        prev, last_seq = e.hash, e.seq
    return count, prev, None, hashes


@dataclass
class _Signed:
    heads: dict[str, list[tuple[int, str, int]]] = field(default_factory=dict)  # chain → (seq, hash, digest)
    starts: dict[str, set[tuple[int, str]]] = field(default_factory=dict)  # chain → (first kept seq, start hash)


def _check_digests(digests: list[StoredDigest], public: Ed25519PublicKey | None) -> tuple[str | None, _Signed]:
    """The first problem among the digests, and what they signed: every head, and where each kept chain starts."""
    signed: dict[str, list[tuple[int, str, int]]] = {}
    starts: dict[str, set[tuple[int, str]]] = {}
    prev_hash = GENESIS
    for n, d in enumerate(digests, start=1):
        if d.seq != n:
            return f"deleted: digest #{n} is missing (found #{d.seq})", _Signed()
        if public is not None and not signature_valid(public, d):
            return f"modified: digest #{d.seq} has a signature that does not verify", _Signed()
        try:
            body = json.loads(d.body)
        except ValueError:
            return f"modified: digest #{d.seq} is not JSON", _Signed()
        if public is not None and body.get("publicKey") != public_text(public):
            return f"modified: digest #{d.seq} was signed with another key", _Signed()
        if body.get("previousDigestHash") != prev_hash:
            return f"reordered: digest #{d.seq} does not follow digest #{d.seq - 1}", _Signed()
        prev_hash = digest_hash(d)
        for chain, head in (body.get("chains") or {}).items():
            signed.setdefault(chain, []).append((int(head["seq"]), str(head["hash"]), d.seq))
            starts.setdefault(chain, set()).add((int(head.get("firstSeq", 1)), str(head.get("startHash", GENESIS))))
    return None, _Signed(signed, starts)


def verify(log: AuditLog, public: Ed25519PublicKey | None) -> Report:
    report = Report()
    digests = log.digests()
    report.digests = len(digests)
    problem, vouched = _check_digests(digests, public)
    signed, starts = vouched.heads, vouched.starts
    if problem:
        report.problems.append(problem)
        return report
    heads = {h.chain: h for h in log.heads()}
    for chain in sorted(set(heads) | set(signed)):
        head = heads.get(chain)
        first = head.first_seq if head else 1
        start = head.start_hash if head else GENESIS
        if first != 1 and public is not None and (first, start) not in starts.get(chain, set()):
            report.problems.append(f"deleted: chain {chain or '(no account)'}'s events before #{first} were removed "
                                   "without a signed digest saying so")
            return report
        count, last, problem, hashes = _check_chain(log.events(chain), first, start)
        report.events += count
        report.chains += 1
        if problem:
            report.problems.append(problem)
            return report
        last_seq = max(hashes) if hashes else first - 1
        if head is not None and (head.seq, head.hash) != (last_seq, last if hashes else head.hash):
            if head.seq > last_seq:
                report.problems.append(f"deleted: chain {chain or '(no account)'} ends at event #{last_seq} but "
                                       f"its head is #{head.seq}")
            else:
                report.problems.append(f"modified: chain {chain or '(no account)'}'s head does not match its last "
                                       f"event #{last_seq}")
            return report
        for seq, digest_hash_, digest_seq in signed.get(chain, []):
            if seq < first:
                continue
            if seq > last_seq:
                report.problems.append(f"deleted: digest #{digest_seq} signed chain {chain or '(no account)'} up to "
                                       f"event #{seq}, but it ends at #{last_seq}")
                return report
            if seq and hashes.get(seq) != digest_hash_:
                report.problems.append(f"modified: chain {chain or '(no account)'} was rewritten: event #{seq} is "
                                       f"not the one digest #{digest_seq} signed")
                return report
        signed_up_to = max((s for s, _, _ in signed.get(chain, [])), default=0)
        report.unsigned += max(0, last_seq - signed_up_to)
    return report
