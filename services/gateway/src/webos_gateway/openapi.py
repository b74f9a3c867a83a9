"""One OpenAPI document for the whole platform: every core service's and
every live module's `/openapi.json`, paths under their gateway prefix,
component names prefixed by their owner (`tasks.TaskRead`) so that two
services' `Item` do not collide. Cached until the registry changes. It links
the event catalogue (AsyncAPI), which Swagger UI shows at the top of `/api/docs`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from swagger_ui_bundle import swagger_ui_path

from webos_common.http.openapi import rewrite_refs
from webos_gateway.routing import DOCS_ASSETS

if TYPE_CHECKING:
    from webos_gateway.state import Gateway

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
EVENT_CATALOGUE = "/api/events/asyncapi.json"  # served by the events service


class OpenAPIMerger:
    def __init__(self, gw: Gateway, *, ttl: float = 10.0) -> None:
        self.gw = gw
        self.ttl = ttl
        self._cached: tuple[int, float, dict[str, Any]] | None = None

    async def document(self) -> dict[str, Any]:
        version = self.gw.table.version
        if self._cached and self._cached[0] == version and time.monotonic() - self._cached[1] < self.ttl:
            return self._cached[2]
        sources = [(name, f"{url}/openapi.json") for name, url in self.gw.core.items()]
        sources += [(name, m.base_url.rstrip("/") + m.openapi_path)
                    for name, m in sorted(self.gw.table.manifests().items())]
        fetched = await asyncio.gather(*(self._fetch(url) for _, url in sources))
        doc = merge([(name, spec) for (name, _), spec in zip(sources, fetched, strict=True)],
                    public=self.gw.is_public_path)
        self._cached = (version, time.monotonic(), doc)
        return doc

    async def _fetch(self, url: str) -> dict[str, Any] | None:
        try:
            async with self.gw.session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as resp:
                if resp.status != 200:
                    return None
                body = await resp.json(content_type=None)
                return body if isinstance(body, dict) else None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None


def merge(specs: list[tuple[str, dict[str, Any] | None]],
          public: Callable[[str], bool] = lambda path: False) -> dict[str, Any]:
    """One document: each source's paths under `/api/<name>`, its components renamed `<name>.<key>`
    (titles too, so a client generator names every schema apart), `security: []` on the paths the
    gateway lets through without a token."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    for name, spec in specs:
        if spec is None:
            sources[name] = "unavailable"
            continue
        sources[name] = "ok"
        prefix = f"/api/{name}"
        spec = _rename_refs(spec, name)
        for path, item in (spec.get("paths") or {}).items():
            full = path if path == prefix or path.startswith(prefix + "/") else prefix + path
            paths[full] = _tag(item, name, public=public(_template_prefix(full)))
        for kind, entries in (spec.get("components") or {}).items():
            target = components.setdefault(kind, {})
            for key, value in (entries or {}).items():
                if kind == "schemas" and isinstance(value, dict):
                    value = {**value, "title": f"{name}.{key}"}
                target[f"{name}.{key}"] = value
    components.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer",
                                                               "bearerFormat": "JWT"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "WebOS API", "version": "1", "description": (
            "Every core service and live module, through the gateway. The events they publish on the bus "
            f"are in the event catalogue, an AsyncAPI 3.0 document: [{EVENT_CATALOGUE}]({EVENT_CATALOGUE}).")},
        "externalDocs": {"description": "Event catalogue (AsyncAPI 3.0)", "url": EVENT_CATALOGUE},
        "paths": dict(sorted(paths.items())),
        "components": components,
        "security": [{"bearer": []}],
        "tags": [{"name": name} for name, state in sources.items() if state == "ok"],
        "x-webos-sources": sources,
    }


def _template_prefix(path: str) -> str:
    """The literal part of a path template (`/api/storage/shares/{token}` → `/api/storage/shares/x`)."""
    return re.sub(r"\{[^}/]+\}", "x", path)


def _tag(item: dict[str, Any], name: str, *, public: bool = False) -> dict[str, Any]:
    out = dict(item)
    for method, op in item.items():
        if method in METHODS and isinstance(op, dict):
            op = dict(op)
            op["tags"] = [name]
            if public:
                op["security"] = []
            if "operationId" in op:
                op["operationId"] = f"{name}.{op['operationId']}"
            out[method] = op
    return out


def _rename_refs(node: Any, name: str) -> Any:
    def renamed(ref: str) -> str | None:
        if not ref.startswith("#/components/"):
            return None
        kind, _, rest = ref[len("#/components/"):].partition("/")
        return f"#/components/{kind}/{name}.{rest}"

    return rewrite_refs(node, renamed)


SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
                 "favicon-32x32.png": "image/png"}


def openapi_router(merger: OpenAPIMerger) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/api/openapi.json")
    @router.get("/openapi.json")  # where generators look first: the platform's, not the shell's
    async def merged_openapi() -> JSONResponse:
        return JSONResponse(await merger.document())

    @router.get("/api/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json", title="WebOS API",
            swagger_js_url=f"{DOCS_ASSETS}swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}favicon-32x32.png")

    @router.get(DOCS_ASSETS + "{name}")
    async def docs_asset(name: str) -> FileResponse:
        """Swagger UI from the `swagger-ui-bundle` wheel: the docs work with no internet."""
        if name not in SWAGGER_FILES:
            raise HTTPException(status_code=404, detail="Not Found")
        return FileResponse(Path(str(swagger_ui_path)) / name, media_type=SWAGGER_FILES[name],
                            headers={"Cache-Control": "public, max-age=86400"})

    return router
