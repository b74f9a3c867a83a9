"""Benchmark: direct vs nginx vs the WebOS gateway (with JWT verification).

Starts its own pieces on loopback — NATS (module registry), a trivial
FastAPI backend (one uvicorn worker) announced as module `bench`, nginx as
reverse proxy (own config), and `python -m webos_gateway` — then measures
with wrk: saturated (32 connections) and unloaded (1 connection), requests/s
and p50/p99, with ratios to direct. Goal, with the edge policy on (headers,
CSRF, trusted proxies): gateway >= 0.70x direct saturated and <= +0.3 ms
p50 unloaded.

Run: `.venv/bin/python bench/gateway.py [--seconds 5]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import nats
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import wrk
from _support.nginx import start_nginx

from webos_common.bus import BusSettings
from webos_common.bus.streams import ensure_streams
from webos_common.infra import NatsServer
from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_common.modules.manifest import ModuleManifest
from webos_common.modules.registry import ModuleRegistry
from webos_common.security.testing import TestIssuer

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def start_backend(root: Path, port: int, jwks: Path) -> ManagedProcess:
    proc = ManagedProcess(
        "backend",
        [PYTHON, "-m", "uvicorn", "--app-dir", str(HERE / "_support"), "backend:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        log_path=root / "backend.log", env={"BENCH_JWKS": str(jwks)},
    )
    proc.start()
    wait_port(port, timeout=20, proc=proc.proc)
    return proc


def start_gateway(root: Path, port: int, nats_url: str, backend_port: int, bucket: str) -> ManagedProcess:
    env = {
        "WEBOS_ENV": "test", "WEBOS_PORT": str(port), "WEBOS_NATS_URL": nats_url,
        "WEBOS_JWKS_URL": f"http://127.0.0.1:{backend_port}/.well-known/jwks.json",
        "WEBOS_REGISTRY_BUCKET": bucket, "WEBOS_LOG_LEVEL": "INFO",
        "WEBOS_RATE_LIMIT_USER": "10000000/second", "WEBOS_RATE_LIMIT_MODULE": "10000000/second",
    }
    proc = ManagedProcess("gateway", [PYTHON, "-m", "webos_gateway"], log_path=root / "gateway.log", env=env)
    proc.start()
    wait_port(port, timeout=30, proc=proc.proc)
    return proc


async def announce(nats_url: str, bucket: str, backend_port: int) -> tuple[object, asyncio.Task[None]]:
    nc = await nats.connect(nats_url)
    registry = ModuleRegistry(nc.jetstream(), bucket=bucket, ttl=30)
    manifest = ModuleManifest(name="bench", instance_id=uuid.uuid4().hex[:8],
                              base_url=f"http://127.0.0.1:{backend_port}")
    await registry.announce(manifest)
    return nc, asyncio.create_task(registry.heartbeat(manifest, interval=5))


def wait_routed(url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} never answered 200")


Targets = dict[str, tuple[str, dict[str, str], list[int]]]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def measure(targets: Targets, seconds: int, rounds: int) -> tuple[dict[str, dict[str, wrk.Result]], dict[str, float]]:
    """Interleaved rounds (direct, nginx, gateway, direct, ...) so that load from
    other processes hits every target alike; the best round of each is kept
    (noise only ever makes a run slower). Also the CPU time each proxy
    process spends per request: far less sensitive to a busy machine."""
    for url, headers, _ in targets.values():
        wrk.run(url, connections=8, seconds=1, headers=headers)  # warm-up
    runs: dict[str, dict[str, list[wrk.Result]]] = {name: {"saturated": [], "unloaded": []} for name in targets}
    cpu: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (url, headers, pids) in targets.items():
            before = cpu_seconds(pids)
            result = wrk.run(url, connections=32, seconds=seconds, headers=headers)
            cpu[name].append((cpu_seconds(pids) - before) / max(1, result.requests) * 1e6)
            runs[name]["saturated"].append(result)
            runs[name]["unloaded"].append(wrk.run(url, connections=1, seconds=max(1, seconds // 2), headers=headers))
    best_runs = {name: {mode: best(results) for mode, results in modes.items()} for name, modes in runs.items()}
    return best_runs, {name: min(values) for name, values in cpu.items()}


def best(results: list[wrk.Result]) -> wrk.Result:
    return wrk.Result(rps=max(r.rps for r in results), p50_ms=min(r.p50_ms for r in results),
                      p99_ms=min(r.p99_ms for r in results), errors=sum(r.errors for r in results))


async def main(seconds: int, rounds: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="webos-bench-gw-"))
    issuer = TestIssuer()
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks))
    token = {"Authorization": f"Bearer {issuer.token('bench-user', expires_in=3600)}"}
    backend_port, nginx_port, gateway_port = free_port(), free_port(), free_port()
    bucket = f"bench_{uuid.uuid4().hex[:8]}"
    nats_server = NatsServer(root / "nats", log_path=root / "nats.log", die_with_parent=True)
    nats_server.start()
    procs: list[ManagedProcess] = []
    nc = None
    try:
        procs.append(start_backend(root, backend_port, jwks))
        procs.append(start_nginx(root / "nginx", port=nginx_port, backend_port=backend_port))
        nc, beat = await announce(nats_server.url, bucket, backend_port)
        await ensure_streams(nc.jetstream(), BusSettings())  # as `webos up` provisions: the gateway waits for them
        procs.append(start_gateway(root, gateway_port, nats_server.url, backend_port, bucket))
        backend, nginx_proc, gateway = procs[0].pid, procs[1].pid, procs[2].pid
        assert backend and nginx_proc and gateway
        targets: Targets = {
            "direct": (f"http://127.0.0.1:{backend_port}/api/bench/ping", {}, [backend]),
            "nginx": (f"http://127.0.0.1:{nginx_port}/api/bench/ping", {}, [nginx_proc]),
            "gateway+jwt": (f"http://127.0.0.1:{gateway_port}/api/bench/ping", token, [gateway]),
        }
        wait_routed(*targets["gateway+jwt"][:2])
        print(f"load on this machine before the run: {os.getloadavg()[0]:.2f} (1 min average)")
        results, cpu = await asyncio.to_thread(measure, targets, seconds, rounds)
        report(results, rounds, cpu)
        beat.cancel()
    finally:
        if nc is not None:
            await nc.close()  # type: ignore[attr-defined]
        for proc in reversed(procs):
            proc.stop()
        nats_server.stop()


def report(results: dict[str, dict[str, wrk.Result]], rounds: int, cpu: dict[str, float]) -> None:
    base = results["direct"]
    print(f"best of {rounds} interleaved rounds; saturated = 32 connections, unloaded = 1 connection")
    print(f"{'target':<12} {'mode':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x direct':>9} "
          f"{'+p50 ms':>8} {'errors':>6}")
    for name, modes in results.items():
        for mode, r in modes.items():
            ratio = r.rps / base[mode].rps
            print(f"{name:<12} {mode:<10} {r.rps:>9.0f} {r.p50_ms:>8.3f} {r.p99_ms:>8.3f} {ratio:>8.2f}x "
                  f"{r.p50_ms - base[mode].p50_ms:>+8.3f} {r.errors:>6}")
    print("\nCPU time per request, saturated (the proxy process alone; direct = the backend):")
    for name, micros in cpu.items():
        print(f"  {name:<12} {micros:7.0f} us")
    gw_cpu, direct_cpu = cpu["gateway+jwt"], cpu["direct"]
    print(f"  -> expected gateway/direct throughput from CPU alone: {min(1.0, direct_cpu / gw_cpu):.2f}x with a core "
          f"each, {direct_cpu / (direct_cpu + gw_cpu):.2f}x when backend and gateway share the same cores")
    gw = results["gateway+jwt"]
    sat = gw["saturated"].rps / base["saturated"].rps
    extra = gw["unloaded"].p50_ms - base["unloaded"].p50_ms
    print(f"\ngoal saturated >= 0.70x direct: {sat:.2f}x {'MET' if sat >= 0.70 else 'NOT MET'}")
    print(f"goal unloaded p50 <= +0.3 ms:   {extra:+.3f} ms {'MET' if extra <= 0.3 else 'NOT MET'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="duration of each saturated run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds))
