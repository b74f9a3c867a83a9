"""What each workspace package imports, against what its pyproject.toml declares.

An image installs only its package's declared dependencies (docker/Dockerfile),
so an import a package does not declare is an ImportError in its container."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def packages() -> dict[str, Path]:
    """Distribution name -> package directory, for every workspace package."""
    found = {}
    for path in sorted([*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml"),
                        *ROOT.glob("modules/*/pyproject.toml")]):
        found[_canon(tomllib.loads(path.read_text())["project"]["name"])] = path.parent
    return found


def declared(directory: Path, extra: str | None = None) -> set[str]:
    project = tomllib.loads((directory / "pyproject.toml").read_text())["project"]
    deps = [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get(extra or "", [])]
    return {_canon(re.split(r"[\s<>=!~;\[]", dep, maxsplit=1)[0]) for dep in deps}


def _guarded(tree: ast.AST) -> set[int]:
    """Line numbers of imports inside `try: … except ImportError`."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in {"ImportError", "ModuleNotFoundError"}
                for h in node.handlers):
            lines |= {n.lineno for stmt in node.body for n in ast.walk(stmt)
                      if isinstance(n, ast.Import | ast.ImportFrom)}
    return lines


def extra_of(directory: Path, path: Path) -> str | None:
    """The extra that declares what a source file imports: `testing` for its `testing/`
    subpackage, those `[tool.webos.extra-paths]` name (e.g. `ui`: NiceGUI code only the shell,
    the module host and module views import), else None (the package's own dependencies)."""
    if "testing" in path.parts:
        return "testing"
    tool = tomllib.loads((directory / "pyproject.toml").read_text()).get("tool", {})
    relative = path.relative_to(directory / "src").as_posix()
    return next((extra for extra, files in tool.get("webos", {}).get("extra-paths", {}).items()
                 if relative in files), None)


def extras(directory: Path) -> set[str | None]:
    return {extra_of(directory, path) for path in (directory / "src").rglob("*.py")}


def imported(directory: Path, *, testing: bool = False, extra: str | None = None) -> set[str]:
    """Top-level modules its source imports (not its tests), stdlib and its own excluded; with
    `extra` (`testing=True`: the `testing` extra), only those of the files that extra declares for."""
    extra = "testing" if testing else extra
    names: set[str] = set()
    for path in (directory / "src").rglob("*.py"):
        if extra_of(directory, path) != extra:
            continue
        tree = ast.parse(path.read_text(), str(path))
        guarded = _guarded(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno in guarded:
                continue
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    own = {p.name for p in (directory / "src").iterdir() if p.is_dir()}
    return {n for n in names if n not in sys.stdlib_module_names and n not in own and n != "__future__"}


def undeclared(directory: Path) -> dict[str, set[str]]:
    """module imported -> the distributions that provide it, for each import not declared."""
    providers = packages_distributions()
    workspace = {p.name: dist for dist, p in packages().items() for p in (p / "src").iterdir() if p.is_dir()}
    wanted = declared(directory)
    missing = {}
    needs = [(m, wanted | (declared(directory, extra) if extra else set()))
             for extra in sorted(extras(directory), key=str) for m in sorted(imported(directory, extra=extra))]
    for module, allowed in needs:
        dists = {_canon(d) for d in providers.get(module, [])} | ({workspace[module]} if module in workspace else set())
        if not dists & allowed:
            missing[module] = dists
    return missing
