"""Container health check (no curl in slim images).

HTTP processes: GET /healthz on WEBOS_PORT. Workers without a port
(WEBOS_HEALTHCHECK=nats): the NATS server of WEBOS_NATS_URL accepts a
connection, i.e. the worker can reach its broker.
"""

import os
import socket
import sys
import urllib.parse
import urllib.request


def http_ok() -> bool:
    port = os.environ.get("WEBOS_PORT", "8700")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def nats_ok() -> bool:
    first = os.environ.get("WEBOS_NATS_URL", "nats://127.0.0.1:4222").split(",")[0]
    url = urllib.parse.urlsplit(first)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 4222), timeout=3):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if (nats_ok() if os.environ.get("WEBOS_HEALTHCHECK") == "nats" else http_ok()) else 1)
