"""Run an ASGI app for a test: in-process with its lifespan, or on a real port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI

from webos_common.compat.uvicorn import http_protocol
from webos_common.infra.process import free_port


@asynccontextmanager
async def lifespan_client(app: FastAPI, *, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client bound to `app`, with the app's lifespan run around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@asynccontextmanager
async def serve_app(app: Any, *, port: int | None = None, http: type[asyncio.Protocol] | None = None,
                    lifespan: Literal["on", "off"] = "on") -> AsyncIterator[str]:
    """Serve the ASGI `app` with uvicorn on loopback in this event loop; yield its base URL.
    `http`: the server's HTTP protocol (by default the one run_service serves with)."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan,
                            http=http or http_protocol(coalesce=False),
                            ws="websockets-sansio",  # what production's "auto" picks; the legacy one is deprecated
                            proxy_headers=False)  # the app believes forwarded headers, or not, itself
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
