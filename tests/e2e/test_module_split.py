"""A module's container carries everything of the module (proof for the
deployment shape): the kernel — gateway, auth, storage, shell — runs from a
virtual environment that does not hold the module, the module host from
one that does, and the module's page, admin page, sidebar piece and data
source all work, in Chromium and over HTTP, once the module starts while
the kernel runs — no kernel process restarted.

Each part runs from a virtual environment `venv(name, packages)` builds
with uv, offline from uv's cache (once, then reused from
`.cache/test-venvs/`): the pinned third-party stack plus only the named
workspace packages, editable; each process has its own NATS credential.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from webos_cli.plan import SERVICES, StackPlan
from webos_common.infra import ManagedProcess, MongoServer, NatsServer
from webos_common.infra.process import free_port_range
from webos_common.security.credentials import CredentialStore
from webos_common.testing.plugin import wait_credential

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "shell"
CACHE = ROOT / ".cache" / "test-venvs"
UV = Path(sys.executable).with_name("uv")


def venv(name: str, packages: list[str]) -> Path:
    """The python of a venv holding the pinned stack and exactly `packages` (workspace paths)."""
    pinned = ROOT / "requirements" / "dev.txt"
    key = hashlib.sha256(pinned.read_bytes() + sys.version.encode())
    for package in packages:
        key.update(package.encode() + (ROOT / package / "pyproject.toml").read_bytes())
    target = CACHE / f"{name}-{key.hexdigest()[:12]}"
    python = target / "bin" / "python"
    if (target / ".complete").exists():
        return python
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    run = [str(UV), "pip", "install", "-q", "--offline", "--python", str(python)]
    subprocess.run([str(UV), "venv", "-q", "--clear", str(target), "--python", sys.executable], check=True, env=env)
    subprocess.run([*run, "-r", str(pinned)], check=True, env=env, timeout=600)
    subprocess.run([*run, "--no-deps", *[arg for p in packages for arg in ("-e", str(ROOT / p))]],
                   check=True, env=env, timeout=600)
    (target / ".complete").touch()
    return python


def importable(python: Path, module: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 3)"
    return subprocess.run([str(python), "-c", probe], cwd="/", check=False).returncode == 0


@dataclass
class SplitStack:
    state: Path
    base: int
    mongo_url: str
    nats_url: str  # the server's address without a user: every process brings its credential
    db: str
    store: CredentialStore
    procs: dict[str, ManagedProcess] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.base}"

    def env(self, name: str, port: int | None) -> dict[str, str]:
        env = {**StackPlan(self.state, self.base).shared_env(),
               "WEBOS_MONGO_URL": self.mongo_url, "WEBOS_MONGO_DB": self.db, "WEBOS_NATS_URL": self.nats_url,
               "WEBOS_SERVICE_NAME": name, "WEBOS_PRINCIPAL": name,
               "WEBOS_CREDENTIAL_FILE": str(self.store.seed_file(name)), "PYTHONPATH": ""}
        env.pop("WEBOS_S3_ENDPOINT_URL", None)  # files on local disk only: no S3 in this test
        env.pop("WEBOS_NATS_CA_FILE", None)  # the test session's NATS speaks plain TCP on loopback
        if port is not None:
            env["WEBOS_PORT"] = str(port)
        if name == "auth":
            env["WEBOS_AUTH_PRINCIPALS_FILE"] = str(self.store.registry_path)
        return env

    def port(self, service: str) -> int:
        return self.base + SERVICES[service][1]

    def start(self, key: str, python: Path, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        proc = ManagedProcess(key, [str(python), *argv], log_path=self.state / "logs" / f"{key}.log",
                              env={**env, "VIRTUAL_ENV": str(python.parents[1])}, cwd=self.state,
                              die_with_parent=True)
        self.state.mkdir(parents=True, exist_ok=True)
        proc.start()
        self.procs[key] = proc
        return proc

    def wait_ready(self, key: str, url: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        proc = self.procs[key]
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{key} exited\n{proc.log_tail(60)}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{key} not ready after {timeout:.0f}s\n{proc.log_tail(60)}")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop(timeout=10)


KERNEL = ["libs/webos_common", "services/gateway", "services/auth", "services/storage", "services/shell-ui"]
MODULE = ["libs/webos_common", "libs/webos_modulehost", "tests/e2e/modules/gallery"]
ADMIN = ("admin", "changeme")
MODULE_PORT, SECOND_SHELL_PORT = 10, 7  # offsets from the base port


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory, mongo_server: MongoServer, nats_server: NatsServer,
          nats_credentials: CredentialStore) -> Iterator[Any]:
    kernel, module = venv("kernel", KERNEL), venv("gallery", MODULE)
    state = tmp_path_factory.mktemp("split")
    stack = SplitStack(state, free_port_range(), mongo_server.url, nats_server.url, f"t_{uuid.uuid4().hex[:12]}",
                       nats_credentials)
    for name in ("gateway", "auth", "storage", "shell-ui"):
        nats_credentials.issue(name, "service")
    nats_server.reload()
    try:
        for name, package in (("auth", "webos_auth"), ("gateway", "webos_gateway"), ("storage", "webos_storage"),
                              ("shell-ui", "webos_shell")):
            stack.start(name, kernel, ["-m", package], stack.env(name, stack.port(name)))
        for name in ("auth", "gateway", "storage", "shell-ui"):
            stack.wait_ready(name, f"http://127.0.0.1:{stack.port(name)}")
        stack.kernel, stack.module = kernel, module  # type: ignore[attr-defined]
        yield stack
    finally:
        stack.stop()


def start_gallery(stack: SplitStack, nats_server: NatsServer, photos: Path) -> None:
    """Add the module while the platform runs: its credential from its own declaration, then its host."""
    env = {**stack.env("gallery", stack.base + MODULE_PORT), "WEBOS_GALLERY_ROOT": str(photos)}
    declared = json.loads(subprocess.run([str(stack.module), "-m", "webos_modulehost", "gallery", "--declare"],  # type: ignore[attr-defined]
                                         env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                                         check=True, cwd=stack.state).stdout.splitlines()[-1])
    assert declared["data_sources"] == ["gallery"]
    seed = stack.store.issue("gallery", "module", emits=declared["emits"], consumes=declared["consumes"],
                             consumers=declared["consumers"], data_sources=declared["data_sources"])
    nats_server.reload()
    with ThreadPoolExecutor(1) as pool:  # playwright's loop runs on this thread
        pool.submit(asyncio.run, wait_credential(nats_server.url, seed, principal="gallery")).result()
    stack.start("gallery", stack.module, ["-m", "webos_modulehost", "gallery"], env)  # type: ignore[attr-defined]
    stack.wait_ready("gallery", f"http://127.0.0.1:{stack.base + MODULE_PORT}")


def sign_in(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.get_by_test_id("login-name").fill(ADMIN[0])
    page.get_by_test_id("login-password").fill(ADMIN[1])
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("page-title").wait_for()


def test_a_module_lives_only_in_its_own_host(split: SplitStack, nats_server: NatsServer, browser: Any,
                                             tmp_path: Path) -> None:
    from playwright.sync_api import expect

    kernel, module = split.kernel, split.module  # type: ignore[attr-defined]
    assert not importable(kernel, "webos_gallery") and not importable(kernel, "webos_modulehost")
    assert importable(module, "webos_gallery") and not importable(module, "webos_shell")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"\xff\xd8jpeg-a")
    (photos / "b.png").write_bytes(b"\x89PNG-b")
    kernel_pids = {name: proc.pid for name, proc in split.procs.items()}

    context = browser.new_context(viewport={"width": 1360, "height": 860})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, split.url)
        nav = page.get_by_test_id("nav")
        expect(nav).not_to_contain_text("Gallery")
        start_gallery(split, nats_server, photos)  # while the kernel runs
        expect(nav).to_contain_text("Gallery", timeout=30_000)  # the open page follows the registry

        page.goto(split.url + "/m/gallery/wall")
        wall = page.frame_locator('[data-testid="module-frame"][data-view="wall"]')
        expect(wall.get_by_test_id("gallery-wall")).to_have_text("2 photos for admin")  # its API, as the person
        wall.get_by_test_id("gallery-like").click()  # its NiceGUI events reach its host through the gateway
        expect(wall.get_by_test_id("gallery-likes")).to_have_text("Likes: 1")
        page.wait_for_timeout(600)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "module-view-frame.png"))
        counter = page.frame_locator('[data-testid="module-frame"][data-view="counter"]')
        expect(counter.get_by_test_id("gallery-counter")).to_have_text("2 photos")  # the sidebar slot

        page.goto(split.url + "/admin/m/gallery")
        admin = page.frame_locator('[data-testid="module-frame"][data-view="admin"]')
        expect(admin.get_by_test_id("gallery-admin")).to_have_text("Gallery admin for admin")
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "module-admin-frame.png"))
        context.close()

    with httpx.Client(base_url=split.url, timeout=15) as client:
        token = client.post("/api/auth/login", json={"login": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        sources = client.get("/api/storage/sources").json()["sources"]
        assert {s["id"]: s["kind"] for s in sources}["gallery"] == "photo-archive"
        listing = client.get("/api/storage/files", params={"urn": "fs://gallery/"}).json()
        assert [item["name"] for item in listing["items"]] == ["a.jpg", "b.png"]
        got = client.get("/api/storage/files/content", params={"urn": "fs://gallery/b.png"})
        assert got.status_code == 200 and got.content == b"\x89PNG-b"
        refused = client.put("/api/storage/files/content", params={"urn": "fs://gallery/c.txt"}, content=b"x")
        assert refused.status_code == 403, refused.text  # the module's own answer, through storage
    with httpx.Client(base_url=split.url, timeout=15) as anonymous:
        assert anonymous.get("/api/gallery/ui/wall").status_code == 401  # its UI path needs a person too

    assert {name: split.procs[name].pid for name in kernel_pids} == kernel_pids
    assert all(split.procs[name].alive() for name in kernel_pids)  # no kernel process restarted
