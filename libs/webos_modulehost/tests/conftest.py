"""Build throwaway modules in a temporary `modules/` folder (not installed:
the host finds them by folder, as a module dropped into `modules/`)."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

PYPROJECT = """\
[project]
name = "webos-{name}"
version = "0.3.0"

[project.entry-points."webos.modules"]
{name} = "webos_{name}.plugin"
"""

BASE_FILES = {
    "__init__.py": '"""A module made by a test."""\n__version__ = "0.3.0"\n',
    "plugin.py": """
        from webos_common.modules.manifest import NavEntry

        def webos_register_ui():
            return [NavEntry(label="Hello", path="/m/hello")]
    """,
    "models.py": """
        from webos_common.documents import OwnedDocument

        class Greeting(OwnedDocument):
            text: str
    """,
    "router.py": """
        from fastapi import APIRouter
        from webos_common.documents import BeanieRepository
        from webos_NAME.models import Greeting

        router = APIRouter()

        @router.post("/greetings", status_code=201)
        async def create(body: dict) -> dict:
            doc = await BeanieRepository(Greeting).insert(Greeting(text=str(body.get("text", ""))))
            return {"id": str(doc.id), "owner_id": doc.owner_id}

        @router.get("/greetings")
        async def list_() -> dict:
            return {"total": await BeanieRepository(Greeting).count()}
    """,
    "router_public.py": """
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/ping")
        async def ping() -> dict:
            return {"pong": True}
    """,
    "migrations/0001_count_runs.py": """
        async def up(db):
            await db["NAME_runs"].insert_one({"migration": "0001"})
    """,
}


@pytest.fixture
def modules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "modules"
    folder.mkdir()
    return folder


@pytest.fixture
def make_module(modules_dir: Path) -> Callable[..., str]:
    def make(files: dict[str, str | None] | None = None, name: str | None = None) -> str:
        name = name or f"m{uuid.uuid4().hex[:8]}"
        root = modules_dir / name
        package = root / "src" / f"webos_{name}"
        (root / "pyproject.toml").parent.mkdir(parents=True)
        (root / "pyproject.toml").write_text(PYPROJECT.format(name=name))
        for path, text in {**BASE_FILES, **(files or {})}.items():
            if text is None:
                continue
            target = package / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).replace("NAME", name))
        return name

    return make
