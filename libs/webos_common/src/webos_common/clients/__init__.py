"""Async clients of the platform, all on one base (`base.ServiceClient`: headers, the context's
trace and request id, a service out of reach said as one): typed ones for the core services
(`auth`, `events`, `storage`; one token, through the gateway or direct) and `session`, the
platform through the gateway as a signed-in person whose tokens are refreshed silently (what
the shell calls everything with, module APIs included)."""
