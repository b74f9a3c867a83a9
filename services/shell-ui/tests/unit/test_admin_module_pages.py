"""Modules' admin pages in the admin panel: who sees which page, and which
admin API routes the generic view shows."""

from __future__ import annotations

from webos_common.identity import User
from webos_common.modules.manifest import AdminPage, ModuleManifest
from webos_shell import admin
from webos_shell.admin import module_pages

TASKS = ModuleManifest(
    name="tasks", instance_id="i1", base_url="http://127.0.0.1:1",
    admin_pages=[AdminPage(label="Tasks overview", path="/admin/m/tasks", permission="tasks.admin"),
                 AdminPage(label="Tasks queue", path="/admin/m/tasks/queue", permission="tasks.queue"),
                 AdminPage(label="Open to any admin", path="/admin/m/tasks/open")],
    routes=[{"path": "/api/tasks/tasks", "methods": ["GET", "POST"]},
            {"path": "/api/tasks/admin/stats", "methods": ["GET"]},
            {"path": "/api/tasks/admin/purge", "methods": ["POST"]},
            {"path": "/api/tasks/admin/users/{user_id}", "methods": ["GET"]},
            {"path": "/api/tasks/admin/queue/depth", "methods": ["GET", "HEAD"]},
            {"path": "/api/tasks/administrivia", "methods": ["GET"]},
            {"path": "/api/notes/admin/stats", "methods": ["GET"]}],
)
NOTES = ModuleManifest(name="notes", instance_id="i2", base_url="http://127.0.0.1:2",
                       admin_pages=[AdminPage(label="Notes", path="/admin/m/notes")])
ADMIN = User(id="a", username="admin", roles=("admin",))
STAR = User(id="s", username="star", permissions=("*",))
TASK_ADMIN = User(id="t", username="t", permissions=("tasks.admin", "tasks.queue"))  # not a panel admin
MEMBER = User(id="m", username="member", permissions=("tasks.read",))


def test_an_admin_sees_every_module_page_in_module_order() -> None:
    seen = admin.visible_pages(ADMIN, [TASKS, NOTES])
    assert [(module, page.label) for module, page in seen] == [
        ("tasks", "Tasks overview"), ("tasks", "Tasks queue"), ("tasks", "Open to any admin"), ("notes", "Notes")]
    assert admin.visible_pages(STAR, [TASKS]) == admin.visible_pages(ADMIN, [TASKS])


def test_people_outside_the_admin_panel_see_no_module_page() -> None:
    assert admin.visible_pages(MEMBER, [TASKS, NOTES]) == []
    assert admin.visible_pages(TASK_ADMIN, [TASKS, NOTES]) == []  # the panel needs an admin first
    assert admin.visible_pages(ADMIN, []) == []


def test_a_page_permission_is_checked() -> None:
    page = AdminPage(label="x", path="/admin/m/x", permission="x.admin")
    assert admin.allowed(ADMIN, page)
    assert not admin.allowed(MEMBER, page)
    assert admin.allowed(ADMIN, AdminPage(label="y", path="/admin/m/y"))


def test_a_shell_path_belongs_to_the_longest_announced_page() -> None:
    assert module_pages.page_for(TASKS, "/admin/m/tasks").label == "Tasks overview"
    assert module_pages.page_for(TASKS, "/admin/m/tasks/").label == "Tasks overview"
    assert module_pages.page_for(TASKS, "/admin/m/tasks/queue/x").label == "Tasks queue"
    assert module_pages.page_for(TASKS, "/admin/m/tasks/queued").label == "Tasks overview"
    assert module_pages.page_for(NOTES, "/admin/m/notesy") is None


def test_the_generic_view_shows_parameterless_admin_gets_only() -> None:
    assert module_pages.admin_routes(TASKS) == ["/api/tasks/admin/stats", "/api/tasks/admin/queue/depth"]
    assert module_pages.admin_routes(TASKS, "queue") == ["/api/tasks/admin/queue/depth"]
    assert module_pages.admin_routes(TASKS, "/stats/") == ["/api/tasks/admin/stats"]
    assert module_pages.admin_routes(TASKS, "nothing") == []
    assert module_pages.admin_routes(NOTES) == []
    assert module_pages.route_title(TASKS, "/api/tasks/admin/queue/depth") == "Queue depth"
    assert module_pages.route_title(TASKS, "/api/tasks/admin/in_progress") == "In progress"


def test_an_answer_becomes_key_value_rows() -> None:
    rows = module_pages.table_rows({"in_progress": 3, "name": "x", "by_user": {"a_b": 1}, "tags": ["p", "q"],
                                    "none": None, "on": True})
    assert rows == [{"key": "In progress", "value": "3"}, {"key": "Name", "value": "x"},
                    {"key": "By user", "value": "A b: 1"}, {"key": "Tags", "value": "p, q"},
                    {"key": "None", "value": "—"}, {"key": "On", "value": "Yes"}]
    assert module_pages.table_rows({}) == []
    assert module_pages.table_rows([{"a": 1}]) is None
    assert module_pages.table_rows(None) is None
