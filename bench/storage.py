"""Benchmark: 256 MB download and upload through the storage service vs nginx.

Starts everything on loopback in one run: MongoDB and NATS (for the
service), `python -m webos_storage` with a local source whose root is the
folder nginx serves, nginx (own config: static files, WebDAV PUT for the
upload baseline), and — when it starts — `python -m webos_gateway` routing
`/api/storage/…` to the service. Transfers use curl (the same client for
every target); each is run 3 times, the best MB/s is kept. Peak RSS of the
serving process (nginx: master + workers) is sampled with psutil during the
transfers. Goal: downloads >= 0.5x nginx, memory flat at any size.

Run: `.venv/bin/python bench/storage.py [--mb 256] [--runs 3]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from webos_common.infra import MongoServer, NatsServer
from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_common.security.testing import TestIssuer

PYTHON = sys.executable
MB = 1024 * 1024

NGINX = """
{user}
daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_max_body_size 0;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {files};
        location /upload/ {{ dav_methods PUT; create_full_put_path on; }}
    }}
}}
"""


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


def start_storage(root: Path, port: int, mongo: str, nats: str, jwks_url: str, files: Path) -> ManagedProcess:
    env = {
        "WEBOS_ENV": "test", "WEBOS_PORT": str(port), "WEBOS_MONGO_URL": mongo, "WEBOS_MONGO_DB": "bench_storage",
        "WEBOS_NATS_URL": nats, "WEBOS_JWKS_URL": jwks_url, "WEBOS_LOG_LEVEL": "WARNING",
        "WEBOS_STATE_DIR": str(root / "state"),
        "WEBOS_STORAGE_SOURCES": json.dumps([{"id": "local", "kind": "local", "root": str(files)}]),
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
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx_bin).exists():
        raise SystemExit("nginx is missing: apt-get install -y nginx-light")
    root = Path(tempfile.mkdtemp(prefix="webos-bench-storage-"))
    files = root / "files"
    (files / "upload").mkdir(parents=True)
    (root / "nginx").mkdir()
    make_file(files / "big.bin", options.mb)
    issuer = TestIssuer()
    (files / "jwks.json").write_text(json.dumps(issuer.jwks))
    auth = f"Authorization: Bearer {issuer.token('bench', expires_in=3600)}"
    ports = {"nginx": free_port(), "storage": free_port(), "gateway": free_port()}
    jwks_url = f"http://127.0.0.1:{ports['nginx']}/jwks.json"
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the temp folder
    (root / "nginx.conf").write_text(NGINX.format(user=user, root=root / "nginx", port=ports["nginx"], files=files))
    mongo = MongoServer(root / "mongo", log_path=root / "mongod.log", die_with_parent=True)
    nats = NatsServer(root / "nats", log_path=root / "nats.log", die_with_parent=True)
    procs: list[ManagedProcess] = []
    try:
        mongo.start()
        nats.start()
        nginx = ManagedProcess("nginx", [nginx_bin, "-c", str(root / "nginx.conf"), "-p", str(root / "nginx")],
                               log_path=root / "nginx.out")
        nginx.start()
        procs.append(nginx)
        wait_port(ports["nginx"], timeout=10, proc=nginx.proc)
        storage = start_storage(root, ports["storage"], mongo.url, nats.url, jwks_url, files)
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
        run(options, files, ports, auth, storage, nginx, gateway)
    finally:
        for proc in reversed(procs):
            proc.stop()
        nats.stop()
        mongo.stop()
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


if __name__ == "__main__":
    main()
