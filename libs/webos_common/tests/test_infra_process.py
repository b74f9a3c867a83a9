"""A server started for a test session dies with the session, even one that was SIGKILLed;
ports picked for servers are ones no outgoing connection can take first."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from webos_common.infra.process import _ephemeral_range, free_port, free_port_range, pid_alive

STARTER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from webos_common.infra import NatsServer
    server = NatsServer(Path(sys.argv[1]), die_with_parent=sys.argv[2] == "yes")
    print(server.start(), flush=True)
    time.sleep(120)
""")


@pytest.mark.integration  # starts a NATS server
@pytest.mark.parametrize("die_with_parent", [True, False])
def test_a_killed_starter_takes_its_server_along_only_when_asked(tmp_path: Path, die_with_parent: bool) -> None:
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path / "nats"),
                                "yes" if die_with_parent else "no"], stdout=subprocess.PIPE, text=True)
    assert starter.stdout is not None
    server_pid = int(starter.stdout.readline())
    try:
        assert pid_alive(server_pid)
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        deadline = time.monotonic() + (10 if die_with_parent else 1)
        while pid_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pid_alive(server_pid) is (not die_with_parent)
    finally:
        starter.stdout.close()
        if pid_alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def test_picked_ports_are_free_and_outside_the_ephemeral_range() -> None:
    low, high = _ephemeral_range()
    outside = lambda port: port < low or port > high  # noqa: E731
    base = free_port_range(22)
    assert all(outside(port) for port in range(base, base + 22))
    socks = []
    try:
        for port in range(base, base + 22):
            sock = socket.socket()
            socks.append(sock)
            sock.bind(("127.0.0.1", port))
    finally:
        for sock in socks:
            sock.close()
    singles = {free_port() for _ in range(20)}
    assert all(outside(port) for port in singles)
    assert len(singles) > 1
