"""Benchmark: token verification and sign-in throughput of the auth stack.

1. In-process verification ops/s, one run, same token:
   * WebOS `TokenVerifier` (verified-token cache, repeated token) — goal >= 100k/s
   * WebOS `TokenVerifier` on distinct tokens (cache misses: full RS256 check)
   * bare python-jose `jwt.decode` of the same token (the baseline)
2. Sign-in requests/s against a real `python -m webos_auth` (its own MongoDB
   and NATS on free loopback ports) with the production argon2id parameters
   (time_cost=3, memory=64 MiB, parallelism=4 — RFC 9106's second
   recommended option), 4 concurrent clients.

Run: `.venv/bin/python bench/auth.py [--seconds 3] [--login-seconds 8]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher, Type
from jose import jwt

from webos_common.infra import MongoServer, NatsServer
from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_common.security import TokenVerifier
from webos_common.security.jwks import StaticJWKS
from webos_common.security.testing import TestIssuer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support.provisioning import provision_nats

ARGON2 = {"time_cost": 3, "memory_kib": 65536, "parallelism": 4}
PASSWORD = "Bench-Passw0rd-123"


async def verifier_cached(issuer: TestIssuer, seconds: float) -> float:
    verifier = TokenVerifier(StaticJWKS(issuer.jwks), issuer=issuer.issuer, audience=issuer.audience)
    token = issuer.token("bench", roles=("user",), permissions=("tasks.*",))
    await verifier.verify(token)
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(10_000):
            await verifier.verify(token)
        n += 10_000
        if time.perf_counter() >= deadline:
            return n / (time.perf_counter() - start)


async def verifier_uncached(issuer: TestIssuer, seconds: float) -> float:
    verifier = TokenVerifier(StaticJWKS(issuer.jwks), issuer=issuer.issuer, audience=issuer.audience)
    tokens = [issuer.token(f"u{i}") for i in range(2000)]
    n, start = 0, time.perf_counter()
    for token in tokens:
        await verifier.verify(token)
        n += 1
        if time.perf_counter() - start >= seconds:
            break
    return n / (time.perf_counter() - start)


def jose_bare(issuer: TestIssuer, seconds: float) -> float:
    token = issuer.token("bench", roles=("user",), permissions=("tasks.*",))
    key = issuer.public_jwk
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            jwt.decode(token, key, algorithms=["RS256"], audience=issuer.audience, issuer=issuer.issuer)
        n += 100
    return n / (time.perf_counter() - start)


def argon2_hash_seconds() -> float:
    hasher = PasswordHasher(time_cost=ARGON2["time_cost"], memory_cost=ARGON2["memory_kib"],
                            parallelism=ARGON2["parallelism"], type=Type.ID)
    hashed = hasher.hash(PASSWORD)
    start = time.perf_counter()
    for _ in range(5):
        hasher.verify(hashed, PASSWORD)
    return (time.perf_counter() - start) / 5


async def login_rate(root: Path, seconds: float, concurrency: int = 4) -> tuple[float, int, int]:
    mongo = MongoServer(root / "mongo", log_path=root / "mongod.log", die_with_parent=True)
    nats_server = NatsServer(root / "nats", log_path=root / "nats.log", die_with_parent=True)
    mongo.start()
    nats_server.start()
    await provision_nats(nats_server.url)
    port = free_port()
    env = {
        "WEBOS_ENV": "development", "WEBOS_PORT": str(port), "WEBOS_MONGO_URL": mongo.url,
        "WEBOS_MONGO_DB": "bench_auth", "WEBOS_NATS_URL": nats_server.url, "WEBOS_LOG_LEVEL": "WARNING",
        "WEBOS_ARGON2_TIME_COST": str(ARGON2["time_cost"]), "WEBOS_ARGON2_MEMORY_KIB": str(ARGON2["memory_kib"]),
        "WEBOS_ARGON2_PARALLELISM": str(ARGON2["parallelism"]), "WEBOS_ADMIN_PASSWORD": PASSWORD,
        "WEBOS_ADMIN_EMAIL": "bench@example.com", "WEBOS_ADMIN_USERNAME": "bench",
        "WEBOS_LOGIN_IP_MAX_FAILURES": "100000",
    }
    auth = ManagedProcess("auth", [sys.executable, "-m", "webos_auth"], log_path=root / "auth.log",
                          env=env, cwd=root)
    auth.start()
    try:
        wait_port(port, timeout=60, proc=auth.proc)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(200):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            ok = (await client.post("/login", json={"login": "bench", "password": PASSWORD})).status_code
            assert ok == 200, f"login failed ({ok}): {auth.log_tail()}"
            done, errors = 0, 0
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal done, errors
                while time.perf_counter() < deadline:
                    resp = await client.post("/login", json={"login": "bench", "password": PASSWORD})
                    if resp.status_code == 200:
                        done += 1
                    else:
                        errors += 1

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return done / (time.perf_counter() - start), done, errors
    finally:
        auth.stop()
        nats_server.stop()
        mongo.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--login-seconds", type=float, default=8.0)
    args = parser.parse_args()

    issuer = TestIssuer()
    cached = await verifier_cached(issuer, args.seconds)
    uncached = await verifier_uncached(issuer, args.seconds)
    bare = jose_bare(issuer, args.seconds)
    print("token verification (in-process, RS256 2048, one core)")
    print(f"  WebOS TokenVerifier, repeated token (cache): {cached:>12,.0f} ops/s   goal >= 100,000")
    print(f"  WebOS TokenVerifier, distinct tokens:        {uncached:>12,.0f} ops/s")
    print(f"  bare python-jose jwt.decode:                 {bare:>12,.0f} ops/s")
    print(f"  ratio cached / bare jose: {cached / bare:,.0f}x   uncached / bare jose: {uncached / bare:.2f}x")
    print(f"  goal met: {'yes' if cached >= 100_000 else 'NO'}")

    print(f"\nargon2id parameters: time_cost={ARGON2['time_cost']}, memory={ARGON2['memory_kib']} KiB, "
          f"parallelism={ARGON2['parallelism']}; one verify: {argon2_hash_seconds() * 1000:.0f} ms, "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="webos-bench-auth-") as tmp:
        rate, done, errors = await login_rate(Path(tmp), args.login_seconds)
    print(f"POST /login (python -m webos_auth, 4 clients, {args.login_seconds:.0f} s): {rate:.1f} req/s "
          f"({done} ok, {errors} errors)")


if __name__ == "__main__":
    asyncio.run(main())
