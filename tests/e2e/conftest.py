"""The platform as `make up` starts it (`webos up` in a temp state dir on a
free port range), a headless Debian chromium driven by Playwright, and
small helpers for the shell's browser tests. Screenshots go to
`test-artifacts/shell/`."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from webos_common.infra.process import free_port_range

WEBOS = [sys.executable, "-m", "webos_cli.main"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "shell"
ADMIN = ("admin", os.environ.get("WEBOS_ADMIN_PASSWORD", "changeme"))
ACCESS_TTL = 90  # seconds (the verifiers accept 5 s of leeway on top): the e2e part lasts many lifetimes, so
# silent refreshes happen throughout; 30 s left a test on a loaded machine with an expired token mid-test




@dataclass
class Platform:
    url: str
    state_dir: Path
    base_port: int

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.base_port + 21}"

    @property
    def nats_ca(self) -> Path:
        """The stack's own CA: NATS takes TLS connections only, verified with it."""
        return self.state_dir / "credentials" / "tls" / "ca.pem"

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15)

    def create_task(self, token: str, title: str, **extra: Any) -> dict[str, Any]:
        """A task made through the gateway as the token's holder (201 or the test fails)."""
        with self.api(token) as client:
            made = client.post("/api/tasks/tasks", json={"title": title, **extra})
        assert made.status_code == 201, made.text
        return dict(made.json())

    def get_ok(self, token: str, path: str) -> Any:
        """`path`'s JSON through the gateway (200 or the test fails)."""
        with self.api(token) as client:
            answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    @staticmethod
    def until(check: Any, timeout: float = 10.0) -> Any:
        """Poll `check` until it returns something truthy or `timeout` passes; its last answer."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.2)

    def sign_up(self, password: str) -> tuple[str, str]:
        """A new person, registered as anyone may: (user name, id)."""
        name = f"p{uuid.uuid4().hex[:8]}"
        with self.api() as client:
            made = client.post("/api/auth/register", json={"email": f"{name}@example.com", "username": name,
                                                           "password": password})
        assert made.status_code == 201, made.text
        return name, str(made.json()["id"])

    def login(self, name: str, password: str) -> str:
        with self.api() as client:
            response = client.post("/api/auth/login", json={"login": name, "password": password})
        response.raise_for_status()
        return str(response.json()["access_token"])


@contextlib.contextmanager
def _stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A whole platform of its own (`webos up`), taken down after."""
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing: apt-get install chromium (make test installs it)"
        if os.environ.get("CI"):  # CI installs every tool: missing is a failure there
            pytest.fail(missing)
        pytest.skip(missing)
    running = os.environ.get("WEBOS_E2E_URL")  # reuse a platform already up (while writing tests)
    if running:
        port = int(running.rstrip("/").rsplit(":", 1)[1])
        yield Platform(running.rstrip("/"), Path(os.environ.get("WEBOS_E2E_STATE", ".webos")), port)
        return
    state = tmp_path_factory.mktemp("shell-e2e") / "state"
    base = free_port_range()
    args = ["--state-dir", str(state), "--base-port", str(base)]
    # Short-lived access tokens, so the suite lives through silent refreshes.
    # The API fuzz run (test_api_fuzz.py) sends a few thousand requests per user: above the default rate limit.
    # No demo company (`webos up --demo`, WEBOS_DEMO) in the shared stack unless a test loads it.
    env = {**os.environ, "WEBOS_ACCESS_TOKEN_TTL": str(ACCESS_TTL), "WEBOS_RATE_LIMIT_USER": "1000/second",
           "WEBOS_DEMO": "0"}
    up = subprocess.run([*WEBOS, "up", *args, "--timeout", "120"], capture_output=True, text=True, timeout=240,
                        env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield Platform(f"http://127.0.0.1:{base}", state, base)
    finally:
        subprocess.run([*WEBOS, "down", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with _stack(tmp_path_factory) as made:
        yield made


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform for one test module whose load (thousands of records and events) would
    slow the shared one for every test after it."""
    with _stack(tmp_path_factory) as made:
        yield made


@pytest.fixture(scope="session")
def _admin_tokens(platform: Platform) -> dict[str, Any]:
    return {}


@pytest.fixture
def admin_token(platform: Platform, _admin_tokens: dict[str, Any]) -> str:
    """An admin access token for API calls, fresh enough for one test."""
    if time.monotonic() - _admin_tokens.get("at", -1e9) > ACCESS_TTL / 2:
        _admin_tokens.update(token=platform.login(*ADMIN), at=time.monotonic())
    return str(_admin_tokens["token"])


@pytest.fixture(scope="session")
def tasks_api(platform: Platform) -> str:
    """The tasks module answering through the gateway, or a skip naming what is missing."""
    deadline = time.monotonic() + 30
    last: Any = None
    with platform.api(platform.login(*ADMIN)) as client:
        while time.monotonic() < deadline:
            response = client.get("/api/tasks/tasks", params={"limit": 1})
            if response.status_code == 200:
                return "/api/tasks/tasks"
            last = f"{response.status_code} {response.text[:200]}"
            time.sleep(1)
    pytest.fail(f"the tasks module does not answer through the gateway (GET /api/tasks/tasks -> {last})")


@pytest.fixture(scope="session")
def member(platform: Platform) -> tuple[str, str]:
    """A non-admin who may use tasks: role `tasker` (tasks.*) plus `user`."""
    name, password = f"m{uuid.uuid4().hex[:8]}", "member-pass-1234"
    with platform.api(platform.login(*ADMIN)) as client:
        client.post("/api/auth/roles", json={"name": "tasker", "permissions": ["tasks.*"]})
        made = client.post("/api/auth/users", json={"email": f"{name}@example.com", "username": name,
                                                   "password": password, "roles": ["user", "tasker"]})
    assert made.status_code == 201, made.text
    return name, password


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Any]:
    """Playwright's sync API runs an event loop on this thread while it is open:
    keep it to one test module so async tests elsewhere get their own loop."""
    import asyncio

    from playwright.sync_api import expect, sync_playwright

    # What the page shows after a write travels through the bus and the event log; on a loaded
    # machine (CI on 2 cores) that can take longer than Playwright's 5 s default.
    expect.set_options(timeout=12_000)
    with sync_playwright() as pw:
        yield pw
    asyncio.set_event_loop(asyncio.new_event_loop())


@pytest.fixture(scope="module")
def browser(playwright_session: Any) -> Iterator[Any]:
    chromium = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _page(browser: Any, request: pytest.FixtureRequest, state: Any = None, who: str = "",
          **options: Any) -> Iterator[Any]:
    """`options`: more of the browser context's (`timezone_id`, `locale`)."""
    if state is not None:
        state = {k: v for k, v in state.items() if k not in ("signed_in_at", "access_ttl")}
    context = browser.new_context(viewport={"width": 1360, "height": 860}, storage_state=state, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}{who}.png"))
    with contextlib.suppress(Exception):  # a page caught mid-navigation made `context.close()` hang for
        page.goto("about:blank", timeout=10_000)  # the whole test timeout (a reload the test set off)
    context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _page(browser, request)


@pytest.fixture(scope="module")
def admin_state(browser: Any, platform: Platform) -> Any:
    """The browser state of one admin sign-in (the shell's session cookie), shared by tests."""
    context = browser.new_context()
    shell = Shell(context.new_page(), platform)
    shell.sign_in(*ADMIN)
    state = context.storage_state()
    context.close()
    state["signed_in_at"], state["access_ttl"] = time.monotonic(), ACCESS_TTL
    return state


@pytest.fixture
def admin(browser: Any, platform: Platform, admin_state: Any, request: pytest.FixtureRequest) -> Iterator[Shell]:
    """A page already signed in as the admin."""
    for page in _page(browser, request, admin_state):
        yield Shell(page, platform)


@pytest.fixture
def admin_in_new_york(browser: Any, platform: Platform, admin_state: Any, request: pytest.FixtureRequest
                      ) -> Iterator[Shell]:
    """A page signed in as the admin, whose browser is in New York (UTC-5 in winter): times
    entered and shown there are local, not UTC."""
    for page in _page(browser, request, admin_state, "-new-york", timezone_id="America/New_York"):
        yield Shell(page, platform)


@pytest.fixture
def second_admin(browser: Any, platform: Platform, admin_state: Any, request: pytest.FixtureRequest
                 ) -> Iterator[Shell]:
    """Another page signed in as the admin (another tab, with its own copy of the data)."""
    for page in _page(browser, request, admin_state):
        yield Shell(page, platform)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps the call's report for `_page` (a screenshot of a failed test's page). A new-style
    wrapper: an exception inside (a timeout while reporting) passes through as itself."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


class Shell:
    """One browser page on the shell, with the steps every test takes."""

    def __init__(self, page: Any, platform: Platform) -> None:
        self.page, self.platform = page, platform

    def goto(self, path: str) -> None:
        """The shell's document, parsed: not every module frame on it loaded (the `load` event waits
        for each iframe; a test that needs a frame waits for what it shows)."""
        self.page.goto(self.platform.url + path, wait_until="domcontentloaded")

    def open(self, path: str) -> None:
        """A signed-in page, rendered."""
        self.goto(path)
        self.page.get_by_test_id("page-title").wait_for()

    def sign_in(self, name: str, password: str, path: str = "/") -> None:
        self.goto(path)
        self.page.get_by_test_id("login-name").fill(name)
        self.page.get_by_test_id("login-password").fill(password)
        self.page.get_by_test_id("login-submit").click()
        self.page.get_by_test_id("page-title").wait_for()

    def palette(self, query: str) -> None:
        self.page.get_by_test_id("page-title").wait_for()
        self.page.keyboard.press("Control+k")
        box = self.page.get_by_test_id("palette-input")
        box.wait_for()
        box.fill(query)

    def choose(self, picker: Any, option: str) -> None:
        """Pick `option` in a searchable select: typing narrows the menu first, since a long
        list (roles made by earlier tests) renders only the options scrolled into view."""
        picker.click()
        self.page.keyboard.press("Control+a")  # whatever an earlier choice left typed is replaced
        self.page.keyboard.type(option)
        self.page.locator(".q-menu .q-item").get_by_text(option, exact=True).click()

    def local_time(self, iso: str) -> str:
        """The UTC instant `iso` as this browser's person reads it (their time zone and locale),
        worked out here by the browser itself, as a grid cell says it."""
        return str(self.page.evaluate(  # a time without an offset is UTC, as the API means it
            "(iso) => new Date(/([zZ]|[+-]\\d\\d:?\\d\\d)$/.test(iso) ? iso : iso + 'Z')"
            ".toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'})", iso))

    def shot(self, name: str) -> Path:
        """A screenshot once Quasar's animations settle, kept as a test artefact
        (and copied to $WEBOS_SHELL_DOCS_SCREENSHOTS when set)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(600)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        docs = os.environ.get("WEBOS_SHELL_DOCS_SCREENSHOTS")
        if docs:
            shutil.copy(path, Path(docs) / path.name)
        return path


@pytest.fixture
def shell(page: Any, platform: Platform) -> Shell:
    return Shell(page, platform)


@pytest.fixture
def shell_in_new_york(browser: Any, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Shell]:
    """A signed-out browser in New York (UTC-5 in winter): the times it is shown are local."""
    for page in _page(browser, request, who="-new-york", timezone_id="America/New_York"):
        yield Shell(page, platform)


@pytest.fixture
def other(browser: Any, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Shell]:
    """A second signed-out browser with its own cookies: another person beside `shell`."""
    for page in _page(browser, request, who="-other"):
        yield Shell(page, platform)
