"""How to change a collection's rows, read from the routes its module
announced (pure). A field the update model has is PATCHed; a field only
a `…/{id}/move` route changes (the tasks module's `status`) goes there;
bulk edits use `POST …/bulk/<field>` (`{"ids", <field>}`) or a generic
`PATCH …/bulk` (`{"ids", "changes"}`) — always one request."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from webos_common.modules.manifest import Collection, ModuleManifest

Request = tuple[str, str, dict[str, Any]]
_PARAM = re.compile(r"\{[^}]+\}")


def record_noun(collection: Collection) -> str:
    """What one record of the collection is called: "Tasks" -> "task"."""
    return collection.label.rstrip("s").lower()


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path.rstrip("/"))


@dataclass
class CollectionApi:
    endpoint: str
    routes: set[tuple[str, str]] = field(default_factory=set)
    update_fields: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, manifest: ModuleManifest, collection: Collection) -> CollectionApi:
        routes = {(m.upper(), _shape(r.get("path", ""))) for r in manifest.routes for m in r.get("methods", [])}
        update = manifest.models.get(collection.update_model or "", {}).get("properties", {})
        return cls(collection.endpoint.rstrip("/"), routes, set(update))

    def has(self, method: str, suffix: str) -> bool:
        return (method, _shape(self.endpoint + suffix)) in self.routes

    @property
    def move_route(self) -> bool:
        return self.has("POST", "/{}/move")

    def update(self, row_id: str, name: str, value: Any) -> Request:
        if name not in self.update_fields and self.move_route:
            return "POST", f"{self.endpoint}/{row_id}/move", {name: value}
        return "PATCH", f"{self.endpoint}/{row_id}", {name: value}

    def action(self, row_id: str, name: str, reason: str = "") -> Request | None:
        """A workflow action a record offers (its read model's `actions`): its own route
        (`POST …/{id}/<name>`), else the collection's `POST …/{id}/transition` (`{"action", "reason"}`);
        None when the module serves neither."""
        if self.has("POST", f"/{{}}/{name}"):
            return "POST", f"{self.endpoint}/{row_id}/{name}", {}
        if self.has("POST", "/{}/transition"):
            body: dict[str, Any] = {"action": name, **({"reason": reason} if reason else {})}
            return "POST", f"{self.endpoint}/{row_id}/transition", body
        return None

    def reasoned(self, name: str) -> bool:
        """Whether the action goes through `…/transition`, which takes a reason with it."""
        return not self.has("POST", f"/{{}}/{name}") and self.has("POST", "/{}/transition")

    def editable(self, name: str) -> bool:
        return name in self.update_fields or (self.move_route and name == "status")

    def bulk_fields(self) -> list[str]:
        prefix = _shape(self.endpoint + "/bulk") + "/"
        named = sorted(path[len(prefix):] for method, path in self.routes
                       if method == "POST" and path.startswith(prefix) and "{" not in path[len(prefix):])
        generic = sorted(self.update_fields) if self.has("PATCH", "/bulk") else []
        return named + [f for f in generic if f not in named]

    def bulk(self, ids: list[str], name: str, value: Any) -> Request:
        if self.has("POST", f"/bulk/{name}"):
            return "POST", f"{self.endpoint}/bulk/{name}", {"ids": ids, name: value}
        return "PATCH", f"{self.endpoint}/bulk", {"ids": ids, "changes": {name: value}}

    @property
    def board(self) -> str | None:
        return f"{self.endpoint}/board" if self.has("GET", "/board") else None
