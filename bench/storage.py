"""Benchmark: 256 MB download and upload through the storage service vs nginx.

Starts everything on loopback in one run: MongoDB and NATS (for the
service), `python -m webos_storage` with a local source whose root is the
folder nginx serves, nginx (own config: static files, WebDAV PUT for the
upload baseline), and — when it starts — `python -m webos_gateway` routing
`/api/storage/…` to the service. Transfers use curl (the same client for
every target); each is run 3 times, the best MB/s is kept. Peak RSS of the
serving process (nginx: master + workers) is sampled with psutil during the
transfers. Goal: downloads >= 0.5x nginx, memory flat at any size.

Remote sources: each kind (FTP, FTPS, SFTP, SMB, WebDAV, Drive subset) runs
its loopback server (`webos_storage.testing.loopback`), and a `--remote-mb`
file goes up and down twice: with that protocol's own client straight to
the server (aioftp, asyncssh, smbclient, httpx for WebDAV and Drive), and
with curl through the gateway to `fs://<kind>/…`. Goal: gateway >= 0.5x
of the client. Beside MB/s, each row's CPU per transfer (median ms of the
whole path: the bench process and curl, the server, and for the gateway
rows the gateway and storage) is printed: steadier than MB/s on a shared
machine, and on two cores the ratio the throughput tends to; each row's
CPU per MB is split by process (the bench process with curl or the
protocol's client, the gateway, storage, the server), which shows where a
change moved the cost.

Run: `.venv/bin/python bench/storage.py [--mb 256] [--runs 3] [--remote-mb 64] [--kinds ftp,sftp,…]`
(`--mb 0` skips the local rows, `--kinds ftp,smb` measures only those sources).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from webos_common.infra import MongoServer, NatsServer
from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_common.security.testing import TestIssuer
from webos_storage.testing.loopback import KINDS, Loopback, revealed

sys.path.insert(0, str(Path(__file__).parent))
from _storage_clients import CLIENTS
from _support.nginx import start_nginx
from _support.provisioning import provision_nats

PYTHON = sys.executable
MB = 1024 * 1024

class PeakRss(threading.Thread):
    """Peak resident memory of a process and its children while running."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def sample(self) -> int:
        procs = [self.root, *self.root.children(recursive=True)]
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.sample())
            time.sleep(0.01)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def curl(args: list[str]) -> float:
    """Run curl, return the measured speed in MB/s (raises on HTTP errors)."""
    out = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{speed_download} %{speed_upload}",
                          *args], check=True, capture_output=True, text=True, timeout=120).stdout.split()
    return max(float(out[0]), float(out[1])) / MB


Target = tuple[str, int, list[str]]  # name, pid, curl arguments


def measure(targets: list[Target], runs: int) -> dict[str, tuple[float, int, int]]:
    """Best MB/s, baseline and peak RSS per target; runs interleaved so load noise hits all alike."""
    speeds: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    baselines = {name: PeakRss(pid).sample() for name, pid, _ in targets}
    peaks = dict(baselines)
    for _ in range(runs):
        for name, pid, args in targets:
            sampler = PeakRss(pid)
            sampler.start()
            try:
                speeds[name].append(curl(args))
            except subprocess.CalledProcessError as exc:
                print(f"  {name}: curl failed: {exc.stderr.strip()}")
            finally:
                peaks[name] = max(peaks[name], sampler.stop())
    results = {}
    for name, _, _ in targets:
        if speeds[name]:
            runs_text = ", ".join(f"{v:.0f}" for v in speeds[name])
            print(f"  {name:<16} {max(speeds[name]):8.0f} MB/s   (runs: {runs_text})", flush=True)
            results[name] = (max(speeds[name]), baselines[name], peaks[name])
    return results


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU so far, per part of the path: `bench` is this process and its finished
    children (curl; for the client rows the protocol's client runs here), the rest `pids` with theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    split = {"bench": time.process_time() + usage.ru_utime + usage.ru_stime}
    for name, pid in pids.items():
        split[name] = 0.0
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                split[name] += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return split


def metered(pids: dict[str, int], transfer: Any, cpu: list[dict[str, float]]) -> float:
    """Run `transfer` (returns MB/s), appending the CPU milliseconds each part of the path took to `cpu`."""
    before = cpu_seconds(pids)
    speed = float(transfer())
    after = cpu_seconds(pids)
    cpu.append({name: (after[name] - before[name]) * 1000 for name in after})
    return speed


def start_storage(root: Path, port: int, mongo: str, nats: str, jwks_url: str, files: Path,
                  remotes: dict[str, Loopback]) -> ManagedProcess:
    env = {
        "WEBOS_ENV": "test", "WEBOS_PORT": str(port), "WEBOS_MONGO_URL": mongo, "WEBOS_MONGO_DB": "bench_storage",
        "WEBOS_NATS_URL": nats, "WEBOS_JWKS_URL": jwks_url, "WEBOS_LOG_LEVEL": "WARNING",
        "WEBOS_STATE_DIR": str(root / "state"),
        "WEBOS_STORAGE_SOURCES": json.dumps([{"id": "local", "kind": "local", "root": str(files)}] + [
            revealed(server.source(kind, "bench")) for kind, server in remotes.items()]),
    }
    proc = ManagedProcess("storage", [PYTHON, "-m", "webos_storage"], log_path=root / "storage.log", env=env)
    proc.start()
    wait_port(port, timeout=60, proc=proc.proc)
    return proc


def start_gateway(root: Path, port: int, nats: str, jwks_url: str, storage_port: int) -> ManagedProcess:
    env = {
        "WEBOS_ENV": "test", "WEBOS_PORT": str(port), "WEBOS_NATS_URL": nats, "WEBOS_JWKS_URL": jwks_url,
        "WEBOS_STORAGE_URL": f"http://127.0.0.1:{storage_port}", "WEBOS_LOG_LEVEL": "WARNING",
        "WEBOS_REGISTRY_BUCKET": f"bench_storage_{os.getpid()}",
        "WEBOS_RATE_LIMIT_USER": "10000000/second", "WEBOS_RATE_LIMIT_MODULE": "10000000/second",
    }
    proc = ManagedProcess("gateway", [PYTHON, "-m", "webos_gateway"], log_path=root / "gateway.log", env=env)
    proc.start()
    wait_port(port, timeout=30, proc=proc.proc)
    return proc


def make_file(path: Path, size_mb: int) -> None:
    block = os.urandom(MB)
    with path.open("wb") as handle:
        for _ in range(size_mb):
            handle.write(block)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256, help="local file size (0: skip the local rows)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--remote-mb", type=int, default=64)
    parser.add_argument("--kinds", default=",".join(KINDS), help="remote kinds to measure ('' for none)")
    options = parser.parse_args()
    kinds = [k for k in options.kinds.split(",") if k]
    root = Path(tempfile.mkdtemp(prefix="webos-bench-storage-"))
    files = root / "files"
    (files / "upload").mkdir(parents=True)
    if options.mb:
        make_file(files / "big.bin", options.mb)
    issuer = TestIssuer()
    (files / "jwks.json").write_text(json.dumps(issuer.jwks))
    auth = f"Authorization: Bearer {issuer.token('bench', expires_in=3600)}"
    ports = {"nginx": free_port(), "storage": free_port(), "gateway": free_port()}
    jwks_url = f"http://127.0.0.1:{ports['nginx']}/jwks.json"
    mongo = MongoServer(root / "mongo", log_path=root / "mongod.log", die_with_parent=True)
    nats = NatsServer(root / "nats", log_path=root / "nats.log", die_with_parent=True)
    procs: list[ManagedProcess] = []
    remotes: dict[str, Loopback] = {}
    try:
        for kind in kinds:
            remotes[kind] = Loopback(kind, root / f"{kind}-server").start()
        mongo.start()
        nats.start()
        asyncio.run(provision_nats(nats.url, registry_bucket=f"bench_storage_{os.getpid()}"))
        nginx = start_nginx(root / "nginx", port=ports["nginx"], files=files)
        procs.append(nginx)
        storage = start_storage(root, ports["storage"], mongo.url, nats.url, jwks_url, files, remotes)
        procs.append(storage)
        base = f"http://127.0.0.1:{ports['storage']}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        gateway = None
        try:
            gateway = start_gateway(root, ports["gateway"], nats.url, jwks_url, ports["storage"])
            procs.append(gateway)
        except Exception as exc:  # the gateway is optional in this bench
            print(f"gateway did not start ({exc}); skipping it")
        if options.mb:
            run(options, files, ports, auth, storage, nginx, gateway)
        if gateway is not None and remotes:
            run_remotes(options, root, ports, auth, remotes, {"gateway": gateway.pid or 0, "storage": storage.pid or 0})
    finally:
        for proc in reversed(procs):
            proc.stop()
        for server in remotes.values():
            server.stop()
        nats.stop()
        mongo.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


def run(options: argparse.Namespace, files: Path, ports: dict[str, int], auth: str,
        storage: ManagedProcess, nginx: ManagedProcess, gateway: ManagedProcess | None) -> None:
    big = str(files / "big.bin")
    urn = "urn=fs%3A%2F%2Flocal%2Fbig.bin"
    up_urn = "urn=fs%3A%2F%2Flocal%2Fupload%2Fstorage.bin"
    storage_url = f"http://127.0.0.1:{ports['storage']}/files/content"
    gateway_url = f"http://127.0.0.1:{ports['gateway']}/api/storage/files/content"
    print(f"{options.mb} MB file, best of {options.runs} runs, curl on loopback")
    nginx_url = f"http://127.0.0.1:{ports['nginx']}"
    print("download:")
    down: list[Target] = [("nginx down", nginx.pid or 0, [f"{nginx_url}/big.bin"]),
                          ("storage down", storage.pid or 0, ["-H", auth, f"{storage_url}?{urn}"])]
    if gateway is not None:
        down.append(("gateway down", gateway.pid or 0, ["-H", auth, f"{gateway_url}?{urn}"]))
    results = measure(down, options.runs)
    print("upload:")
    up: list[Target] = [("nginx up", nginx.pid or 0, ["-T", big, f"{nginx_url}/upload/nginx.bin"]),
                        ("storage up", storage.pid or 0, ["-T", big, "-H", auth, f"{storage_url}?{up_urn}"])]
    if gateway is not None:
        up.append(("gateway up", gateway.pid or 0, ["-T", big, "-H", auth, f"{gateway_url}?{up_urn}"]))
    results.update(measure(up, options.runs))
    report(results)


def report(results: dict[str, tuple[float, int, int]]) -> None:
    print(f"\n{'target':<16} {'MB/s':>8} {'x nginx':>8} {'RSS base MB':>12} {'RSS peak MB':>12} {'growth MB':>10}")
    for name, (speed, baseline, peak) in results.items():
        reference = results["nginx down" if name.endswith("down") else "nginx up"][0]
        print(f"{name:<16} {speed:>8.0f} {speed / reference:>7.2f}x {baseline / MB:>12.0f} {peak / MB:>12.0f} "
              f"{(peak - baseline) / MB:>10.0f}")


def run_remotes(options: argparse.Namespace, root: Path, ports: dict[str, int], auth: str,
                remotes: dict[str, Loopback], path_pids: dict[str, int]) -> None:
    """Per remote kind: its own client straight to the server vs curl through the gateway."""
    local = root / "remote.bin"
    make_file(local, options.remote_mb)
    gateway_url = f"http://127.0.0.1:{ports['gateway']}/api/storage/files/content"
    print(f"\nremote sources: {options.remote_mb} MB file, best of {options.runs} runs")
    rows = []
    for kind, server in remotes.items():
        client = CLIENTS[kind](server, "bench")
        names = ("client up", "client down", "gateway up", "gateway down")
        speeds: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        server_pid = {"server": server.proc.pid or 0}
        for run_no in range(options.runs):
            for name, transfer in _transfers(client, local, auth, f"{gateway_url}?urn=fs%3A%2F%2F{kind}", run_no):
                pids = server_pid if name.startswith("client") else {**path_pids, **server_pid}
                speeds[name].append(metered(pids, transfer, cpu[name]))
        best = {name: max(values) for name, values in speeds.items()}
        cpu_ms = {name: statistics.median(sum(split.values()) for split in values) for name, values in cpu.items()}
        print(f"  {kind:<7} " + "  ".join(f"{n} {v:6.0f}" for n, v in best.items()), flush=True)
        print(f"  {'':<7} CPU ms per transfer: " + "  ".join(f"{n} {v:5.0f}" for n, v in cpu_ms.items()), flush=True)
        for name in names:  # per MB and per part: which process a change moved, steadier than MB/s under load
            parts = {part: statistics.median(split[part] for split in cpu[name]) / options.remote_mb
                     for part in cpu[name][0]}
            print(f"  {'':<7} {name:<12} CPU ms/MB {sum(parts.values()):5.2f} = "
                  + " + ".join(f"{part} {ms:.2f}" for part, ms in parts.items()), flush=True)
        rows.append((kind, best, cpu_ms))
    print(f"\n{'source':<8} {'client down':>12} {'gateway down':>13} {'ratio':>6} {'client up':>10} "
          f"{'gateway up':>11} {'ratio':>6}   (MB/s)   CPU client/gateway down, up")
    for kind, best, cpu_ms in rows:
        down, up = cpu_ms["client down"] / cpu_ms["gateway down"], cpu_ms["client up"] / cpu_ms["gateway up"]
        print(f"{kind:<8} {best['client down']:>12.0f} {best['gateway down']:>13.0f} "
              f"{best['gateway down'] / best['client down']:>5.2f}x {best['client up']:>10.0f} "
              f"{best['gateway up']:>11.0f} {best['gateway up'] / best['client up']:>5.2f}x   {down:.2f}x, {up:.2f}x")


def _transfers(client: Any, local: Path, auth: str, url: str, run_no: int) -> list[tuple[str, Any]]:
    """This run's four transfers, in order: the client's up and down, then curl's through the gateway."""
    name = f"client-{run_no}.bin"
    target = f"{url}%2Fgw-{run_no}.bin"
    return [("client up", lambda: client.upload(local, name)), ("client down", lambda: client.download(name)),
            ("gateway up", lambda: curl(["-T", str(local), "-H", auth, target])),
            ("gateway down", lambda: curl(["-H", auth, target]))]


if __name__ == "__main__":
    main()
