"""The auth service's app factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from loguru import logger

from webos_auth import service
from webos_auth.api import me, public, roles, session, sso, users
from webos_auth.container import build
from webos_auth.mail import Mailer, SettingsMailer, SmtpSection
from webos_auth.settings import AuthSettings
from webos_common.security import TokenVerifier
from webos_common.service import create_service_app
from webos_common.settings import SystemSettings


class LocalIntrospector:
    """Auth checks API keys in its own database, not over HTTP."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def introspect(self, key: str) -> dict[str, Any] | None:
        claims = await service.introspect(self.app.state.auth, key)
        return claims if claims.get("active") else None


def create_app(settings: AuthSettings | None = None, *, mailer: Mailer | None = None) -> FastAPI:
    settings = settings or AuthSettings()

    async def start(app: FastAPI) -> None:
        resources = app.state.resources
        container = build(settings, resources.db, resources, mailer=mailer)
        await container.ensure()
        app.state.auth = container
        resources.verifier = TokenVerifier(container.keys, issuer=settings.jwt_issuer,
                                           audience=settings.jwt_audience,
                                           introspector=LocalIntrospector(app), key_cache_ttl=0)
        if resources.nats is not None:
            await resources.verifier.follow(resources.nats)
            if mailer is None:  # the admin's SMTP settings win over the environment's mailer
                smtp = SystemSettings(resources.nats, "smtp", SmtpSection)
                await smtp.start()
                app.state.smtp_settings = smtp
                container.mailer = SettingsMailer(container.mailer, smtp)
        created = await service.ensure_superuser(container)
        if created is not None:
            logger.info("created superuser {} <{}>", created["username"], created["email"])

    async def stop(app: FastAPI) -> None:
        smtp = getattr(app.state, "smtp_settings", None)
        if smtp is not None:
            await smtp.close()

    return create_service_app(
        "auth", settings=settings, use_mongo=True, on_startup=[start], on_shutdown=[stop],
        routers=[public.router, session.router, me.router, users.router, roles.router, sso.router],
    )
