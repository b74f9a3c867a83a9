"""Finding a module's collection and its schemas in the live registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webos_common.modules.manifest import Collection, ModuleManifest
from webos_shell import runtime
from webos_shell.collection_api import CollectionApi


@dataclass
class CollectionRef:
    manifest: ModuleManifest
    collection: Collection

    @property
    def api(self) -> CollectionApi:
        return CollectionApi.of(self.manifest, self.collection)

    def schema(self, which: str = "model") -> dict[str, Any]:
        name = {"create": self.collection.create_model, "update": self.collection.update_model}.get(which)
        models = self.manifest.models
        schema = models.get(name or self.collection.model) or models.get(self.collection.model) or {}
        return schema


def find(module: str, collection: str | None = None) -> CollectionRef | None:
    rt = runtime.get()
    if rt.registry is None or not rt.registry.is_enabled(module):
        return None
    manifest = rt.registry.manifest(module)
    if manifest is None or not manifest.collections:
        return None
    for item in manifest.collections:
        if collection is None or item.name == collection:
            return CollectionRef(manifest, item)
    return None
