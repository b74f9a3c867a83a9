"""The edge's browser policy: the security headers every answer carries, and
the cross-site requests it refuses (OWASP Secure Headers, ASVS V3/V4).

Headers: `nosniff`, a Referrer-Policy, framing refused (`frame-ancestors
'none'` and `X-Frame-Options`) except for a module's views, which the shell
frames from this origin only (`frame-ancestors 'self'`, `SAMEORIGIN`), a
CSP (strict for API answers, as strict as NiceGUI allows for shell pages
and module views: Vue compiles templates at run time, Quasar styles inline)
and HSTS when the request came over HTTPS. A header an
upstream already set is kept (storage's `sandbox` CSP for user files), so
each header is sent once.

CSRF: a state-changing request that carries cookies and no bearer token, and
every WebSocket upgrade, must come from the platform's own origin: `Origin`
(or, without it, `Sec-Fetch-Site`) must name this host or a configured
origin. Calls with a bearer token and non-browser clients (neither header)
are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from webos_gateway.refusal import Refused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_CSP = (b"default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
            b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            b"connect-src 'self'; worker-src 'self' blob:; media-src 'self' blob:; object-src 'none'; "
            b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
FRAMED_CSP = PAGE_CSP.replace(b"frame-ancestors 'none'", b"frame-ancestors 'self'")
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_COMMON = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"cross-origin-opener-policy", b"same-origin"))
_DENY = (b"x-frame-options", b"DENY")


class SecurityHeaders:
    def __init__(self) -> None:
        self.api = (*_COMMON, _DENY, (b"content-security-policy", API_CSP))
        self.page = (*_COMMON, _DENY, (b"content-security-policy", PAGE_CSP))
        self.framed = (*_COMMON, (b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", FRAMED_CSP))

    def add(self, headers: list[tuple[bytes, bytes]], *, page: bool, https: bool,
            framed: bool = False) -> list[tuple[bytes, bytes]]:
        """`headers` (lower-case names) plus every policy header they lack; `framed`: a module's
        view, which only this origin's shell may frame."""
        present = {name for name, _ in headers}
        for name, value in self.framed if framed else self.page if page else self.api:
            if name not in present:
                headers.append((name, value))
        if https and HSTS[0] not in present:
            headers.append(HSTS)
        return headers


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class OriginCheck:
    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(_origin_of(o) for o in allowed if o and o != "*")

    def same_site(self, origin: bytes | None, fetch_site: bytes | None, host: bytes | None) -> bool:
        if origin is not None:
            text = origin.decode("latin-1").strip().lower()
            if text in self.allowed:
                return True
            if not host or text == "null":
                return False
            return urlsplit(text).netloc == host.decode("latin-1").lower()
        if fetch_site is not None:
            return fetch_site in (b"same-origin", b"none")
        return True  # not a browser: no ambient credential to abuse

    def check(self, *, method: str, cookie_auth: bool, origin: bytes | None, fetch_site: bytes | None,
              host: bytes | None, websocket: bool = False) -> None:
        if not websocket and (method in SAFE_METHODS or not cookie_auth):
            return
        if not self.same_site(origin, fetch_site, host):
            shown = origin.decode("latin-1")[:200] if origin else (fetch_site or b"").decode("latin-1")
            raise Refused(403, "cross_site_refused",
                          "Cross-site request refused: it must come from this platform's own pages",
                          {"origin": shown})
