"""One contract for every storage backend: `SqlStore` on in-memory SQLite (dev mode), on an SQLite file (the
default) and on a PostgreSQL schema. Units of work commit or roll back as a whole, each write bumps the account's
revision, names are unique per account without regard to case, listings page by opaque markers, concurrent
creates of one name produce exactly one success, and reset empties everything."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest

from gatehouse.errors import ValidationError
from gatehouse.model import (
    AccessKey,
    Account,
    Group,
    InlinePolicy,
    InstanceProfile,
    ManagedPolicy,
    OwnerKind,
    PolicyVersion,
    Role,
    Tag,
    User,
)
from gatehouse.storage.markers import encode_marker
from gatehouse.storage.repository import Duplicate, Listing, StaleMarker
from gatehouse.storage.sql.store import SqlStore

A, B = "111111111111", "222222222222"
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
_counter = iter(range(10**9))


def _id(prefix: str) -> str:
    return f"{prefix}{next(_counter):017d}"


def user(name: str, account: str = A, path: str = "/") -> User:
    return User(account_id=account, user_id=_id("AIDA"), name=name, path=path, created=T0)


def group(name: str, account: str = A, path: str = "/") -> Group:
    return Group(account_id=account, group_id=_id("AGPA"), name=name, path=path, created=T0)


def role(name: str, account: str = A, path: str = "/") -> Role:
    return Role(account_id=account, role_id=_id("AROA"), name=name, path=path, created=T0, trust_policy="{}")


def policy(name: str, account: str = A, path: str = "/") -> ManagedPolicy:
    return ManagedPolicy(account_id=account, policy_id=_id("ANPA"), name=name, path=path, default_version_id="v1",
                         created=T0, updated=T0)


def profile(name: str, account: str = A, path: str = "/") -> InstanceProfile:
    return InstanceProfile(account_id=account, profile_id=_id("AIPA"), name=name, path=path, created=T0)


def key(user_id: str | None, account: str = A) -> AccessKey:
    return AccessKey(account_id=account, access_key_id=f"AKIA{next(_counter):016d}", user_id=user_id, status="Active",
                     created=T0, sealed_secret=b"\x00sealed\xff")


V1 = PolicyVersion("v1", '{"Version": "2012-10-17"}', True, T0)


# --- one store per backend per module; emptied (reset) and given two accounts before each test --------------


@pytest.fixture
def store(backend: SqlStore) -> SqlStore:
    backend.reset()
    for account in (A, B):
        backend.create_account(Account(account_id=account, created=T0))
    return backend


# --- units of work ---------------------------------------------------------------------------------------


def test_a_write_commits_when_the_block_ends(store: SqlStore) -> None:
    u = user("alice")
    with store.write(A) as tx:
        tx.users.insert(u)
        assert tx.users.get("alice") == u  # visible inside its own transaction
    with store.read(A) as tx:
        assert tx.users.get("alice") == u
        assert tx.users.by_id(u.user_id) == u


def test_an_exception_rolls_everything_back(store: SqlStore) -> None:
    revision = store.revision(A)
    with pytest.raises(RuntimeError), store.write(A) as tx:
        tx.users.insert(user("alice"))
        tx.groups.insert(group("devs"))
        tx.accounts.set_alias("rolled-back")
        raise RuntimeError("abort")
    with store.read(A) as tx:
        assert tx.users.get("alice") is None and tx.groups.get("devs") is None
        account = tx.accounts.get(A)
        assert account is not None and account.alias is None
    assert store.revision(A) == revision  # the bump was part of the rolled-back transaction


def test_a_duplicate_rolls_back_the_whole_unit(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.users.insert(user("taken"))
    with pytest.raises(Duplicate), store.write(A) as tx:
        tx.groups.insert(group("made-in-the-same-unit"))
        tx.users.insert(user("TAKEN"))
    with store.read(A) as tx:
        assert tx.groups.get("made-in-the-same-unit") is None
        assert [u.name for u in tx.users.all()] == ["taken"]


def test_every_write_bumps_the_revision_and_reads_do_not(store: SqlStore) -> None:
    start = store.revision(A)
    with store.write(A) as tx:
        assert tx.revision == start + 1
    with store.write(A) as tx:
        tx.users.insert(user("u"))
        assert tx.revision == start + 2
    with store.read(A) as tx:
        tx.users.all()
    assert store.revision(A) == start + 2
    assert store.revision(B) != -1 and store.revision("999999999999") == -1


def test_writes_of_one_account_do_not_bump_another(store: SqlStore) -> None:
    before = store.revision(B)
    with store.write(A) as tx:
        tx.users.insert(user("u"))
    assert store.revision(B) == before


def test_writing_to_an_unknown_account_fails(store: SqlStore) -> None:
    with pytest.raises(LookupError), store.write("999999999999"):
        pass


def test_accounts_are_isolated(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.users.insert(user("same", A))
        tx.policies.insert(policy("same", A), V1)
    with store.write(B) as tx:
        assert tx.users.get("same") is None
        tx.users.insert(user("same", B))  # the same name in another account is fine
        tx.policies.insert(policy("same", B), V1)
    with store.read(B) as b:
        ub = b.users.get("same")
        assert ub is not None and b.users.count() == 1
    with store.read(A) as a:
        ua = a.users.get("same")
        assert ua is not None and ua.user_id != ub.user_id
        assert a.users.by_id(ub.user_id) is None
        assert [u.name for u in a.users.page(Listing()).items] == ["same"]
        assert a.users.count() == 1


def test_a_reader_never_sees_an_unfinished_write(store: SqlStore) -> None:
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with store.write(A) as tx:
                tx.users.insert(user("pending"))
                inserted.set()
                release.wait(10)
        except BaseException as e:
            errors.append(e)

    seen: list[User | None] = []
    done = threading.Event()

    def reader() -> None:
        with store.read(A) as tx:
            seen.append(tx.users.get("pending"))
        done.set()

    w = threading.Thread(target=writer)
    w.start()
    assert inserted.wait(10)
    r = threading.Thread(target=reader)
    r.start()
    if store.memory:
        # One shared connection: the reader waits for the writer to finish, so it cannot see a partial state.
        assert not done.wait(0.3)
    else:
        # SQLite WAL and PostgreSQL: the reader goes ahead and sees the last committed state.
        assert done.wait(10), "a reader was blocked by a writer"
        assert seen == [None], "a reader saw a row of a transaction that had not committed"
    release.set()
    w.join(10)
    r.join(10)
    assert not errors and done.is_set()
    with store.read(A) as tx:
        assert tx.users.get("pending") is not None


# --- names -----------------------------------------------------------------------------------------------

_NAMED: list[tuple[str, Callable[[str], Any], Callable[[Any, Any], None]]] = [
    ("users", user, lambda tx, x: tx.users.insert(x)),
    ("groups", group, lambda tx, x: tx.groups.insert(x)),
    ("roles", role, lambda tx, x: tx.roles.insert(x)),
    ("policies", policy, lambda tx, x: tx.policies.insert(x, V1)),
    ("profiles", profile, lambda tx, x: tx.profiles.insert(x)),
]


@pytest.mark.parametrize(("repo", "make", "insert"), _NAMED, ids=[n[0] for n in _NAMED])
def test_names_are_unique_without_regard_to_case(store: SqlStore, repo: str, make: Callable[[str], Any],
                                                 insert: Callable[[Any, Any], None]) -> None:
    with store.write(A) as tx:
        insert(tx, make("MixedCase"))
    for clash in ("MixedCase", "mixedcase", "MIXEDCASE"):
        with pytest.raises(Duplicate), store.write(A) as tx:
            insert(tx, make(clash))
    with store.read(A) as tx:
        found = getattr(tx, repo).get("mixedCASE")
        assert found is not None and found.name == "MixedCase"


def test_renaming_onto_a_taken_name_is_a_duplicate(store: SqlStore) -> None:
    a, b = user("a"), user("b")
    with store.write(A) as tx:
        tx.users.insert(a)
        tx.users.insert(b)
    with pytest.raises(Duplicate), store.write(A) as tx:
        tx.users.update(User(**{**_fields(b), "name": "A"}))
    with store.write(A) as tx:
        tx.users.update(User(**{**_fields(a), "name": "A"}))  # a change of case of one's own name is fine
    with store.read(A) as tx:
        assert [u.name for u in tx.users.all()] == ["A", "b"]


def _fields(entity: Any) -> dict[str, Any]:
    return {f: getattr(entity, f) for f in entity.__slots__}


# --- concurrency -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("check_first", [False, True], ids=["blind-insert", "check-then-insert"])
def test_concurrent_creates_of_one_name_produce_exactly_one_success(store: SqlStore, check_first: bool) -> None:
    threads, barrier = 8, threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        barrier.wait(10)
        try:
            with store.write(A) as tx:
                if check_first and tx.users.get("contended") is not None:
                    result = "exists"
                else:
                    tx.users.insert(user("Contended" if i % 2 else "contended"))
                    result = "created"
        except Duplicate:
            result = "duplicate"
        except BaseException as e:
            result = f"error: {e!r}"
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=create, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert outcomes.count("created") == 1, outcomes
    assert all(o in ("created", "duplicate", "exists") for o in outcomes), outcomes
    if check_first:  # writers of one account are serialized, so the check always sees the winner
        assert outcomes.count("exists") == threads - 1, outcomes
    with store.read(A) as tx:
        assert tx.users.count() == 1


def test_concurrent_writes_each_bump_the_revision_once(store: SqlStore) -> None:
    start = store.revision(A)
    n = 10

    def write(i: int) -> None:
        with store.write(A) as tx:
            tx.groups.insert(group(f"g{i}"))

    workers = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert store.revision(A) == start + n
    with store.read(A) as tx:
        assert len(list(tx.groups.all())) == n


# --- listings --------------------------------------------------------------------------------------------


def _page_all(list_page: Callable[[Listing], Any], limit: int, prefix: str = "/") -> list[list[str]]:
    out: list[list[str]] = []
    after = None
    while True:
        page = list_page(Listing(path_prefix=prefix, after=after, limit=limit))
        assert len(page.items) <= limit
        out.append([x.name for x in page.items])
        if not page.is_truncated:
            return out
        after = page.marker


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
def test_listings_page_by_marker_in_name_order(store: SqlStore, limit: int) -> None:
    names = ["delta", "Alpha", "charlie", "Bravo", "echo", "foxtrot", "golf"]
    with store.write(A) as tx:
        for n in names:
            tx.users.insert(user(n))
            tx.roles.insert(role(n))
    expected = sorted(names, key=str.lower)
    with store.read(A) as tx:
        for repo in (tx.users, tx.roles):
            got = _page_all(repo.page, limit)
            assert [n for p in got for n in p] == expected
            assert len(got) == max(1, -(-len(names) // limit))


def test_a_marker_is_opaque_and_survives_deletion(store: SqlStore) -> None:
    with store.write(A) as tx:
        for n in ("a", "b", "c", "d"):
            tx.users.insert(user(n))
    with store.read(A) as tx:
        first = tx.users.page(Listing(limit=2))
    assert first.marker and "b" not in first.marker
    with store.write(A) as tx:
        b = tx.users.get("b")
        assert b is not None
        tx.users.delete(b.user_id)
    with store.read(A) as tx:
        assert [u.name for u in tx.users.page(Listing(after=first.marker, limit=2)).items] == ["c", "d"]


def test_a_marker_the_store_did_not_issue_is_rejected(store: SqlStore) -> None:
    with store.read(A) as tx:
        for bad in ("garbage!", "Zm9vYmFy", "%%%"):
            with pytest.raises(StaleMarker) as info:
                tx.users.page(Listing(after=bad))
            assert isinstance(info.value, ValidationError)
        assert tx.users.page(Listing(after=encode_marker("zzz"))).items == []


def test_path_prefix_is_a_case_sensitive_literal_prefix(store: SqlStore) -> None:
    paths = {"root": "/", "team": "/team/", "sub": "/team/sub/", "teams": "/teams/", "upper": "/TEAM/",
             "under": "/te_m/", "percent": "/te%m/"}
    with store.write(A) as tx:
        for name, path in paths.items():
            tx.users.insert(user(name, path=path))
            tx.groups.insert(group(name, path=path))
            tx.roles.insert(role(name, path=path))
            tx.policies.insert(policy(name, path=path), V1)
            tx.profiles.insert(profile(name, path=path))
    with store.read(A) as tx:
        for repo in (tx.users, tx.groups, tx.roles, tx.policies, tx.profiles):
            def names(prefix: str, repo: Any = repo) -> set[str]:
                return {x.name for x in repo.page(Listing(path_prefix=prefix, limit=100)).items}
            assert names("/") == set(paths)
            assert names("/team/") == {"team", "sub"}
            assert names("/team") == {"team", "sub", "teams"}
            assert names("/TEAM/") == {"upper"}
            assert names("/te_m/") == {"under"}
            assert names("/te%m/") == {"percent"}


def test_group_members_and_groups_for_user_page(store: SqlStore) -> None:
    g = group("g")
    users = [user(f"u{i}") for i in range(5)]
    with store.write(A) as tx:
        tx.groups.insert(g)
        for u in users:
            tx.users.insert(u)
            tx.groups.add_member(g.group_id, u.user_id)
        tx.groups.add_member(g.group_id, users[0].user_id)  # idempotent
    with store.read(A) as tx:
        assert [n for p in _page_all(lambda listing: tx.groups.members(g.group_id, listing), 2) for n in p] == [
            f"u{i}" for i in range(5)]
        assert tx.groups.member_count(g.group_id) == 5
        assert [x.name for x in tx.groups.for_user(users[0].user_id, Listing()).items] == ["g"]


def test_inline_policy_names_page(store: SqlStore) -> None:
    u = user("u")
    with store.write(A) as tx:
        tx.users.insert(u)
        for n in ("b", "a", "d", "c", "e"):
            tx.inline.put(InlinePolicy(OwnerKind.USER, u.user_id, n, "{}"))
        tx.inline.put(InlinePolicy(OwnerKind.USER, u.user_id, "a", '{"replaced": 1}'))
    with store.read(A) as tx:
        names, after = [], None
        while True:
            page = tx.inline.names(OwnerKind.USER, u.user_id, after, 2)
            names += page.items
            if not page.is_truncated:
                break
            after = page.marker
        assert names == ["a", "b", "c", "d", "e"]
        got = tx.inline.get(OwnerKind.USER, u.user_id, "a")
        assert got is not None and got.document == '{"replaced": 1}'
        assert tx.inline.count_for(OwnerKind.USER, u.user_id) == 5


# --- aggregates ------------------------------------------------------------------------------------------


def test_timestamps_come_back_aware_utc(store: SqlStore) -> None:
    local = dt.datetime(2024, 5, 1, 14, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    u = User(account_id=A, user_id=_id("AIDA"), name="tz", path="/", created=local)
    with store.write(A) as tx:
        tx.users.insert(u)
    with store.read(A) as tx:
        got = tx.users.get("tz")
    assert got is not None and got.created == T0 and got.created.utcoffset() == dt.timedelta(0)


def test_policy_versions(store: SqlStore) -> None:
    p = policy("p")
    with store.write(A) as tx:
        tx.policies.insert(p, V1)
        for n in (2, 3, 10):
            tx.policies.add_version(p.policy_id, PolicyVersion(f"v{n}", f'{{"n": {n}}}', False, T0))
        tx.policies.set_default(p.policy_id, "v10", T0 + dt.timedelta(hours=1))
        tx.policies.delete_version(p.policy_id, "v2")
    with store.read(A) as tx:
        versions = tx.policies.versions(p.policy_id)
        assert [(v.version_id, v.is_default) for v in versions] == [("v10", True), ("v3", False), ("v1", False)]
        v10 = tx.policies.version(p.policy_id, "v10")
        assert v10 is not None and v10.is_default and v10.document == '{"n": 10}'
        assert tx.policies.version(p.policy_id, "v2") is None
        got = tx.policies.get("P")
        assert got is not None and got.default_version_id == "v10" and got.updated == T0 + dt.timedelta(hours=1)
    with store.write(A) as tx:
        tx.policies.delete(p.policy_id)
    with store.read(A) as tx:
        assert tx.policies.get("p") is None and tx.policies.versions(p.policy_id) == []


def test_attachments_and_boundaries(store: SqlStore) -> None:
    u, r, p = user("u"), role("r"), policy("p")
    with store.write(A) as tx:
        tx.users.insert(u)
        tx.roles.insert(r)
        tx.policies.insert(p, V1)
        tx.attachments.attach(OwnerKind.USER, u.user_id, A, p.policy_id)
        tx.attachments.attach(OwnerKind.USER, u.user_id, A, p.policy_id)  # idempotent
        tx.attachments.attach(OwnerKind.ROLE, r.role_id, "aws", "ANPAAWSMANAGED000001")
        tx.users.set_boundary(u.user_id, f"arn:aws:iam::{A}:policy/p")
        tx.roles.update(Role(**{**_fields(r), "permissions_boundary": f"arn:aws-cn:iam::{A}:policy/p"}))
    with store.read(A) as tx:
        assert tx.attachments.is_attached(OwnerKind.USER, u.user_id, A, p.policy_id)
        assert tx.attachments.for_owner(OwnerKind.USER, u.user_id) == [(A, p.policy_id)]
        assert tx.attachments.owners_of(A, p.policy_id) == [(OwnerKind.USER, u.user_id)]
        assert tx.attachments.count_of(A, p.policy_id) == 1
        assert tx.attachments.counts() == {(A, p.policy_id): 1, ("aws", "ANPAAWSMANAGED000001"): 1}
        assert tx.attachments.boundary_usages() == {f"iam::{A}:policy/p": 2}
    with store.read(B) as tx:
        assert tx.attachments.counts() == {} and tx.attachments.count_of(A, p.policy_id) == 0
    with store.write(A) as tx:
        tx.attachments.detach(OwnerKind.USER, u.user_id, A, p.policy_id)
    with store.read(A) as tx:
        assert tx.attachments.count_of(A, p.policy_id) == 0


def test_deleting_a_user_or_role_removes_its_memberships(store: SqlStore) -> None:
    u, g, r, ip = user("u"), group("g"), role("r"), profile("ip")
    with store.write(A) as tx:
        tx.users.insert(u)
        tx.groups.insert(g)
        tx.groups.add_member(g.group_id, u.user_id)
        tx.roles.insert(r)
        tx.profiles.insert(ip)
        tx.profiles.add_role(ip.profile_id, r.role_id)
    with store.read(A) as tx:
        got = tx.profiles.get("ip")
        assert got is not None and got.role_ids == (r.role_id,)
        assert [x.name for x in tx.profiles.for_role(r.role_id, Listing()).items] == ["ip"]
    with store.write(A) as tx:
        tx.users.delete(u.user_id)
        tx.roles.delete(r.role_id)
    with store.read(A) as tx:
        assert tx.groups.member_count(g.group_id) == 0
        got = tx.profiles.get("ip")
        assert got is not None and got.role_ids == ()


def test_trust_bindings_round_trip_and_principals_are_found_across_accounts(store: SqlStore) -> None:
    alice, bob = user("Alice", path="/team/"), user("bob", account=B)
    trusted = role("trusted", account=B)
    bound = dataclasses.replace(role("r"), trust_principals=(("arn:aws:iam::x:user/team/Alice", alice.user_id),))
    with store.write(A) as tx:
        tx.users.insert(alice)
        tx.roles.insert(bound)
    with store.write(B) as tx:
        tx.users.insert(bob)
        tx.roles.insert(trusted)
    with store.read(A) as tx:
        assert tx.roles.by_id(bound.role_id) == bound
        found = tx.principals.find(A, "user", "alice")  # without case, as IAM names compare
        assert found is not None and (found.unique_id, found.name, found.path) == (alice.user_id, "Alice", "/team/")
        assert tx.principals.find(A, "role", "Alice") is None and tx.principals.find(B, "user", "alice") is None
        other = tx.principals.find(B, "role", "TRUSTED")  # another account's, from this account's unit of work
        assert other is not None and other.arn("aws") == f"arn:aws:iam::{B}:role/trusted"
        assert set(tx.principals.by_ids([alice.user_id, bob.user_id, trusted.role_id, "AIDAGONE"])) == {
            alice.user_id, bob.user_id, trusted.role_id}
    with store.write(A) as tx:
        tx.roles.update(dataclasses.replace(bound, trust_principals=()))
    with store.read(A) as tx:
        got = tx.roles.by_id(bound.role_id)
        assert got is not None and got.trust_principals == ()


def test_tags_keep_their_order_and_unique_keys(store: SqlStore) -> None:
    u = user("u")
    tags = [Tag("b", "2"), Tag("A", "1"), Tag("c", "")]
    with store.write(A) as tx:
        tx.users.insert(u)
        tx.tags.replace(OwnerKind.USER, u.user_id, tags)
    with store.read(A) as tx:
        assert tx.tags.get(OwnerKind.USER, u.user_id) == tuple(tags)
        assert tx.tags.get(OwnerKind.ROLE, u.user_id) == ()
    with pytest.raises(Duplicate), store.write(A) as tx:
        tx.tags.replace(OwnerKind.USER, u.user_id, [Tag("k", "1"), Tag("K", "2")])
    with store.write(A) as tx:
        tx.tags.replace(OwnerKind.USER, u.user_id, [])
    with store.read(A) as tx:
        assert tx.tags.get(OwnerKind.USER, u.user_id) == ()


def test_access_keys_and_credentials(store: SqlStore) -> None:
    u = user("holder", path="/p/")
    user_key, root_key = key(u.user_id), key(None)
    with store.write(A) as tx:
        tx.users.insert(u)
        tx.keys.insert(user_key)
        tx.keys.insert(root_key)
    record = store.credential(user_key.access_key_id)
    assert record is not None and record.key == user_key and record.user == u
    assert record.account_revision == store.revision(A)
    root = store.credential(root_key.access_key_id)
    assert root is not None and root.user is None and root.key.sealed_secret == b"\x00sealed\xff"
    assert store.credential("AKIANOSUCHKEY0000000") is None
    with store.read(A) as tx:
        assert tx.keys.for_user(u.user_id) == [user_key] and tx.keys.for_user(None) == [root_key]
    with store.read(B) as tx:
        assert tx.keys.get(user_key.access_key_id) is None
    with store.write(A) as tx:
        tx.keys.set_status(user_key.access_key_id, "Inactive")
    record = store.credential(user_key.access_key_id)
    assert record is not None and record.key.status == "Inactive"


def test_recording_key_use_does_not_bump_the_revision(store: SqlStore) -> None:
    k = key(None)
    with store.write(A) as tx:
        tx.keys.insert(k)
    revision = store.revision(A)
    store.record_key_use(k.access_key_id, T0, "eu-west-1", "sts")
    assert store.revision(A) == revision
    record = store.credential(k.access_key_id)
    assert record is not None
    assert (record.key.last_used, record.key.last_used_region, record.key.last_used_service) == (
        T0, "eu-west-1", "sts")


def test_account_alias_is_unique_across_accounts(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.accounts.set_alias("shared-alias")
    with pytest.raises(Duplicate), store.write(B) as tx:
        tx.accounts.set_alias("shared-alias")
    with store.read() as tx:
        found = tx.accounts.by_alias("shared-alias")
        assert found is not None and found.account_id == A
        assert tx.accounts.all_ids() == [A, B]


def test_account_counts(store: SqlStore) -> None:
    p = policy("p")
    with store.write(A) as tx:
        tx.users.insert(user("u"))
        tx.roles.insert(role("r"))
        tx.policies.insert(p, V1)
        tx.policies.add_version(p.policy_id, PolicyVersion("v2", "{}", False, T0))
        tx.keys.insert(key(None))
        counts = tx.accounts.counts()
    assert (counts.users, counts.roles, counts.groups, counts.policies, counts.policy_versions_in_use,
            counts.root_access_keys) == (1, 1, 0, 1, 2, 1)


def test_tasks(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.tasks.insert("task/1", "kind", "subject", "IN_PROGRESS")
    with store.write(A) as tx:
        tx.tasks.update("task/1", "FAILED", "why")
    with store.read(A) as tx:
        assert tx.tasks.get("task/1") == ("kind", "subject", "FAILED", "why")
    with store.read(B) as tx:
        assert tx.tasks.get("task/1") is None


def test_reset_empties_every_table(store: SqlStore) -> None:
    u, g = user("u"), group("g")
    with store.write(A) as tx:
        tx.users.insert(u)
        tx.groups.insert(g)
        tx.groups.add_member(g.group_id, u.user_id)
        tx.keys.insert(key(u.user_id))
        tx.tags.replace(OwnerKind.USER, u.user_id, [Tag("a", "b")])
        tx.policies.insert(policy("p"), V1)
    store.reset()
    assert store.revision(A) == -1
    with store.read() as tx:
        assert tx.accounts.all_ids() == []
    store.create_account(Account(account_id=A, created=T0))
    with store.read(A) as tx:
        assert tx.users.get("u") is None and tx.groups.get("g") is None and tx.policies.get("p") is None
        assert tx.tags.get(OwnerKind.USER, u.user_id) == ()
        assert tx.accounts.counts().users == 0


def test_creating_an_account_twice_is_a_duplicate(store: SqlStore) -> None:
    with pytest.raises(Duplicate):
        store.create_account(Account(account_id=A, created=T0))


# --- the account's stored document bytes (issue 16: a per-account quota) ---------------------------------


def test_document_bytes_counts_every_stored_document_as_submitted(store: SqlStore) -> None:
    padded = '{"Version": "2012-10-17"}' + " " * 1000 + "é"  # white space counts; é is two UTF-8 bytes
    with store.write(A) as tx:
        assert tx.accounts.document_bytes() == 0
        p = policy("documents")
        tx.policies.insert(p, PolicyVersion("v1", padded, True, T0))
        tx.policies.add_version(p.policy_id, PolicyVersion("v2", "{}", False, T0))
        u = user("documents")
        tx.users.insert(u)
        tx.inline.put(InlinePolicy(OwnerKind.USER, u.user_id, "inline", padded))
        tx.roles.insert(role("documents"))  # trust policy "{}"
    with store.read(A) as tx:
        assert tx.accounts.document_bytes() == 2 * (len(padded) + 1) + 2 + 2
    with store.read(B) as tx:
        assert tx.accounts.document_bytes() == 0
