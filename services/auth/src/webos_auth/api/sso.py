"""OpenID Connect sign-in (placeholder until implemented)."""

from fastapi import APIRouter

router = APIRouter(prefix="/sso", tags=["sso"])
