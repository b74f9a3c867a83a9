"""Who is calling, checked locally: JWTs verified against auth's JWKS, the
`CurrentUser` dependency, and `require_permission` for routes and for plain
service code (seed 002 §10.4)."""

from webos_common.security.deps import CurrentUser, OptionalUser, current_user, optional_user
from webos_common.security.introspect import API_KEY_PREFIX, HttpKeyIntrospector, KeyIntrospector
from webos_common.security.jwks import HttpJWKS, JWKSSource, StaticJWKS
from webos_common.security.permissions import area_permission, check_permission, require_permission
from webos_common.security.verifier import TokenVerifier

__all__ = [
    "API_KEY_PREFIX",
    "CurrentUser",
    "HttpJWKS",
    "HttpKeyIntrospector",
    "JWKSSource",
    "KeyIntrospector",
    "OptionalUser",
    "StaticJWKS",
    "TokenVerifier",
    "area_permission",
    "check_permission",
    "current_user",
    "optional_user",
    "require_permission",
]
