"""`python -m webos_cli.supervise <status-file> -- <argv…>`: run a component of the
local stack and restart it when it crashes, with backoff (1 s, 2 s, 4 s … 30 s; reset
after a minute up). Each restart is logged and written to the status file that
`webos status` reads. SIGTERM/SIGINT stop the child (then this) — `webos down` and
`webos restart` stop components through it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

FIRST_BACKOFF, MAX_BACKOFF, STABLE_AFTER = 1.0, 30.0, 60.0


def read_status(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    except (OSError, ValueError):
        return {}


def _write(path: Path, status: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status))
    tmp.replace(path)


def supervise(status_file: Path, argv: list[str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(sig: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(sig)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status: dict[str, Any] = {"restarts": 0, "last_exit": None, "last_restart": None, "child_pid": None}
    backoff = FIRST_BACKOFF
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        status["child_pid"] = child.pid
        _write(status_file, status)
        code = child.wait()
        if stopping:
            return 0
        if time.monotonic() - started > STABLE_AFTER:
            backoff = FIRST_BACKOFF
        status.update(restarts=status["restarts"] + 1, last_exit=code, child_pid=None,
                      last_restart=datetime.now(UTC).isoformat(timespec="seconds"))
        _write(status_file, status)
        print(f"[supervisor] {argv[0]} exited with {code}; restart {status['restarts']} in {backoff:.0f}s",
              file=sys.stderr, flush=True)
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
        if stopping:
            return 0
        backoff = min(backoff * 2, MAX_BACKOFF)


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        sys.exit("usage: python -m webos_cli.supervise STATUS_FILE -- ARGV...")
    sys.exit(supervise(Path(args[0]), args[2:]))


if __name__ == "__main__":
    main()
