"""A real settings process: a start-up that cannot reach NATS ends non-zero naming NATS,
and SIGTERM ends it at once even while it waits."""

import os
import signal
import subprocess
import sys

from webos_common.infra.process import free_port


def _start(webos_env, *, deadline: float) -> subprocess.Popen[str]:
    env = {**os.environ, **webos_env, "WEBOS_NATS_URL": f"nats://127.0.0.1:{free_port()}",
           "WEBOS_STARTUP_DEADLINE": str(deadline), "WEBOS_PORT": str(free_port()),
           "WEBOS_SERVICE_NAME": "settings"}
    return subprocess.Popen([sys.executable, "-m", "webos_settings"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_nats_unreachable_ends_the_start_naming_nats(webos_env) -> None:
    proc = _start(webos_env, deadline=2)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "WARNING" in out and "NATS at nats://127.0.0.1" in out
    assert "not reachable within 2s" in out


def test_sigterm_during_start_up_is_honoured(webos_env) -> None:
    proc = _start(webos_env, deadline=600)
    assert proc.stdout is not None
    for line in proc.stdout:  # waiting for NATS, as a pod does when NATS is down
        if "NATS at" in line and "not reachable" in line:
            break
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "SIGTERM during start-up" in rest
