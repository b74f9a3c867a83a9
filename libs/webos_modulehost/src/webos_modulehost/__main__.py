"""`python -m webos_modulehost <name>` / `webos-module-host <name>`."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: webos-module-host <module-name>", file=sys.stderr)
        raise SystemExit(2)
    os.environ["WEBOS_MODULE"] = args[0]
    os.environ.setdefault("WEBOS_SERVICE_NAME", args[0])
    from webos_common.service import run_service
    from webos_modulehost.settings import ModuleHostSettings

    run_service("webos_modulehost.app:create_app", ModuleHostSettings())


if __name__ == "__main__":
    main()
