"""The pooled upstream HTTP client (aiohttp) and the header rules of a proxy.

aiohttp's client measured 2.4x faster than httpx here as a proxy client;
bodies are passed through untouched (no decompression), hop-by-hop headers
are dropped both ways.
"""

from __future__ import annotations

import aiohttp

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
    b"trailers", b"transfer-encoding", b"upgrade", b"host",
})
# set by the gateway only: a client must not claim a trace span. The gateway sends no identity
# (every service verifies the caller's own token); `webos-user*` headers, which it once set, are
# still dropped so that no upstream written against them can be told a client's claim
GATEWAY_SET = frozenset({b"webos-user-id", b"webos-user", b"traceparent", b"x-request-id",
                         b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})
DROP_REQUEST = HOP_BY_HOP | GATEWAY_SET
# the gateway answers with its own request id and span (once), not the upstream's copies
DROP_RESPONSE = HOP_BY_HOP | {b"date", b"server", b"x-request-id", b"traceparent"}


def make_session(*, pool_size: int, connect_timeout: float, read_timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=0, keepalive_timeout=30.0,
                                     ttl_dns_cache=300, enable_cleanup_closed=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
        raise_for_status=False,
    )


def response_headers(raw: tuple[tuple[bytes, bytes], ...]) -> list[tuple[bytes, bytes]]:
    out = []
    for name, value in raw:
        lower = name.lower()
        if lower not in DROP_RESPONSE:
            out.append((lower, value))
    return out
