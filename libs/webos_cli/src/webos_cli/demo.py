"""`webos demo load`: a small living company, made through the gateway's public API as its
people would make it — so every event, outbox row, notification and permission check happens
as in real use (nothing is written to MongoDB directly).

Four people (a sales manager who approves orders, two in sales, one in the warehouse), three
roles granting the modules' permissions, a catalogue with stock receipts, orders in each state
of the workflow (draft, submitted, approved by someone other than who submitted it, rejected,
and one paid and fulfilled through the payment saga, which reserves its stock), and tasks in
each column with assignees, tags, due dates and shares.

Once: the last write is the setting `demo.loaded_at` (module layer of the settings service);
when it is there nothing is made again. Every step before it finds what an interrupted run
made, so running again completes a partial load. The passwords are demo passwords only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import typer

demo_app = typer.Typer(help="Demo data: a small company with people, stock, orders and tasks.",
                       no_args_is_help=True)

PASSWORD = "Demo-Passw0rd!"  # noqa: S105 - every demo person's: a demo password, printed on purpose
MARKER = "demo"  # the settings module whose `loaded_at` says the demo was loaded
MARKER_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    "loaded_at": {"type": "string", "title": "When `webos demo load` loaded the demo company"},
    "people": {"type": "array", "items": {"type": "string"}, "title": "The demo people's user names"}}}
WAIT = 60.0  # seconds: how long a busy (429) or starting (503) platform is waited for, per request


class DemoError(RuntimeError):
    """What stopped the load, said in one line."""


class Unreachable(DemoError):
    """The platform does not answer at all."""


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    job: str
    role: str

    @property
    def email(self) -> str:
        return f"{self.name.lower().replace(' ', '.')}@example.com"


ROLES: dict[str, tuple[str, list[str]]] = {
    "sales": ("Sales: place, submit and pay orders",
              ["orders.read", "orders.write", "inventory.read"]),
    "sales-manager": ("Sales manager: approves or rejects the orders others submit",
                      ["orders.read", "orders.write", "orders.approve", "orders.admin", "inventory.read"]),
    "warehouse": ("Warehouse: the catalogue and its stock receipts",
                  ["inventory.read", "inventory.write", "orders.read"]),
}
PEOPLE = [
    Person("dana", "Dana Reyes", "sales manager (approves orders)", "sales-manager"),
    Person("sam", "Sam Okafor", "sales", "sales"),
    Person("lena", "Lena Novak", "sales", "sales"),
    Person("wei", "Wei Chen", "warehouse", "warehouse"),
]
RECEIVER = "wei"  # who keeps the catalogue and books the receipts


@dataclass(frozen=True)
class ItemSpec:
    sku: str
    name: str
    unit: str
    price: float
    reorder_level: int
    received: int  # the stock receipt booked once the item exists


ITEMS = [
    ItemSpec("DESK-OAK-160", "Oak desk 160 cm", "pcs", 429.0, 4, 12),
    ItemSpec("CHAIR-ERGO", "Ergonomic office chair", "pcs", 289.0, 6, 30),
    ItemSpec("LAMP-LED", "LED desk lamp", "pcs", 39.9, 10, 14),  # the fulfilled order takes it under 10
    ItemSpec("MON-27", "27\" monitor", "pcs", 219.0, 5, 20),
    ItemSpec("CABLE-HDMI-2M", "HDMI cable 2 m", "pcs", 7.5, 50, 200),
    ItemSpec("PAPER-A4", "A4 paper, box of 5 reams", "box", 24.0, 15, 60),
]


@dataclass(frozen=True)
class OrderSpec:
    key: str  # its Idempotency-Key: an interrupted run finds the order it placed
    owner: str
    lines: list[tuple[str, int]]  # (SKU, quantity)
    steps: list[tuple[str, str]]  # (action, who), applied in order up to the state wanted
    reason: str | None = None  # a rejection's


# action -> (the state it applies to, the state it leads to)
NEXT = {"submit": ("draft", "submitted"), "approve": ("submitted", "approved"),
        "reject": ("submitted", "rejected"), "pay": ("approved", "paid")}
ORDERS = [
    OrderSpec("webos-demo-order-1", "sam", [("DESK-OAK-160", 2), ("CHAIR-ERGO", 2)], []),
    OrderSpec("webos-demo-order-2", "lena", [("MON-27", 4), ("CABLE-HDMI-2M", 4)], [("submit", "lena")]),
    OrderSpec("webos-demo-order-3", "sam", [("CHAIR-ERGO", 6)], [("submit", "sam"), ("approve", "dana")]),
    OrderSpec("webos-demo-order-4", "sam", [("DESK-OAK-160", 20)], [("submit", "sam"), ("reject", "dana")],
              reason="Twenty desks is more than the customer's credit line; split it over two orders"),
    OrderSpec("webos-demo-order-5", "lena", [("LAMP-LED", 5), ("PAPER-A4", 3)],
              [("submit", "lena"), ("approve", "dana"), ("pay", "lena")]),
]


@dataclass(frozen=True)
class TaskSpec:
    owner: str
    title: str
    status: str
    priority: str
    due_in_days: int | None
    tags: list[str]
    assignees: list[str] = field(default_factory=list)
    shares: list[dict[str, str]] = field(default_factory=list)  # kind, id (a user name or a role), access
    description: str = ""


TASKS = [
    TaskSpec("dana", "Review the Q3 price list", "in_progress", "high", 3, ["pricing"],
             shares=[{"kind": "role", "id": "sales", "access": "read"}],
             description="Chairs and monitors went up at the supplier; check our margins."),
    TaskSpec("dana", "Approve the orders waiting for approval", "todo", "urgent", 1, ["orders"]),
    TaskSpec("sam", "Call Acme about their desk order", "todo", "medium", 2, ["customers", "acme"],
             assignees=["lena"]),
    TaskSpec("sam", "Prepare the trade fair brochure", "done", "low", None, ["marketing"]),
    TaskSpec("lena", "Onboard the new customer Globex", "in_progress", "high", 5, ["customers", "globex"],
             shares=[{"kind": "user", "id": "sam", "access": "write"}]),
    TaskSpec("lena", "Send the invoices of last week's orders", "done", "medium", None, ["billing"]),
    TaskSpec("wei", "Count the stock in aisle 3", "in_progress", "medium", 4, ["warehouse", "stocktake"]),
    TaskSpec("wei", "Reorder LED desk lamps", "todo", "high", 1, ["warehouse", "purchasing"],
             assignees=["dana"], description="Under the reorder level since the last order."),
    TaskSpec("wei", "Unpack the chair delivery", "done", "low", None, ["warehouse"]),
]


@dataclass
class Loaded:
    """What a run made (or, `already`, when the demo had been loaded before)."""

    already: str | None = None
    made: dict[str, int] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)  # key -> state

    def count(self, what: str) -> None:
        self.made[what] = self.made.get(what, 0) + 1


class Gateway:
    """HTTP through the gateway, as one signed-in person at a time (`token`); a 429 or 503 is
    waited out (the answer's Retry-After), anything else over 400 is a `DemoError` naming it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, token: str | None = None, *, allow: tuple[int, ...] = (),
             **kwargs: Any) -> Any:
        headers = {**kwargs.pop("headers", {}), **({"authorization": f"Bearer {token}"} if token else {})}
        deadline = time.monotonic() + WAIT
        while True:
            try:
                resp = self.client.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise Unreachable(f"WebOS does not answer at {self.url} ({type(exc).__name__}); is it up? "
                                  "`webos up` starts it, `webos status` says what runs") from exc
            if resp.status_code in (429, 503) and time.monotonic() < deadline:
                time.sleep(min(float(resp.headers.get("retry-after") or 1), 5.0))
                continue
            if resp.status_code in allow:
                return None
            if resp.status_code >= 400:
                raise DemoError(f"{method} {path}: {resp.status_code} {_message(resp)}")
            return resp.json() if resp.content else None

    def sign_in(self, login: str, password: str) -> str:
        try:
            body = self.call("POST", "/api/auth/login", json={"login": login, "password": password})
        except Unreachable:
            raise
        except DemoError as exc:
            raise DemoError(f"cannot sign in as {login}: {exc}") from exc
        return str(body["access_token"])


def _message(resp: httpx.Response) -> str:
    try:
        error = resp.json()["error"]
        return str(error["message"]) + "".join(f"; {d.get('field')}: {d.get('message')}"
                                               for d in error.get("details") or [] if isinstance(d, dict))
    except (ValueError, KeyError, TypeError):
        return resp.text[:300].replace("\n", " ")


def load(url: str, *, admin: str, admin_password: str) -> Loaded:
    """Load the demo company into the platform at `url` (its gateway), once."""
    api = Gateway(url)
    try:
        return _Loader(api, api.sign_in(admin, admin_password)).run()
    finally:
        api.close()


class _Loader:
    def __init__(self, api: Gateway, admin: str) -> None:
        self.api, self.admin = api, admin
        self.loaded = Loaded()
        self.ids: dict[str, str] = {}  # user name -> id
        self.tokens: dict[str, str] = {}  # user name -> access token
        self.items: dict[str, dict[str, Any]] = {}  # SKU -> item
        self.started = datetime.now(UTC) - timedelta(seconds=5)  # what was created after it is this run's

    def run(self) -> Loaded:
        marker = self.api.call("GET", f"/api/settings/modules/{MARKER}", self.admin, allow=(404,))
        when = ((marker or {}).get("explicit") or {}).get("loaded_at")
        if when:
            self.loaded.already = str(when)
            return self.loaded
        self.roles()
        self.people()
        self.catalogue()
        self.orders()
        self.tasks()
        self.api.call("PUT", f"/api/settings/schemas/{MARKER}", self.admin,
                      json={"schema": MARKER_SCHEMA, "user_schema": None})
        self.api.call("PUT", f"/api/settings/modules/{MARKER}", self.admin,
                      json={"loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                            "people": [p.username for p in PEOPLE]})
        return self.loaded

    def roles(self) -> None:
        for name, (description, permissions) in ROLES.items():
            if self.api.call("GET", f"/api/auth/roles/{name}", self.admin, allow=(404,)) is not None:
                continue
            deadline = time.monotonic() + WAIT  # a module host that just started may not have declared yet
            while True:
                try:
                    self.api.call("POST", "/api/auth/roles", self.admin,
                                  json={"name": name, "description": description, "permissions": permissions})
                    break
                except DemoError as exc:
                    if "unknown permission" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            self.loaded.count("roles")

    def people(self) -> None:
        for person in PEOPLE:
            found = self.api.call("GET", "/api/auth/users", self.admin, params={"q": person.username, "limit": 200})
            same = [u for u in found["items"] if u.get("username") == person.username]
            if same:
                self.ids[person.username] = str(same[0]["id"])
            else:
                made = self.api.call("POST", "/api/auth/users", self.admin, json={
                    "email": person.email, "username": person.username, "password": PASSWORD,
                    "roles": ["user", person.role], "profile": {"display_name": person.name}})
                self.ids[person.username] = str(made["id"])
                self.loaded.count("people")
            self.tokens[person.username] = self.api.sign_in(person.username, PASSWORD)

    def catalogue(self) -> None:
        token = self.tokens[RECEIVER]
        for spec in ITEMS:
            found = self.api.call("GET", "/api/inventory/items", token, params={"sku": spec.sku})["items"]
            item = found[0] if found else None
            if item is None:
                item = self.api.call("POST", "/api/inventory/items", token, json={
                    "sku": spec.sku, "name": spec.name, "unit": spec.unit, "price": spec.price,
                    "reorder_level": spec.reorder_level})
                self.loaded.count("items")
            if item["on_hand"] == 0 and item["reserved"] == 0:  # its receipt, unless booked already
                item = self.api.call("POST", f"/api/inventory/items/{item['id']}/receive", token,
                                     json={"quantity": spec.received})
                self.loaded.count("stock receipts")
            self.items[spec.sku] = item

    def orders(self) -> None:
        for spec in ORDERS:
            lines = [{"item_id": self.items[sku]["id"], "quantity": qty} for sku, qty in spec.lines]
            order = self.api.call("POST", "/api/orders/orders", self.tokens[spec.owner], json={"lines": lines},
                                  headers={"idempotency-key": spec.key})
            if _utc(order["created_at"]) >= self.started:
                self.loaded.count("orders")
            if spec.steps:  # its state now: a key an interrupted run used answers what it answered then
                order = self.api.call("GET", f"/api/orders/orders/{order['id']}", self.tokens[spec.owner])
            for action, who in spec.steps:
                if order["state"] != NEXT[action][0]:
                    continue  # done by an interrupted run
                path = f"/api/orders/orders/{order['id']}"
                if action == "pay":
                    order = self.api.call("POST", f"{path}/pay", self.tokens[who])
                else:
                    body = {"action": action, **({"reason": spec.reason} if action == "reject" else {})}
                    order = self.api.call("POST", f"{path}/transition", self.tokens[who], json=body)
            if order["state"] == "paid":
                order = self._settled(order["id"], self.tokens[spec.owner])
            self.loaded.orders[spec.key] = order["state"]

    def _settled(self, order_id: str, token: str, timeout: float = 60.0) -> dict[str, Any]:
        """The paid order once inventory answered (`stock:reserved` → fulfilled)."""
        deadline = time.monotonic() + timeout
        while True:
            order: dict[str, Any] = self.api.call("GET", f"/api/orders/orders/{order_id}", token)
            if order["state"] != "paid":
                if order["state"] != "fulfilled":
                    raise DemoError(f"order {order_id} was paid but not fulfilled: {order['state']} "
                                    f"({order.get('failure')})")
                return order
            if time.monotonic() > deadline:
                raise DemoError(f"order {order_id} was paid but inventory did not reserve its stock within "
                                f"{timeout:.0f}s (is the inventory module up? `webos status`)")
            time.sleep(0.5)

    def tasks(self) -> None:
        today = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)
        for spec in TASKS:
            token = self.tokens[spec.owner]
            found = self.api.call("GET", "/api/tasks/tasks", token,
                                  params={"q": spec.title, "mine": "true", "limit": 100})["items"]
            task = next((t for t in found if t["title"] == spec.title), None)
            if task is None:
                due = None if spec.due_in_days is None else (today + timedelta(days=spec.due_in_days)).isoformat()
                task = self.api.call("POST", "/api/tasks/tasks", token, json={
                    "title": spec.title, "description": spec.description, "priority": spec.priority,
                    "due_date": due, "tags": spec.tags, "assignees": [self.ids[a] for a in spec.assignees]})
                self.loaded.count("tasks")
            if spec.shares and not task.get("shares"):
                shares = [{**s, "id": self.ids.get(s["id"], s["id"]) if s["kind"] == "user" else s["id"]}
                          for s in spec.shares]
                task = self.api.call("PUT", f"/api/tasks/tasks/{task['id']}/shares", token, json={"shares": shares})
            for status in _path_to(spec.status, task["status"]):
                task = self.api.call("POST", f"/api/tasks/tasks/{task['id']}/move", token, json={"status": status})


def _utc(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _path_to(target: str, current: str) -> list[str]:
    """The moves a person makes from `current` to `target` (to do → in progress → done)."""
    order = ["todo", "in_progress", "done"]
    return order[order.index(current) + 1:order.index(target) + 1]


def report(loaded: Loaded, url: str, say: Callable[[str], None]) -> None:
    if loaded.already:
        say(f"the demo company was loaded already ({loaded.already}): nothing made, nothing changed")
    else:
        made = ", ".join(f"{n} {what}" for what, n in loaded.made.items()) or "nothing (all there already)"
        say(f"demo company loaded: {made}")
        for key, state in loaded.orders.items():
            say(f"  order {key.rsplit('-', 1)[1]}: {state}")
    say(f"sign in at {url}/ as (demo passwords only — not for real use):")
    for person in PEOPLE:
        say(f"  {person.username:<6} {PASSWORD}   {person.name}, {person.job}")


Url = typer.Option(None, "--url", envvar="WEBOS_URL",
                   help="The gateway. Default: this machine's stack, http://127.0.0.1:<base port>.")
BasePort = typer.Option(int(os.environ.get("WEBOS_BASE_PORT", "8700")), "--base-port")
Admin = typer.Option("admin", "--admin", help="Sign in as this admin (password: WEBOS_ADMIN_PASSWORD, "
                     "else the development default `changeme`).")


def run_load(url: str, admin: str) -> None:
    """Load, print what was made and who may sign in; a failure is one line and exit code 1
    (3 when the platform does not answer)."""
    password = os.environ.get("WEBOS_ADMIN_PASSWORD") or "changeme"
    try:
        loaded = load(url, admin=admin, admin_password=password)
    except DemoError as exc:
        typer.echo(f"webos demo load: {exc}", err=True)
        raise typer.Exit(3 if isinstance(exc, Unreachable) else 1) from exc
    report(loaded, url, typer.echo)


@demo_app.command("load")
def load_command(url: str | None = Url, base_port: int = BasePort, admin: str = Admin) -> None:
    """Create a small company — people, roles, stock, orders, tasks — through the API, once."""
    run_load((url or f"http://127.0.0.1:{base_port}").rstrip("/"), admin)
