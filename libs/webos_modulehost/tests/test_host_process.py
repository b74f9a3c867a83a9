"""A real module host process: its manifest appears in the KV bucket, and
after SIGKILL (no chance to withdraw) the entry expires with the heartbeat TTL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import nats

from webos_common.infra import free_port
from webos_common.modules.registry import ModuleRegistry

TTL = 4.0


async def wait_for(predicate: Callable[[], object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[misc]
            return True
        await asyncio.sleep(0.2)
    return False


async def test_manifest_expires_after_the_host_is_killed(webos_env: dict[str, str], modules_dir: Path,
                                                         make_module: Callable[..., str], nats_url: str,
                                                         tmp_path: Path) -> None:
    name = make_module()
    port = free_port()
    bucket = f"kill{name}"
    env = {**os.environ, **webos_env, "WEBOS_PORT": str(port), "WEBOS_MODULES_DIR": str(modules_dir),
           "WEBOS_HEARTBEAT_TTL": str(TTL), "WEBOS_REGISTRY_BUCKET": bucket}
    log = (tmp_path / "host.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "webos_modulehost", name], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    nc = await nats.connect(nats_url)
    registry = ModuleRegistry(nc.jetstream(), bucket=bucket)
    try:
        async def announced() -> bool:
            return name in await registry.live()

        assert await wait_for(announced, 90), (tmp_path / "host.log").read_text()[-3000:]
        (manifest,) = (await registry.live())[name]
        assert manifest.base_url == f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"{manifest.base_url}/api/{name}/public/ping")
            assert resp.json() == {"pong": True}
        await asyncio.sleep(TTL * 1.25)  # heartbeats keep it alive past one TTL
        assert await announced()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

        async def gone() -> bool:
            return name not in await registry.live()

        assert await wait_for(gone, TTL + 20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        await nc.close()


def test_migrate_applies_pending_migrations_and_exits(webos_env: dict[str, str], modules_dir: Path,
                                                      make_module: Callable[..., str]) -> None:
    """`--migrate` (the chart's pre-upgrade Job): migrations once, no server, exit 0; a broken
    migration exits 1 naming it."""
    name = make_module()
    env = {**os.environ, **webos_env, "WEBOS_MODULES_DIR": str(modules_dir)}
    argv = [sys.executable, "-m", "webos_modulehost", name, "--migrate"]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90, check=False)
    assert first.returncode == 0, first.stderr[-2000:]
    assert f"module {name}: applied 0001_count_runs" in first.stdout
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90, check=False)
    assert again.returncode == 0 and "nothing (up to date)" in again.stdout
    (modules_dir / name / "src" / f"webos_{name}" / "migrations" / "0002_broken.py").write_text(
        "async def up(db):\n    raise RuntimeError('boom')\n")
    broken = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90, check=False)
    assert broken.returncode == 1 and "migration 0002_broken failed: RuntimeError: boom" in broken.stderr
