"""Operator commands against a running platform — this machine's stack by default, a remote
deployment with `--nats-url/--mongo-url/--creds` (or the `WEBOS_*` variables):
`backup`, `restore`, `modules list|enable|disable`, `events tail`.

NATS is reached as the operator (`.webos/credentials/operator.nk` locally, any operator
credential remotely); MongoDB with the URL given, which carries its own credentials.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import nats
import typer
from nats.aio.client import Client as NATS
from nats.js.api import DeliverPolicy
from rich.progress import Progress

from webos_cli import backup as archive
from webos_cli.buckets import Bucket
from webos_cli.creds import OPERATOR
from webos_cli.plan import StackPlan
from webos_common.bus.connection import connect_options, nats_servers
from webos_common.bus.settings import BusSettings
from webos_common.bus.topics import EVENTS_PREFIX
from webos_common.config import WebOSSettings
from webos_common.documents import db
from webos_common.modules.registry import ModuleRegistry

T = TypeVar("T")
modules_app = typer.Typer(help="Installed modules: list, enable, disable.", no_args_is_help=True)
events_app = typer.Typer(help="The event stream.", no_args_is_help=True)

StateDir = typer.Option(Path(os.environ.get("WEBOS_STATE_DIR", ".webos")), "--state-dir",
                        help="The local stack's state (its addresses and operator credential).")
BasePort = typer.Option(int(os.environ.get("WEBOS_BASE_PORT", "8700")), "--base-port")
NatsUrl = typer.Option(None, "--nats-url", envvar="WEBOS_NATS_URL", help="Default: the local stack's.")
MongoUrl = typer.Option(None, "--mongo-url", envvar="WEBOS_MONGO_URL", help="Default: the local stack's.")
MongoDb = typer.Option("webos", "--db", envvar="WEBOS_MONGO_DB")
Creds = typer.Option(None, "--creds", envvar="WEBOS_OPERATOR_CREDENTIAL",
                     help="The operator's nkey seed file. Default: the local stack's.")


@dataclass
class Target:
    nats_url: str
    mongo_url: str
    db_name: str
    creds: Path | None
    files: dict[str, Path]
    s3: dict[str, Bucket]  # the local stack's S3 source; none by default for a remote platform
    ca_file: Path | None = None  # the CA NATS's certificate is verified with (TLS)


def target(state_dir: Path, base_port: int, nats_url: str | None, mongo_url: str | None, db_name: str,
           creds: Path | None) -> Target:
    plan = StackPlan.recorded(state_dir.resolve(), base_port)
    env = plan.shared_env()
    local = plan.credentials_dir / f"{OPERATOR}.nk"
    here = nats_url is None and mongo_url is None
    bucket = f"s3://{os.environ.get('WEBOS_S3_BUCKET', 'webos')}"
    s3 = {"s3": Bucket.parse(bucket, endpoint_url=env["WEBOS_S3_ENDPOINT_URL"], **_s3_keys())} if here else {}
    stack_ca = plan.tls_dir / "ca.pem"
    given_ca = os.environ.get("WEBOS_NATS_CA_FILE")
    ca = Path(given_ca) if given_ca else stack_ca if nats_url is None and stack_ca.exists() else None
    return Target(nats_url=nats_url or env["WEBOS_NATS_URL"], mongo_url=mongo_url or env["WEBOS_MONGO_URL"],
                  db_name=db_name, creds=creds or (local if local.exists() else None),
                  files={"local": plan.state_dir / "files"}, s3=s3, ca_file=ca)


def _s3_keys() -> dict[str, str | None]:
    """The S3 credentials storage uses (`WEBOS_S3_ACCESS_KEY`/`_SECRET_KEY`), else boto's own chain."""
    return {"access_key": os.environ.get("WEBOS_S3_ACCESS_KEY"), "secret_key": os.environ.get("WEBOS_S3_SECRET_KEY")}


@asynccontextmanager
async def operator_nats(t: Target) -> AsyncIterator[NATS]:
    nc = await nats.connect(nats_servers(t.nats_url), connect_timeout=5, max_reconnect_attempts=1,
                            **connect_options(name="webos-cli", credential_file=t.creds, principal=OPERATOR,
                                              ca_file=t.ca_file))
    try:
        yield nc
    finally:
        await nc.close()


def module_registry(nc: NATS) -> ModuleRegistry:
    """The registry the platform's processes read (`WEBOS_REGISTRY_BUCKET`); never created here."""
    return ModuleRegistry(nc.jetstream(), bucket=WebOSSettings().registry_bucket, create=False)


def run(work: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except archive.BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (OSError, nats.errors.Error) as exc:
        typer.echo(f"error: cannot reach the platform: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(3) from exc


def _files(pairs: list[str], default: dict[str, Path]) -> dict[str, Path]:
    if not pairs:
        return {k: v for k, v in default.items() if v.is_dir()}
    out = {}
    for pair in pairs:
        name, sep, folder = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r}: expected SOURCE=FOLDER", param_hint="--files")
        out[name] = Path(folder)
    return out


def _buckets(pairs: list[str], endpoint_url: str | None, default: dict[str, Bucket]) -> dict[str, Bucket]:
    if not pairs:
        return default
    out = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        try:
            if not sep or not name:
                raise ValueError(f"{pair!r}: expected SOURCE=s3://BUCKET[/PREFIX]")
            out[name] = Bucket.parse(url, endpoint_url=endpoint_url, **_s3_keys())
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--s3") from exc
    return out


def _archive_command(restoring: bool) -> Callable[..., None]:
    def command(path: Path = typer.Argument(..., help="The archive (.tar.gz)."),
                files: list[str] = typer.Option([], "--files", help="SOURCE=FOLDER of a local AFS source; "
                                                "default: the local stack's `local` source."),
                s3: list[str] = typer.Option([], "--s3", help="SOURCE=s3://BUCKET[/PREFIX] of an S3 AFS source; "
                                             "default: the local stack's `s3` source."),
                s3_endpoint_url: str | None = typer.Option(None, "--s3-endpoint-url",
                                                           envvar="WEBOS_S3_ENDPOINT_URL",
                                                           help="S3-compatible endpoint (MinIO); default AWS."),
                replace: bool = typer.Option(False, "--replace", hidden=not restoring,
                                             help="Drop the collections, streams and S3 objects the archive "
                                                  "holds first."),
                state_dir: Path = StateDir, base_port: int = BasePort, nats_url: str | None = NatsUrl,
                mongo_url: str | None = MongoUrl, db_name: str = MongoDb, creds: Path | None = Creds) -> None:
        t = target(state_dir, base_port, nats_url, mongo_url, db_name, creds)
        sources = _files(files, t.files)
        bucket_sources = _buckets(s3, s3_endpoint_url, t.s3 if not files else {})

        async def work() -> dict[str, Any]:
            mongo = db.mongo_client(t.mongo_url, timeout=10.0)
            try:
                async with operator_nats(t) as nc:
                    with Progress(transient=True) as bar:
                        step = bar.add_task("restore" if restoring else "backup", total=None)

                        def progress(what: str, n: int) -> None:
                            bar.update(step, description=what, advance=n)

                        if restoring:
                            return await archive.restore(path, mongo=mongo, db_name=t.db_name, nc=nc,
                                                         files=sources, s3=bucket_sources, progress=progress,
                                                         replace=replace)
                        return await archive.backup(path, mongo=mongo, db_name=t.db_name, nc=nc, files=sources,
                                                    s3=bucket_sources, progress=progress)
            finally:
                await mongo.close()

        manifest = run(work)
        counts = manifest["counts"]
        typer.echo(f"{'restored from' if restoring else 'backed up to'} {path}: "
                   f"{sum(counts['collections'].values())} documents in {len(counts['collections'])} collections, "
                   f"{sum(counts['streams'].values())} messages in {len(counts['streams'])} streams, "
                   f"{sum(counts['files'].values())} files, "
                   f"{sum(counts.get('s3', {}).values())} S3 objects")

    command.__doc__ = ("Restore an archive into an empty platform (checksums checked first)." if restoring else
                       "Back up MongoDB, JetStream streams and KV buckets, local and S3 files into one archive.")
    return command


backup_command = _archive_command(restoring=False)
restore_command = _archive_command(restoring=True)


@modules_app.command("list")
def modules_list(state_dir: Path = StateDir, base_port: int = BasePort, nats_url: str | None = NatsUrl,
                 creds: Path | None = Creds) -> None:
    """Every module with live instances or a switch, and whether it is enabled."""
    t = target(state_dir, base_port, nats_url, None, "webos", creds)

    async def work() -> tuple[dict[str, list[Any]], dict[str, bool]]:
        async with operator_nats(t) as nc:
            registry = module_registry(nc)
            return await registry.live(), await registry.enabled_flags()

    live, flags = run(work)
    typer.echo(f"{'MODULE':<20} {'ENABLED':<8} {'INSTANCES':<9} VERSION")
    for name in sorted(set(live) | set(flags)):
        versions = sorted({m.version for m in live.get(name, [])})
        typer.echo(f"{name:<20} {str(flags.get(name, True)).lower():<8} {len(live.get(name, [])):<9} "
                   f"{', '.join(versions) or '-'}")


def _switch(enabled: bool) -> Callable[..., None]:
    def command(name: str = typer.Argument(..., help="The module's name."), state_dir: Path = StateDir,
                base_port: int = BasePort, nats_url: str | None = NatsUrl, creds: Path | None = Creds) -> None:
        t = target(state_dir, base_port, nats_url, None, "webos", creds)

        async def work() -> None:
            async with operator_nats(t) as nc:
                await module_registry(nc).set_enabled(name, enabled)

        run(work)
        typer.echo(f"module {name} {'enabled' if enabled else 'disabled'}")

    command.__doc__ = f"{'Enable' if enabled else 'Disable'} a module (the gateway and shell follow at once)."
    return command


modules_app.command("enable")(_switch(True))
modules_app.command("disable")(_switch(False))


@events_app.command("tail")
def events_tail(subject: str = typer.Argument(f"{EVENTS_PREFIX}.>", help="A subject filter."),
                from_start: bool = typer.Option(False, "--from-start", help="Every stored event, then new ones."),
                count: int = typer.Option(0, "--count", "-n", help="Stop after this many (0: until Ctrl-C)."),
                state_dir: Path = StateDir, base_port: int = BasePort, nats_url: str | None = NatsUrl,
                creds: Path | None = Creds) -> None:
    """Print events as JSON lines (subject, CloudEvents attributes, data) as they arrive."""
    t = target(state_dir, base_port, nats_url, None, "webos", creds)
    if not subject.startswith(EVENTS_PREFIX):
        raise typer.BadParameter(f"must start with {EVENTS_PREFIX}", param_hint="SUBJECT")

    async def work() -> None:
        async with operator_nats(t) as nc:
            policy = DeliverPolicy.ALL if from_start else DeliverPolicy.NEW
            sub = await nc.jetstream().subscribe(subject, stream=BusSettings().stream, ordered_consumer=True,
                                                 deliver_policy=policy)
            seen = 0
            async for msg in sub.messages:
                try:
                    body: Any = json.loads(msg.data)
                except ValueError:
                    body = msg.data.decode(errors="replace")
                # CloudEvents binary mode: the body is the data, the attributes are the ce-* headers
                attributes = {k[3:]: v for k, v in (msg.headers or {}).items() if k.startswith("ce-")}
                typer.echo(json.dumps({"subject": msg.subject, "attributes": attributes, "event": body}, default=str))
                seen += 1
                if count and seen >= count:
                    return

    try:
        run(work)
    except KeyboardInterrupt:
        pass
