"""The authorizer's cache is bounded by the bytes its entries hold, compiled policies are shared by digest, and a
principal's entry at an older revision is retired when the account's revision moves (issue 16: one TagUser plus a
GetUser per user used to add a full compiled copy of every user's policies per round, until the server was killed).
"""

from __future__ import annotations

import json

from gatehouse.app import Application
from tests.security.support import Keys, new_app, ok, user_with_key

GET_USER = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
                                                                "Resource": "*"}]})


def _tenant(app: Application, users: int, per_group: int) -> list[Keys]:
    """`users` users, each in 2 groups of `per_group` distinct ~4 KB managed policies (a small-scale acceptance)."""
    keys = []
    for u in range(users):
        keys.append(user_with_key(app, f"member-{u}", policy=GET_USER))
        for g in range(2):
            ok(app, "iam", "CreateGroup", {"GroupName": f"grp-{u}-{g}"})
            for p in range(per_group):
                n = (u * 2 + g) * per_group + p
                actions = [f"a{j}:G{n}x{j}*" for j in range(250)]
                document = json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": "*"}]}, separators=(",", ":"))
                arn = ok(app, "iam", "CreatePolicy", {"PolicyName": f"big-{n}", "PolicyDocument": document}
                         ).text("Arn")
                ok(app, "iam", "AttachGroupPolicy", {"GroupName": f"grp-{u}-{g}", "PolicyArn": arn})
            ok(app, "iam", "AddUserToGroup", {"GroupName": f"grp-{u}-{g}", "UserName": f"member-{u}"})
    return keys


def test_rounds_of_one_write_and_reads_keep_one_entry_per_principal_and_share_compiled_policies() -> None:
    app = new_app()
    try:
        authz = app.authz
        assert authz is not None
        keys = _tenant(app, users=4, per_group=3)
        for k in keys:
            ok(app, "iam", "GetUser", keys=k)
        compiled_before = {lp.policy.digest: id(lp.policy) for entry in authz._cache.values()
                           for lp in entry.identity}
        bytes_before = authz.cache_estimated_bytes
        for round_ in range(6):
            ok(app, "iam", "TagUser", {"UserName": "member-0", "Tags.member.1.Key": "round",
                                       "Tags.member.1.Value": str(round_)})
            for k in keys:
                ok(app, "iam", "GetUser", keys=k)
        principals = [key[1] for key in authz._cache]
        assert len(principals) == len(set(principals)), "a principal kept entries at older revisions"
        compiled_after = {lp.policy.digest: id(lp.policy) for entry in authz._cache.values()
                          for lp in entry.identity}
        assert compiled_after == compiled_before, "policies were compiled again instead of shared by digest"
        assert authz.cache_estimated_bytes <= bytes_before * 1.5
    finally:
        app.close()


def test_the_cache_holds_no_more_than_its_byte_budget() -> None:
    app = new_app()
    try:
        authz = app.authz
        assert authz is not None
        keys = _tenant(app, users=4, per_group=3)
        ok(app, "iam", "GetUser", keys=keys[0])
        one_entry = authz.cache_estimated_bytes
        authz.cache_bytes = int(one_entry * 2.5)  # room for two of the four principals
        for _ in range(3):
            for k in keys:
                ok(app, "iam", "GetUser", keys=k)
                assert authz.cache_estimated_bytes <= authz.cache_bytes
        assert len(authz._cache) == 2
    finally:
        app.close()
