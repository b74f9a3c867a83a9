"""`python -m webos_modulehost <name>` / `webos-module-host <name>`."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    declare, migrate, dry_run = "--declare" in args, "--migrate" in args, "--dry-run" in args
    args = [a for a in args if a not in ("--declare", "--migrate", "--dry-run")]
    if len(args) != 1 or args[0].startswith("-") or (dry_run and not migrate):
        print("usage: webos-module-host <module-name> [--declare | --migrate [--dry-run]]", file=sys.stderr)
        raise SystemExit(2)
    os.environ["WEBOS_MODULE"] = args[0]
    os.environ.setdefault("WEBOS_SERVICE_NAME", args[0])
    from webos_common.modules.hooks import ModuleLoadError
    from webos_modulehost.discovery import load
    from webos_modulehost.settings import ModuleHostSettings

    settings = ModuleHostSettings()
    try:
        # fail fast, without a server traceback
        mod = load(args[0], modules_dir=settings.modules_dir, settings=settings)
    except ModuleLoadError as exc:
        print(f"webos-module-host: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    if declare:  # what its NATS credential must allow (read by `webos up` / `webos creds`)
        import json

        from webos_modulehost.principal import declaration

        print(json.dumps(declaration(mod)))
        return
    if migrate:  # apply pending migrations and exit (the chart's pre-upgrade Job)
        import asyncio

        from webos_modulehost.migrations import MigrationError, run_standalone

        try:
            applied = asyncio.run(run_standalone(mod.name, mod.migrations_dir, settings.mongo_url, settings.mongo_db,
                                                 dry_run=dry_run))
        except MigrationError as exc:
            print(f"webos-module-host: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc
        verb = "would apply" if dry_run else "applied"
        print(f"module {mod.name}: {verb} {', '.join(applied) if applied else 'nothing (up to date)'}")
        return
    from webos_common.http.service import run_service  # not above: `--declare` needs no server

    run_service("webos_modulehost.app:create_app", settings)


if __name__ == "__main__":
    main()
