"""`webos new module <name>`: a working module from the template in
`modules/template/` (every `*.tmpl` file, with `{{name}}`, `{{Title}}` and
`{{Class}}` filled in paths and contents)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
RESERVED = frozenset({"template", "api", "admin", "auth", "storage", "settings", "events", "gateway", "shell",
                      "common", "cli", "modulehost"})


class ScaffoldError(ValueError):
    pass


def find_template(start: Path | None = None) -> Path:
    """`modules/template` of the checkout this CLI runs from (or above `start`)."""
    candidates = [Path(__file__).resolve().parents[4]]
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    for root in candidates:
        folder = root / "modules" / "template"
        if (folder / "pyproject.toml.tmpl").is_file():
            return folder
    raise ScaffoldError("module template not found (modules/template/ in the WebOS checkout)")


def placeholders(name: str) -> dict[str, str]:
    words = name.split("_")
    return {"{{name}}": name, "{{Title}}": " ".join(w.capitalize() for w in words),
            "{{Class}}": "".join(w.capitalize() for w in words)}


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def create_module(name: str, *, modules_dir: Path, template: Path | None = None) -> Path:
    """Write `modules_dir/<name>/` from the template; return it. Refuses to overwrite."""
    if not NAME.match(name) or name in RESERVED:
        raise ScaffoldError(f"invalid module name {name!r}: lowercase letters, digits and _, starting with a "
                            f"letter, 2-40 characters, not one of {', '.join(sorted(RESERVED))}")
    template = template or find_template(modules_dir)
    target = modules_dir / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists")
    values = placeholders(name)
    written = []
    for source in sorted(template.rglob("*.tmpl")):
        relative = render(str(source.relative_to(template)), values)[: -len(".tmpl")]
        dest = target / relative
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(render(source.read_text(), values))
        written.append(dest)
    if not written:
        raise ScaffoldError(f"template {template} has no *.tmpl files")
    return target


def install(path: Path) -> None:
    """Install the new module editable into this interpreter (its entry point registers it)."""
    cmd = [sys.executable, "-m", "uv", "pip", "install", "--python", sys.executable, "--no-deps", "-q", "-e",
           str(path)]
    if subprocess.run(cmd, check=False).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-e", str(path)], check=True)
