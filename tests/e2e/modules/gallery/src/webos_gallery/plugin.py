"""Hook implementations: a page, an admin view, a sidebar counter and a data source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from webos_common.modules.manifest import AdminPage, NavEntry
from webos_common.modules.shell_sdk import ShellComponent
from webos_gallery.source import PhotoArchive


def webos_register_ui() -> list[NavEntry]:
    return [NavEntry(label="Gallery", path="/m/gallery/wall", icon="photo_library", order=30)]


def webos_register_admin_ui() -> list[AdminPage]:
    return [AdminPage(label="Gallery admin", path="/admin/m/gallery")]


def webos_register_shell_components() -> list[ShellComponent]:
    return [ShellComponent(name="wall", target="webos_gallery.views:wall", label="Wall"),
            ShellComponent(name="admin", target="webos_gallery.views:admin"),
            ShellComponent(name="counter", target="webos_gallery.views:counter", slot="sidebar")]


def webos_register_data_sources(settings: Any) -> list[PhotoArchive]:
    return [PhotoArchive("gallery", Path(os.environ["WEBOS_GALLERY_ROOT"]))]
