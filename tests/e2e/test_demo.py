"""`webos demo load` against the platform as `make up` starts it: the demo company is made
through the gateway (people who can sign in, orders in each workflow state, one fulfilled by
the payment saga with its stock reserved, tasks of each person) and a second run makes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

WEBOS = [sys.executable, "-m", "webos_cli.main"]
ADMIN_PASSWORD = os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme")
PEOPLE = {"dana", "sam", "lena", "wei"}
PASSWORD = "Demo-Passw0rd!"


def _load(platform: Any) -> str:
    done = subprocess.run([*WEBOS, "demo", "load", "--url", platform.url], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "WEBOS_ADMIN_PASSWORD": ADMIN_PASSWORD}, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _total(platform: Any, token: str, path: str, **params: Any) -> int:
    return int(platform.get_ok(token, f"{path}?" + "&".join(f"{k}={v}" for k, v in
                                                            {"limit": 1, "meta": "total", **params}.items()))["total"])


def _counts(platform: Any, token: str) -> dict[str, int]:
    return {"people": int(platform.get_ok(token, "/api/auth/users?limit=1")["total"]),
            "roles": len(platform.get_ok(token, "/api/auth/roles")),
            "items": _total(platform, token, "/api/inventory/items"),
            "orders": _total(platform, token, "/api/orders/orders"),
            "tasks": _total(platform, token, "/api/tasks/tasks")}


@pytest.fixture(scope="module")
def platform(own_platform: Any) -> Any:
    """A platform of its own, as `make up` leaves a fresh one: the shared one holds every other
    test's people, orders and saga runs, and the demo's would be in theirs."""
    return own_platform


def test_demo_load_makes_a_living_company_once(platform: Any) -> None:
    out = _load(platform)
    admin_token = platform.login("admin", ADMIN_PASSWORD)  # after the load: the suite's tokens live 30 s
    assert PASSWORD in out and "demo passwords only" in out
    assert all(f"  {name} " in out for name in PEOPLE), out

    # every person signs in with the password printed; the manager may approve orders
    tokens = {name: platform.login(name, PASSWORD) for name in PEOPLE}
    ids = {name: platform.get_ok(tokens[name], "/api/auth/me")["id"] for name in PEOPLE}
    dana = platform.get_ok(admin_token, f"/api/auth/users/{ids['dana']}")
    assert "sales-manager" in dana["roles"]
    assert "orders.approve" in platform.get_ok(admin_token, "/api/auth/roles/sales-manager")["permissions"]

    # orders in each state of the workflow, placed by the demo people
    orders = [o for o in platform.get_ok(admin_token, "/api/orders/orders?limit=100")["items"]
              if o["owner_id"] in ids.values()]
    by_state = {o["state"]: o for o in orders}
    assert Counter(o["state"] for o in orders) == Counter(
        ["draft", "submitted", "approved", "rejected", "fulfilled"])
    for state in ("approved", "fulfilled"):  # approved by someone else than who submitted it
        steps = {h["action"]: h["by"] for h in by_state[state]["history"]}
        assert steps["approve"] == ids["dana"] != steps["submit"]
    assert [h["action"] for h in by_state["fulfilled"]["history"]] == ["submit", "approve", "pay", "fulfil"]

    # the fulfilled order's stock is reserved: what is available went down by what it ordered (the
    # lamps under their reorder level)
    items = {i["sku"]: i for i in platform.get_ok(admin_token, "/api/inventory/items?limit=100")["items"]}
    for line in by_state["fulfilled"]["lines"]:
        assert items[line["sku"]]["reserved"] == line["quantity"] > 0
    lamps = items["LAMP-LED"]
    assert lamps["on_hand"] - lamps["reserved"] < lamps["reorder_level"] <= lamps["on_hand"]

    # tasks of every person, in each column, some assigned and some shared
    tasks = {name: platform.get_ok(tokens[name], "/api/tasks/tasks?mine=true&limit=100")["items"]
             for name in PEOPLE}
    assert all(tasks[name] for name in PEOPLE), tasks
    mine = [t for name in PEOPLE for t in tasks[name]]
    assert {t["status"] for t in mine} == {"todo", "in_progress", "done"}
    assert any(t["shares"] for t in mine) and all(t["tags"] for t in mine)
    assert any(t["due_date"] for t in mine)
    assigned = platform.get_ok(tokens["lena"], "/api/tasks/tasks?assigned=me")["items"]
    assert [t["title"] for t in assigned] == ["Call Acme about their desk order"]

    # a second run makes nothing and says so
    before = _counts(platform, platform.login("admin", ADMIN_PASSWORD))
    again = _load(platform)
    assert "loaded already" in again and "nothing made" in again, again
    assert _counts(platform, platform.login("admin", ADMIN_PASSWORD)) == before
