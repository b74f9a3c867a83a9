"""WebOS as an OpenID Provider for the company's other tools: authlib's authorization server
(code flow + PKCE, OpenID Connect ID tokens, refresh, RFC 7662 introspection, RFC 7009
revocation, RP-initiated logout) over MongoDB, adapted to FastAPI in `server.py`."""
