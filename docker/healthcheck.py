"""Container health check (no curl in slim images): GET /healthz on WEBOS_HEALTH_PORT (a process
without an API, such as the task worker, serves only its probes there) or else WEBOS_PORT."""

import os
import sys
import urllib.request


def http_ok() -> bool:
    port = os.environ.get("WEBOS_HEALTH_PORT") or os.environ.get("WEBOS_PORT", "8700")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if http_ok() else 1)
