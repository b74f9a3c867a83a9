"""`webos up` brings the whole stack up in a temp folder; `webos down` leaves nothing."""

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from webos_cli.plan import SERVICES
from webos_common.infra.process import free_port_range, pid_alive

WEBOS = [sys.executable, "-m", "webos_cli.main"]




def test_up_status_down_leaves_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    base = free_port_range()
    args = ["--state-dir", str(state), "--base-port", str(base)]
    up = subprocess.run([*WEBOS, "up", *args, "--timeout", "90"], capture_output=True, text=True, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "WebOS is up in" in up.stdout
        records = json.loads((state / "state.json").read_text())["components"]
        assert {"mongodb", "nats", "s3", *SERVICES} <= set(records)
        for name in SERVICES:
            port = records[name]["port"]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                assert resp.status == 200, name
        status = subprocess.run([*WEBOS, "status", *args], capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stdout
        assert status.stdout.count(" ready") == len(records)
        pids = [rec["pid"] for rec in records.values()]
    finally:
        down = subprocess.run([*WEBOS, "down", *args], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert not (state / "state.json").exists()
    assert (state / "data" / "mongo").is_dir()  # data survives down


def test_a_component_that_cannot_start_is_named_with_its_log(tmp_path: Path) -> None:
    state = tmp_path / "state"
    base = free_port_range()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", base + 1))  # auth's port is taken
    blocker.listen()
    try:
        up = subprocess.run([*WEBOS, "up", "--state-dir", str(state), "--base-port", str(base), "--timeout", "60"],
                            capture_output=True, text=True, timeout=180)
    finally:
        blocker.close()
        subprocess.run([*WEBOS, "down", "--state-dir", str(state), "--base-port", str(base)], timeout=120)
    assert up.returncode == 1
    assert "auth" in up.stderr and "port" in up.stderr
