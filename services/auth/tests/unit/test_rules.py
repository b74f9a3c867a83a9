"""Pure rules, no I/O: the password policy, key scopes, role claims."""

from __future__ import annotations

import pytest

from webos_auth.domain.passwords import Passwords
from webos_auth.domain.permissions import covered
from webos_auth.domain.sso import claimed_roles
from webos_common.http.errors import ValidationFailed

POLICY = Passwords(time_cost=1, memory_kib=1024, parallelism=1)


@pytest.mark.parametrize(("password", "problem"), [
    ("Sh0rt!", "at least 10 characters"),
    ("alllowercaseletters", "three of"),
    ("A" * 100 + "b1!" + "x" * 40, "at most 128"),
    ("Xx-grace-2024!", "username or email"),
])
def test_policy_names_the_problem(password: str, problem: str) -> None:
    assert any(problem in p for p in POLICY.problems(password, username="grace", email="g@example.com"))


def test_policy_accepts_a_good_password_and_check_raises_with_field() -> None:
    assert POLICY.problems("Corr3ct-Horse-Battery", username="grace") == []
    with pytest.raises(ValidationFailed) as err:
        POLICY.check("short", field="new_password")
    assert {d["field"] for d in err.value.details} == {"new_password"}


def test_hash_verify_and_dummy_for_unknown_accounts() -> None:
    hashed = POLICY.hash("Corr3ct-Horse-Battery")
    assert hashed.startswith("$argon2id$")
    assert POLICY.verify(hashed, "Corr3ct-Horse-Battery")
    assert not POLICY.verify(hashed, "wrong")
    assert not POLICY.verify(None, "not-a-real-password")  # the dummy hash never signs anyone in
    assert not POLICY.verify("garbage", "x")


@pytest.mark.parametrize(("wanted", "granted", "ok"), [
    ("inventory.read", ["inventory.read"], True),
    ("inventory.read", ["inventory.*"], True),
    ("inventory.*", ["inventory.*"], True),
    ("inventory.*", ["inventory.read"], False),
    ("*", ["inventory.*"], False),
    ("tasks.read", ["inventory.*"], False),
    ("anything.at.all", ["*"], True),
    ("inventoryx.read", ["inventory.*"], False),
])
def test_key_scope_must_sit_inside_the_grant(wanted: str, granted: list[str], ok: bool) -> None:
    assert covered(wanted, granted) is ok


def test_roles_claim_shapes() -> None:
    assert claimed_roles({"roles": ["a", "b"]}, "roles") == ["a", "b"]
    assert claimed_roles({"scope": "a b"}, "scope") == ["a", "b"]
    assert claimed_roles({"realm_access": {"roles": ["x"]}}, "realm_access.roles") == ["x"]
    assert claimed_roles({}, "roles") == []
