"""`webos up` brings the whole stack up in a temp folder; `webos down` leaves nothing."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
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


def test_a_service_that_cannot_start_leaves_the_others_up_and_a_crash_is_restarted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    base = free_port_range()
    args = ["--state-dir", str(state), "--base-port", str(base)]
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", base + 4))  # the events service's port is taken
    blocker.listen()
    try:
        try:
            up = subprocess.run([*WEBOS, "up", *args, "--timeout", "90"], capture_output=True, text=True,
                                timeout=180)
        finally:
            blocker.close()
        assert up.returncode == 1
        assert "events" in up.stderr and "port" in up.stderr and "the others are running" in up.stderr
        records = json.loads((state / "state.json").read_text())["components"]
        assert "events" not in records and {"mongodb", "nats", "gateway", "settings"} <= set(records)
        with urllib.request.urlopen(f"http://127.0.0.1:{records['settings']['port']}/readyz", timeout=5) as resp:
            assert resp.status == 200

        again = subprocess.run([*WEBOS, "restart", "events", *args], capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr

        supervised = json.loads((state / "supervisor" / "settings.json").read_text())
        os.kill(supervised["child_pid"], signal.SIGKILL)  # the settings service crashes
        for _ in range(300):
            status = subprocess.run([*WEBOS, "status", *args], capture_output=True, text=True, timeout=60)
            line = next(ln for ln in status.stdout.splitlines() if ln.startswith("settings"))
            if "ready (restarted 1x" in line:
                break
            time.sleep(0.2)
        assert "ready (restarted 1x, last exit -9" in line, status.stdout
    finally:
        subprocess.run([*WEBOS, "down", *args], timeout=120)
