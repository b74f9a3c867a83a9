"""The one place that picks adapters: `build(settings, db, resources, mailer=...)`
returns every collaborator the use cases need; tests pass their own. What needs the
running app (the OpenID Provider, the admin's SMTP settings) is made by `main` at start
with the helpers below."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from webos_auth.adapters.bus import Events
from webos_auth.adapters.mail import OutboxMailer, SettingsMailer, SmtpMailer, SmtpSection
from webos_auth.adapters.mongo.access_requests import AccessRequests
from webos_auth.adapters.mongo.actions import ActionTokens
from webos_auth.adapters.mongo.apikeys import ApiKeys
from webos_auth.adapters.mongo.assertions import AssertionLedger
from webos_auth.adapters.mongo.audit import Audit
from webos_auth.adapters.mongo.keys import KeyStore
from webos_auth.adapters.mongo.roles import Roles
from webos_auth.adapters.mongo.throttle import LoginThrottle
from webos_auth.adapters.mongo.tokens import Tokens
from webos_auth.adapters.mongo.twofactor import TwoFactor
from webos_auth.adapters.mongo.users import Users
from webos_auth.adapters.oauth.endpoints import build_server
from webos_auth.adapters.oauth.server import Bridge, OAuthServer
from webos_auth.adapters.oauth.store import OAuthStore
from webos_auth.adapters.principals import PrincipalDirectory
from webos_auth.domain.passwords import Passwords
from webos_auth.ports import EventBus, Mailer, PrincipalLookup
from webos_auth.settings import AuthSettings
from webos_common.security.keyring import Keyring
from webos_common.settings.client import SystemSettings


@dataclass
class Container:
    settings: AuthSettings
    db: Any
    users: Users
    roles: Roles
    keys: KeyStore
    tokens: Tokens
    apikeys: ApiKeys
    actions: ActionTokens
    throttle: LoginThrottle
    passwords: Passwords
    mailer: Mailer
    outbox: OutboxMailer
    events: EventBus
    principals: PrincipalLookup
    assertions: AssertionLedger
    audit: Audit
    twofactor: TwoFactor
    access_requests: AccessRequests
    oauth_store: OAuthStore
    oauth_server: OAuthServer | None = None  # made at start: it needs the running event loop

    async def ensure(self) -> None:
        for part in (self.users, self.tokens, self.apikeys, self.actions, self.throttle, self.assertions,
                     self.audit, self.access_requests, self.oauth_store):
            await part.ensure_indexes()
        await self.db["auth_sso_states"].create_index("expires_at", expireAfterSeconds=0)
        await self.roles.ensure()
        await self.keys.ensure()
        await self.twofactor.seal_stored()


def sealing(settings: AuthSettings, context: bytes) -> Keyring:
    """The platform's keyring under auth's `key_encryption_secret`, bound to one purpose."""
    return Keyring(settings.key_encryption_secret.get_secret_value(), settings.old_key_secrets(),
                   context=context, old_keys_setting="WEBOS_OLD_KEY_ENCRYPTION_SECRETS")


def default_mailer(settings: AuthSettings, outbox: OutboxMailer) -> Mailer:
    if settings.mail_backend == "smtp":
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpMailer(host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from,
                          username=settings.smtp_username, password=password,
                          starttls=settings.smtp_starttls, use_ssl=settings.smtp_ssl)
    return outbox


def build(settings: AuthSettings, db: Any, resources: Any, *, mailer: Mailer | None = None) -> Container:
    keys = KeyStore(db["auth_signing_keys"], keyring=sealing(settings, b"webos-auth-signing-keys"),
                    legacy_secrets=[settings.key_encryption_secret.get_secret_value(), *settings.old_key_secrets()],
                    token_ttl=settings.access_token_ttl, rotation_days=settings.key_rotation_days)
    outbox = OutboxMailer(db["auth_outbox"])
    users = Users(db["auth_users"])
    return Container(
        settings=settings, db=db,
        users=users,
        roles=Roles(db["auth_roles"], db["auth_permissions"]),
        keys=keys,
        tokens=Tokens(keys, db["auth_refresh_tokens"], issuer=settings.issuer, audience=settings.jwt_audience,
                      access_ttl=settings.access_token_ttl, refresh_ttl=settings.refresh_token_ttl,
                      reuse_grace=settings.refresh_reuse_grace),
        apikeys=ApiKeys(db["auth_api_keys"]),
        actions=ActionTokens(db["auth_action_tokens"]),
        throttle=LoginThrottle(db["auth_login_failures"], db["auth_login_locks"],
                               max_failures=settings.login_max_failures, lockout_seconds=settings.lockout_seconds,
                               ip_max_failures=settings.login_ip_max_failures, ip_window=settings.login_ip_window),
        passwords=Passwords(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                            parallelism=settings.argon2_parallelism, min_length=settings.password_min_length),
        mailer=mailer or default_mailer(settings, outbox),
        outbox=outbox,
        events=Events(resources),
        principals=PrincipalDirectory(settings.auth_principals_file),
        assertions=AssertionLedger(db["auth_assertion_jtis"]),
        audit=Audit(db["auth_audit"]),
        twofactor=TwoFactor(users, sealing(settings, b"webos-auth-totp")),
        access_requests=AccessRequests(db["auth_access_requests"]),
        oauth_store=OAuthStore(db),
    )


def oauth_server(c: Container) -> OAuthServer:
    """The OpenID Provider; made at start, where the running event loop is."""
    return build_server(OAuthServer(c.oauth_store, c.keys, c.users, issuer=c.settings.issuer,
                                    refresh_ttl=c.settings.refresh_token_ttl,
                                    bridge=Bridge(asyncio.get_running_loop())))


async def admin_mailer(c: Container, resources: Any) -> SystemSettings[SmtpSection]:
    """Send through the SMTP server an admin saves in the settings service (section `smtp`, read
    over HTTP with auth's own token), the environment's mailer until then; the section, to close."""
    smtp = SystemSettings(resources.nats, "smtp", SmtpSection, credentials=resources.credentials,
                          settings_url=c.settings.settings_url)
    await smtp.start()
    c.mailer = SettingsMailer(c.mailer, smtp)
    return smtp
