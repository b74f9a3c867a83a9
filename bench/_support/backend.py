"""A trivial backend for proxy benchmarks: one JSON endpoint (under a
module-style path too) and a JWKS file served for the gateway's verifier.

Run: `python -m uvicorn --app-dir bench/_support backend:app --port P`
with `BENCH_JWKS=/path/jwks.json`.
"""

from __future__ import annotations

import json
import os

from fastapi import FastAPI

app = FastAPI()
_JWKS = json.loads(open(os.environ["BENCH_JWKS"]).read()) if os.environ.get("BENCH_JWKS") else {"keys": []}


@app.get("/ping")
@app.get("/api/bench/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


@app.get("/.well-known/jwks.json")
async def jwks() -> dict[str, object]:
    return _JWKS
