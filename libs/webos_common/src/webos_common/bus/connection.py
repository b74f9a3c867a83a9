"""A NATS connection that authenticates and keeps trying: at start until a
deadline (each failed attempt a WARNING naming NATS, then
`DependencyUnreachable`), then reconnecting for ever once connected.

TLS: with a CA file (`WEBOS_NATS_CA_FILE`: `webos up`'s own CA, the one
`webos deploy secrets` makes for compose, cert-manager's in Kubernetes) the
connection is encrypted and the server's certificate verified against it.

Every connection presents the process's nkey credential (its seed file)
and uses its own inbox prefix (`_INBOX.<principal>`), the only one its
permissions let it receive replies on. A refused credential is not retried:
the start fails at once with a message that names NATS and the file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats
from loguru import logger
from nats.aio.client import Client as NATS

from webos_common.http.startup import redact, retry_until
from webos_common.security.nats_permissions import inbox_prefix
from webos_common.security.principals import CredentialError, read_seed
from webos_common.security.tls import client_context

_REFUSED = ("authorization violation", "authentication", "user authentication expired", "account authentication")


class NatsAuthError(ConnectionError):
    """NATS refused this process's credential (missing, wrong, rotated or revoked)."""


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS URL that may name several, comma-separated (the nodes of a cluster,
    as Go's and the CLI's clients accept them); nats-py wants them as a list."""
    return [part.strip() for part in url.split(",") if part.strip()]


def connect_options(*, name: str, credential_file: str | Path | None, principal: str | None,
                    ca_file: str | Path | None = None) -> dict[str, Any]:
    """nats-py options for this process's identity (also used by the task broker's own connections);
    with `ca_file`, TLS verified against that CA (`webos_common.security.tls`)."""
    options: dict[str, Any] = {"name": name}
    if ca_file:
        options["tls"] = client_context(ca_file)
    if credential_file:
        read_seed(credential_file)  # fails here, naming the file, if it is missing or not a seed
        options["nkeys_seed"] = str(credential_file)
        options["inbox_prefix"] = inbox_prefix(principal or name)
    return options


def refused(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in _REFUSED)


async def wait_for_nats(url: str, *, name: str, deadline: float = 20.0, credential_file: str | Path | None = None,
                        principal: str | None = None, ca_file: str | Path | None = None) -> dict[str, Any]:
    """Wait until NATS accepts this process (each failed attempt a WARNING naming NATS); a refused
    credential fails at once. Returns the connect options for this identity."""
    try:
        options = connect_options(name=name, credential_file=credential_file, principal=principal, ca_file=ca_file)
    except CredentialError as exc:
        raise NatsAuthError(f"NATS at {url}: {exc}") from exc

    async def quiet(exc: Exception) -> None:  # the attempt's failure is logged once, by retry_until
        return None

    async def probe() -> None:
        # Without reconnects (nats-py would retry a refused credential for ever) and with a bound:
        # nats-py's first connect loops over its server pool for ever unless max_reconnect_attempts
        # is positive, whatever allow_reconnect says (the start-up that never gave up).
        try:
            async with asyncio.timeout(5.0):
                client = await nats.connect(servers=nats_servers(url), connect_timeout=2, allow_reconnect=False,
                                            max_reconnect_attempts=1, reconnect_time_wait=0.1, error_cb=quiet,
                                            **options)
        except Exception as exc:
            if refused(exc):
                which = f"the credential {credential_file}" if credential_file else "a connection without credential"
                raise NatsAuthError(f"NATS at {url} refused {which} for {name}: {exc}") from exc
            raise
        await client.close()

    await retry_until(probe, what=f"NATS at {redact(url)}", deadline=deadline, fatal=(NatsAuthError,))
    return options


async def connect_nats(url: str, *, name: str, deadline: float = 20.0, credential_file: str | Path | None = None,
                       principal: str | None = None, ca_file: str | Path | None = None) -> NATS:
    """Connect to NATS as this process's principal, retrying for up to `deadline` seconds
    while the server is unreachable; a refused credential fails at once."""
    options = await wait_for_nats(url, name=name, deadline=deadline, credential_file=credential_file,
                                  principal=principal, ca_file=ca_file)
    violations: set[str] = set()
    refusals: list[str] = []

    async def _disconnected() -> None:
        logger.warning("NATS disconnected ({})", name)

    async def _reconnected() -> None:
        refusals.clear()
        logger.info("NATS reconnected ({})", name)

    async def _error(exc: Exception) -> None:
        text = str(exc)
        if "permissions violation" in text.lower():
            if text not in violations:  # once per subject: the server repeats it on every attempt
                violations.add(text)
                logger.warning("NATS refused a subject to {}: {}", name, text)
        elif refused(exc):
            if refusals:  # once per outage, not every half second
                return
            refusals.append(text)
            logger.error("NATS at {} refused the credential of {} ({}): {}", url, name, credential_file, text)
        else:
            logger.debug("NATS error ({}): {}", name, exc)

    return await nats.connect(
        servers=nats_servers(url), connect_timeout=2, allow_reconnect=True, max_reconnect_attempts=-1,
        reconnect_time_wait=0.5, disconnected_cb=_disconnected, reconnected_cb=_reconnected, error_cb=_error, **options,
    )
