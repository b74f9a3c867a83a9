"""`python -m webos_gateway`: serve the gateway (uvloop, and uvicorn's httptools
protocol with coalesced writes: `webos_common.compat.uvicorn`; the gateway writes
its own `server`-free responses)."""

from __future__ import annotations

import uvicorn

from webos_common.compat.uvicorn import http_protocol
from webos_common.http.heap import tune_allocator
from webos_common.observability import tracing
from webos_common.observability.logging import configure_logging
from webos_gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.service_name, level=settings.log_level, fmt=settings.log_format)
    tune_allocator()  # streamed bodies: no mmap/munmap per chunk (see webos_common.http.heap)
    tracing.setup_tracing(settings.service_name)  # exports only when OTEL_EXPORTER_OTLP_ENDPOINT is set
    uvicorn.run(
        "webos_gateway.main:create_edge", factory=True, host=settings.host, port=settings.port,
        http=http_protocol(), log_config=None, log_level=settings.log_level.lower(), access_log=False,
        proxy_headers=False, server_header=False,
        backlog=2048, timeout_keep_alive=30, ws_max_size=16 * 1024 * 1024,
    )


if __name__ == "__main__":
    main()
