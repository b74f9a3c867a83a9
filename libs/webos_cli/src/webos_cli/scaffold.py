"""`webos new module <name>`: a working module from the template in
`modules/template/` (every `*.tmpl` file, with `{{name}}`, `{{Title}}` and
`{{Class}}` filled in paths and contents), and its entry in the Helm chart's
`modules` (deploy/helm/webos/values.yaml beside the modules folder)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

CHART_VALUES = Path("deploy/helm/webos/values.yaml")
VALUES_ENTRY = """  {name}:
    replicas: {{min: 2, max: 6}}
"""
COMPOSE_FILE = Path("docker-compose.yml")
WORKER_MARK = "  # ---- the task worker"
COMPOSE_SERVICE = """  module-{name}:
    <<: *webos-process
    image: ${{WEBOS_IMAGE_PREFIX:-webos}}/module-{image}:${{WEBOS_VERSION:-latest}}
    build:
      context: .
      dockerfile: docker/Dockerfile
      args: {{PACKAGE: modules/{name}, MAIN: webos_modulehost, PORT: "8710"}}
    command: ["{name}"]
    environment:
      <<: *webos-env
      WEBOS_PORT: "8710"
      WEBOS_SERVICE_NAME: {name}
      WEBOS_ADVERTISE_URL: http://module-{name}:8710  # the address it announces in the registry
      WEBOS_PRINCIPAL: {name}
    volumes:
      - module-{name}-state:/var/lib/webos
      - ${{WEBOS_COMPOSE_SECRETS:-./.webos/deploy/compose}}/{name}.nk:/etc/webos/credential/credential.nk:ro
      - ${{WEBOS_COMPOSE_SECRETS:-./.webos/deploy/compose}}/tls/ca.pem:/etc/webos/tls/ca.crt:ro

"""
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


def deployment_file(modules_dir: Path, relative: Path) -> Path | None:
    """A deployment file (chart values, compose file) of the checkout `modules_dir` belongs to."""
    path = modules_dir.resolve().parent / relative
    return path if path.is_file() else None


def add_chart_entry(name: str, values_file: Path) -> bool:
    """Append `name` to the chart's `modules` map (the file's last key, so comments and
    layout stay); False when it is already there. The result must parse with the entry."""
    text = values_file.read_text()
    values = yaml.safe_load(text) or {}
    if name in (values.get("modules") or {}):
        return False
    last_key = [line for line in text.splitlines() if re.match(r"^[A-Za-z_]", line)][-1]
    if last_key.strip() not in ("modules:", "modules: {}"):
        raise ScaffoldError(f"{values_file}: `modules` must be the last key to add {name!r} to it")
    body = text.replace("modules: {}", "modules:") if last_key.strip() == "modules: {}" else text
    updated = body.rstrip("\n") + "\n" + VALUES_ENTRY.format(name=name)
    if name not in (yaml.safe_load(updated).get("modules") or {}):
        raise ScaffoldError(f"{values_file}: could not add {name!r} to `modules`")
    values_file.write_text(updated)
    return True


def add_compose_service(name: str, compose_file: Path) -> bool:
    """Give module `name` its compose service (before the worker), its state volume, and put
    its package into the worker's image; False when it has one already."""
    text = compose_file.read_text()
    if f"module-{name}" in (yaml.safe_load(text).get("services") or {}):
        return False
    if WORKER_MARK not in text or not re.search(r"\n  [a-z0-9_-]+-state: \{\}$", text.rstrip()):
        raise ScaffoldError(f"{compose_file}: no worker section or volumes list to add module {name!r} to")
    text = text.replace(WORKER_MARK, COMPOSE_SERVICE.format(name=name, image=name.replace("_", "-")) + WORKER_MARK, 1)
    text = re.sub(r"(args: \{PACKAGE: [^,}]*)(, MAIN: webos_events\.worker)", rf"\1 modules/{name}\2", text, count=1)
    text = text.rstrip("\n") + f"\n  module-{name}-state: {{}}\n"
    parsed = yaml.safe_load(text)
    if f"modules/{name}" not in parsed["services"]["worker"]["build"]["args"]["PACKAGE"].split():
        raise ScaffoldError(f"{compose_file}: the worker's PACKAGE build argument was not found")
    compose_file.write_text(text)
    return True


def install(path: Path) -> None:
    """Install the new module editable into this interpreter (its entry point registers it)."""
    cmd = [sys.executable, "-m", "uv", "pip", "install", "--python", sys.executable, "--no-deps", "-q", "-e",
           str(path)]
    if subprocess.run(cmd, check=False).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-e", str(path)], check=True)
