"""Password guessing through every door that checks a password: console sign-in (where unknown names must lock out
exactly like known ones, or lockout reveals which users exist) and ChangePassword (whose wrong old passwords count
toward the same lockout, and which a locked user cannot use either)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from gatehouse.app import Application
from tests.security.support import ACCOUNT, Answer, AsgiAnswer, Keys, asgi_request, call, new_app, ok, user_with_key

PASSWORD, NEW_PASSWORD, WRONG = "Walker-Password-42!", "Walker-Password-43!", "Not-The-Password-1"
JSON = {"content-type": "application/json"}


@pytest.fixture
def app() -> Iterator[Application]:
    application = new_app(lockout_threshold=3, lockout_window=600, lockout_duration=600)
    ok(application, "iam", "UpdateAccountPasswordPolicy", {"AllowUsersToChangePassword": "true"})
    yield application
    application.close()


def walker(app: Application, name: str) -> Keys:
    """A user with a console password and an access key (whoever holds the key can call ChangePassword)."""
    keys = user_with_key(app, name)
    ok(app, "iam", "CreateLoginProfile", {"UserName": name, "Password": PASSWORD})
    return keys


def signin(app: Application, **fields: str) -> AsgiAnswer:
    return asgi_request(app, "POST", "/signin", body_chunks=[json.dumps(fields).encode()], headers=JSON)


def change(app: Application, keys: Keys, old: str, new: str = NEW_PASSWORD) -> Answer:
    return call(app, "iam", "ChangePassword", {"OldPassword": old, "NewPassword": new}, keys)


def test_lockout_answers_the_same_for_unknown_users(app: Application) -> None:
    walker(app, "walker")

    def answers(username: str) -> list[tuple[int, str, str]]:
        out = []
        for _ in range(4):
            got = signin(app, account=ACCOUNT, username=username, password=WRONG)
            # The seconds left may tick over between the two runs: compared without digits.
            out.append((got.status, got.json()["code"], re.sub(r"\d+", "N", got.json()["message"])))
        return out

    known = answers("walker")
    assert [code for _, code, _ in known] == ["InvalidCredentials"] * 3 + ["LockedOut"]
    assert answers("nobody") == known


def test_wrong_old_passwords_lock_sign_in_and_change_password(app: Application) -> None:
    """AWS's API reference lists EntityTemporarilyUnmodifiable, InvalidUserType, LimitExceeded, NoSuchEntity,
    PasswordPolicyViolation and ServiceFailure for ChangePassword. AWS has no lockout, so it has no wording for a
    locked user, and its answer to a wrong old password could not be confirmed from the references searched (AWS docs,
    LocalStack's snapshots, issue trackers). Gatehouse answers both with AccessDenied (403), as it does a refused
    iam:ChangePassword; the lock's message tells how long it lasts, and does not depend on the old password given."""
    keys = walker(app, "walker")
    wrong = [change(app, keys, WRONG) for _ in range(3)]
    assert {(a.status, a.code, a.message) for a in wrong} == {(403, "AccessDenied", "The old password is incorrect.")}
    assert signin(app, account=ACCOUNT, username="walker", password=PASSWORD).json()["code"] == "LockedOut"
    locked = change(app, keys, PASSWORD)
    assert (locked.status, locked.code) == (403, "AccessDenied") and "locked" in locked.message
    assert change(app, keys, WRONG).message == locked.message  # the lock answers before any password is checked


def test_failed_sign_ins_lock_change_password(app: Application) -> None:
    keys = walker(app, "runner")
    for _ in range(3):
        assert signin(app, account=ACCOUNT, username="Runner", password=WRONG).json()["code"] == "InvalidCredentials"
    locked = change(app, keys, PASSWORD)
    assert (locked.status, locked.code) == (403, "AccessDenied") and "locked" in locked.message


def test_a_right_old_password_clears_earlier_failures(app: Application) -> None:
    keys = walker(app, "fixer")
    for _ in range(2):
        assert change(app, keys, WRONG).code == "AccessDenied"
    assert change(app, keys, PASSWORD).status == 200
    for _ in range(2):
        assert change(app, keys, WRONG).code == "AccessDenied"
    assert change(app, keys, NEW_PASSWORD, PASSWORD).status == 200  # two + two failures never reached three
    assert signin(app, account=ACCOUNT, username="fixer", password=PASSWORD).status == 200
