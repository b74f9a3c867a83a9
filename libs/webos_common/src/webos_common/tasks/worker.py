"""The task worker process: `python -m webos_common.tasks.worker`.

Imports the task modules (entry points in group `webos.tasks`, plus
`WEBOS_TASK_MODULES`, comma separated), consumes the work queue and fires
schedules, until SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib.metadata import entry_points

from loguru import logger
from taskiq.api import run_receiver_task

from webos_common.bus.connection import wait_for_nats
from webos_common.bus.identity import BusIdentity
from webos_common.config import WebOSSettings
from webos_common.http.lifecycle import cancel_and_wait
from webos_common.http.service import identity_for
from webos_common.observability.logging import configure_logging
from webos_common.security.service_auth import ServiceCredentials
from webos_common.tasks.api import broker, configure
from webos_common.tasks.health import WorkerHealth
from webos_common.tasks.schedule import NatsScheduleSource, run_schedules


def load_task_modules(extra: Iterable[str] = ()) -> list[str]:
    names = [ep.value for ep in entry_points(group="webos.tasks")]
    names += [m.strip() for m in os.environ.get("WEBOS_TASK_MODULES", "").split(",") if m.strip()]
    names += list(extra)
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - one broken plugin must not stop the worker
            logger.exception("could not import task module {}", name)
    return loaded


@asynccontextmanager
async def running_worker(nats_url: str, *, modules: Iterable[str] = (), max_async_tasks: int = 50,
                         schedules: bool = True, credential_file: str | None = None,
                         principal: str = "tasks-worker", identity: BusIdentity | None = None,
                         ca_file: str | None = None, startup_deadline: float = 20.0,
                         health: tuple[str, int] | None = None) -> AsyncIterator[None]:
    """Run a worker in this event loop for the duration of the block; `identity` checks who each
    task acts for (and signs the events tasks emit for that person). NATS must answer within
    `startup_deadline` seconds, else `DependencyUnreachable` naming it. `health`: (host, port)
    to serve the probes on (see `health.py`)."""
    await wait_for_nats(nats_url, name=principal, deadline=startup_deadline, credential_file=credential_file,
                        principal=principal, ca_file=ca_file)
    configure(nats_url, credential_file=credential_file, principal=principal, identity=identity, ca_file=ca_file)
    load_task_modules(modules)
    broker.is_worker_process = True
    await broker.startup()
    jobs = {"receiver": asyncio.create_task(run_receiver_task(broker, max_async_tasks=max_async_tasks),
                                            name="task-receiver")}
    if schedules:
        jobs["schedules"] = asyncio.create_task(
            run_schedules(NatsScheduleSource(broker.js, create=broker.may_provision)), name="task-schedules")
    probes = None
    if health is not None:
        probes = await WorkerHealth(jobs, connected=lambda: broker.client.is_connected).serve(*health)
    try:
        yield
    finally:
        if probes is not None:
            probes.close()
        await cancel_and_wait(jobs.values(), what="task worker")  # TaskIQ's receiver can swallow a cancel
        await broker.shutdown()
        broker.is_worker_process = False


async def serve(settings: WebOSSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if not started:  # still reaching NATS: leave now, not after the deadline
            logger.warning("{} during start-up: exiting", sig.name)
            raise SystemExit(128 + sig)
        stop.set()

    started = False
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    credentials = ServiceCredentials.from_settings(settings)
    try:
        async with running_worker(settings.nats_url, credential_file=settings.credential_file,
                                  principal=settings.principal_name, identity=identity_for(settings, credentials),
                                  ca_file=settings.nats_ca_file, startup_deadline=settings.startup_deadline,
                                  health=(settings.host, settings.health_port) if settings.health_port else None):
            started = True
            logger.info("task worker started ({} tasks)", len(broker.get_all_tasks()))
            await stop.wait()
    finally:
        if credentials is not None:
            await credentials.aclose()
    logger.info("task worker stopped")


def main() -> None:
    settings = WebOSSettings(service_name="tasks-worker")
    configure_logging(settings.service_name, level=settings.log_level, fmt=settings.log_format)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
