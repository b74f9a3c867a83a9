"""A child process with its own session and log file, stopped by PID."""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _candidates() -> list[int]:
    """Ports the kernel never hands out to outgoing connections: a port picked
    from the ephemeral range can be taken by any client's connect() in the
    seconds before our server binds it (a CI run lost `webos up` that way)."""
    low, high = _ephemeral_range()
    spans = [(10000, low), (high + 1, 65000)]
    return [port for start, stop in spans for port in range(start, stop)]


def _bindable(base: int, size: int) -> bool:
    socks: list[socket.socket] = []
    try:
        for offset in range(size):
            sock = socket.socket()
            socks.append(sock)
            sock.bind(("127.0.0.1", base + offset))
        return True
    except OSError:
        return False
    finally:
        for sock in socks:
            sock.close()


def free_port() -> int:
    return free_port_range(1)


def free_port_range(size: int = 22, *, attempts: int = 200) -> int:
    """A base port such that base .. base+size-1 are all free right now (a whole
    second stack, e.g. `webos up --base-port`, fits there), outside the
    kernel's ephemeral range."""
    candidates = _candidates()
    candidate_set = set(candidates)
    for _ in range(attempts):
        base = random.choice(candidates)
        if base + size - 1 not in candidate_set:
            continue
        if _bindable(base, size):
            return base
    raise RuntimeError(f"no {size} consecutive free ports found")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_port(
    port: int, *, timeout: float, host: str = "127.0.0.1", proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before opening port {port}")
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not open after {timeout:.0f}s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def stop_pid(pid: int, *, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux `PR_SET_PDEATHSIG`)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's own cleanup has to do
        pass


class ManagedProcess:
    """Start a command detached in its own session, logging to a file.

    `die_with_parent`: the process is ended when the one that started it dies,
    even by SIGKILL (test sessions, benchmarks); `webos up` leaves it off, as
    its platform outlives the command."""

    def __init__(self, name: str, argv: Sequence[str], *, log_path: Path,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 die_with_parent: bool = False) -> None:
        if not argv:
            raise ValueError("argv must not be empty")
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.die_with_parent = die_with_parent
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> int:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(self.env or {})}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=self.cwd, start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        stop_pid(self.proc.pid, timeout=timeout)
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class LocalServer:
    """A server on a loopback port that this machine runs (mongod, nats-server, moto): a
    subclass says how (`argv`) and what comes before or after; `launch` starts it and returns
    once it listens, `stop` ends it."""

    name = "server"

    def __init__(self, *, port: int | None, log_path: Path, die_with_parent: bool) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.die_with_parent = die_with_parent
        self.process: ManagedProcess | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def launch(self, timeout: float) -> int:
        self.process = ManagedProcess(self.name, self.argv(), log_path=self.log_path,
                                      die_with_parent=self.die_with_parent)
        pid = self.process.start()
        wait_port(self.port, timeout=timeout, proc=self.process.proc)
        return pid

    def stop(self) -> None:
        if self.process:
            self.process.stop()
