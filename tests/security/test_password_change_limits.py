"""ChangePassword and the login-profile operations do their argon2 work (the old password, up to 24 remembered
ones, the new hash) outside any write transaction and off the event loop, and a refused change that spent argon2
(a wrong old password, or a right one with a reused new one) counts toward the caller's lockout."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher

from gatehouse.app import Application
from gatehouse.services.iam.login_profiles import LoginProfiles
from gatehouse.services.password_hashing import Passwords
from tests.security.support import Keys, call, new_app, ok, user_with_key

PASSWORD = "Walker-Password-42!"


class Watched(Passwords):
    """Passwords that note, for every argon2 call, whether a write transaction was open, and can be slowed."""

    def __init__(self, writing: threading.Event, delay: float = 0.0) -> None:
        super().__init__(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))  # fast: tests stay short
        self.writing, self.delay = writing, delay
        self.calls: list[bool] = []

    def hash(self, password: str) -> str:
        self.calls.append(self.writing.is_set())
        time.sleep(self.delay)
        return super().hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.calls.append(self.writing.is_set())
        time.sleep(self.delay)
        return super().verify(password_hash, password)


def _login_profiles(app: Application) -> LoginProfiles:
    assert app.asgi is not None
    route = app.asgi.endpoint.router.route("iam", "ChangePassword")
    owner = route.call.__self__  # type: ignore[attr-defined]
    assert isinstance(owner, LoginProfiles)
    return owner


def _watch(app: Application, delay: float = 0.0) -> Watched:
    """Swap in watched Passwords and flag every write transaction of the store while it is open (once; later calls
    start the count again)."""
    current = _login_profiles(app).passwords
    if isinstance(current, Watched):
        current.calls.clear()
        current.delay = delay
        return current
    writing = threading.Event()
    real_write = app.store.write

    @contextlib.contextmanager
    def write(account_id: str) -> Iterator[Any]:
        with real_write(account_id) as tx:
            writing.set()
            try:
                yield tx
            finally:
                writing.clear()

    app.store.write = write  # type: ignore[method-assign]
    watched = Watched(writing, delay)
    _login_profiles(app).passwords = watched
    return watched


@pytest.fixture
def app() -> Iterator[Application]:
    application = new_app(lockout_threshold=3, lockout_window=600, lockout_duration=600)
    ok(application, "iam", "UpdateAccountPasswordPolicy",
       {"AllowUsersToChangePassword": "true", "PasswordReusePrevention": "4"})
    _watch(application)
    yield application
    application.close()


def _walker(app: Application, remembered: int = 3) -> Keys:
    """A user with an access key, a console password, and `remembered` earlier passwords in its history."""
    keys = user_with_key(app, "walker")
    ok(app, "iam", "CreateLoginProfile", {"UserName": "walker", "Password": "Earlier-Password-0!"})
    for i in range(1, remembered):
        ok(app, "iam", "UpdateLoginProfile", {"UserName": "walker", "Password": f"Earlier-Password-{i}!"})
    ok(app, "iam", "UpdateLoginProfile", {"UserName": "walker", "Password": PASSWORD})
    return keys


def _change(app: Application, keys: Keys, old: str, new: str) -> Any:
    return call(app, "iam", "ChangePassword", {"OldPassword": old, "NewPassword": new}, keys)


def test_argon2_never_runs_inside_a_write_transaction(app: Application) -> None:
    watched = _watch(app)
    keys = _walker(app)
    assert len(watched.calls) >= 4 and not any(watched.calls)  # CreateLoginProfile and UpdateLoginProfile
    watched.calls.clear()
    assert _change(app, keys, PASSWORD, "Earlier-Password-1!").code == "PasswordPolicyViolation"
    assert _change(app, keys, PASSWORD, "Brand-New-Password-9!").status == 200
    # old password + 4 remembered + 1 hash for the change; old + history up to the match for the refusal
    assert len(watched.calls) >= 6 and not any(watched.calls)


def test_a_wrong_old_password_spends_one_check_not_the_history(app: Application) -> None:
    keys = _walker(app)
    watched = _watch(app)
    assert _change(app, keys, "Not-The-Password-1", "Brand-New-Password-9!").code == "AccessDenied"
    assert len(watched.calls) == 1


def test_reused_passwords_count_toward_the_lockout(app: Application) -> None:
    keys = _walker(app)
    refused = [_change(app, keys, PASSWORD, "Earlier-Password-1!") for _ in range(3)]
    assert [a.code for a in refused] == ["PasswordPolicyViolation"] * 3
    assert "previous 4 passwords" in refused[0].message
    watched = _watch(app)
    locked = _change(app, keys, PASSWORD, "Brand-New-Password-9!")
    assert (locked.status, locked.code) == (403, "AccessDenied") and "locked" in locked.message
    assert watched.calls == []  # the lock answers before any argon2


def test_another_accounts_writes_go_on_while_argon2_runs(app: Application) -> None:
    """The figure this guards: a ChangePassword held SQLite's write lock for all its argon2 checks (~2.5 s)."""
    keys = _walker(app)
    other = app.store.create_account  # another account, written through the same store
    from gatehouse.model import Account
    from gatehouse.services.clock import whole_seconds
    other(Account(account_id="210987654321", created=whole_seconds(app.clock)))
    _watch(app, delay=0.3)  # every argon2 call takes 0.3 s more: the change takes >= 1.8 s
    done = threading.Event()

    def changing() -> None:
        try:
            _change(app, keys, PASSWORD, "Brand-New-Password-9!")
        finally:
            done.set()

    worker = threading.Thread(target=changing)
    worker.start()
    time.sleep(0.2)
    slowest = 0.0
    while not done.is_set():
        start = time.monotonic()
        with app.store.write("210987654321") as tx:
            tx.accounts.get("210987654321")
        slowest = max(slowest, time.monotonic() - start)
        time.sleep(0.05)
    worker.join(30)
    assert slowest < 0.25, f"another account's write waited {slowest:.2f} s during a ChangePassword"


def test_a_password_changed_meanwhile_is_checked_again(app: Application) -> None:
    """The write transaction repeats every decision: a password set between the checks and the write is checked
    too (here the old password no longer matches, so the change is refused)."""
    keys = _walker(app)
    watched = _watch(app)
    original_verify = watched.verify
    changed = []

    def verify(password_hash: str, password: str) -> bool:
        if not changed:
            changed.append(True)
            ok(app, "iam", "UpdateLoginProfile", {"UserName": "walker", "Password": "Set-By-Admin-7!"})
        return original_verify(password_hash, password)

    watched.verify = verify  # type: ignore[method-assign]
    answer = _change(app, keys, PASSWORD, "Brand-New-Password-9!")
    assert (answer.status, answer.code) == (403, "AccessDenied")
    assert ok(app, "iam", "GetLoginProfile", {"UserName": "walker"}).status == 200


def test_password_operations_leave_the_event_loop() -> None:
    app = new_app()
    try:
        assert app.asgi is not None
        seen: list[str] = []
        endpoint = app.asgi.endpoint
        real = endpoint.handle

        def handle(*args: Any) -> Any:
            seen.append(threading.current_thread().name)
            return real(*args)

        endpoint.handle = handle  # type: ignore[method-assign]
        loop_thread = threading.current_thread().name

        async def send_one(body: bytes) -> None:
            scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
                     "headers": [(b"authorization", b"AWS4-HMAC-SHA256 x"), (b"content-length",
                                                                             str(len(body)).encode())],
                     "client": ("127.0.0.1", 1), "scheme": "http"}
            sent = False

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                return None

            assert app.asgi is not None
            await app.asgi(scope, receive, send)

        asyncio.run(send_one(b"Action=GetUser&Version=2010-05-08"))
        asyncio.run(send_one(b"Action=ChangePassword&Version=2010-05-08"))
        # Every AWS API request now leaves the loop (wire/limits.Executor), the marked ones among them.
        assert len(seen) == 2 and loop_thread not in seen
    finally:
        app.close()
