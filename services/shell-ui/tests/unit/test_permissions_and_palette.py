from webos_common.identity import User
from webos_common.modules.manifest import ModuleManifest, NavEntry, PaletteCommand, Widget
from webos_shell import palette_items, permissions

MANIFEST = ModuleManifest(
    name="tasks", instance_id="i1", base_url="http://127.0.0.1:1",
    nav=[NavEntry(label="Tasks", path="/m/tasks", permission="tasks.read"),
         NavEntry(label="Reports", path="/m/tasks/reports", permission="tasks.admin", order=5)],
    commands=[PaletteCommand(id="open", label="My open tasks", path="/m/tasks?status=todo", permission="tasks.read"),
              PaletteCommand(id="new", label="New task", action="form", collection="tasks", permission="tasks.write"),
              PaletteCommand(id="purge", label="Purge trash", action="api", path="/api/tasks/trash",
                             permission="tasks.admin")],
    widgets=[Widget(id="w", title="Open", endpoint="/api/tasks/stats", permission="tasks.read")],
)
READER = User(id="r", username="reader", permissions=("tasks.read",))
WRITER = User(id="w", username="writer", permissions=("tasks.*",))
ADMIN = User(id="a", username="admin", roles=("admin",))
NOBODY = User(id="n", username="nobody")


def test_navigation_and_commands_follow_permissions() -> None:
    assert [e.label for e in permissions.navigation(READER, [MANIFEST])] == ["Tasks"]
    assert [e.label for e in permissions.navigation(ADMIN, [MANIFEST])] == ["Reports", "Tasks"]
    assert permissions.navigation(NOBODY, [MANIFEST]) == []
    assert [c.id for _, c in permissions.commands(READER, [MANIFEST])] == ["open"]
    assert [c.id for _, c in permissions.commands(WRITER, [MANIFEST])] == ["open", "new", "purge"]
    assert permissions.widgets(NOBODY, [MANIFEST]) == []


def test_admin_urls_need_an_admin() -> None:
    assert not permissions.admin_path_allowed(WRITER, "/admin/modules")
    assert not permissions.admin_path_allowed(WRITER, "/admin")
    assert permissions.admin_path_allowed(WRITER, "/administrivia")
    assert permissions.admin_path_allowed(ADMIN, "/admin/users")


def test_palette_offers_only_what_is_permitted() -> None:
    reader_items = palette_items.build(READER, [MANIFEST])
    labels = {i.label for i in reader_items}
    assert "My open tasks" in labels and "New task" not in labels and "Module manager" not in labels
    admin_labels = {i.label for i in palette_items.build(ADMIN, [MANIFEST])}
    assert {"New task", "Purge trash", "Module manager", "Reports"} <= admin_labels


def test_palette_search_finds_my_open_tasks_first() -> None:
    items = palette_items.build(WRITER, [MANIFEST])
    found = palette_items.search("my open", items)
    assert found[0].label == "My open tasks" and found[0].path == "/m/tasks?status=todo"
    new = palette_items.search("new t", items)[0]
    assert (new.action, new.module, new.collection) == ("form", "tasks", "tasks")


def test_recent_items_lead_an_empty_query_and_admin_ones_stay_hidden() -> None:
    recent = palette_items.remember([], "/m/tasks/board", "Board")
    recent = palette_items.remember(recent, "/admin/logs", "Logs")
    recent = palette_items.remember(recent, "/m/tasks/board", "Board")
    assert [r["path"] for r in recent] == ["/m/tasks/board", "/admin/logs"]
    items = palette_items.build(READER, [MANIFEST], recent)
    assert palette_items.search("", items)[0].label == "Board"
    assert "/admin/logs" not in {i.path for i in items}


def test_palette_offers_files_to_everyone_and_module_admin_pages_to_admins_allowed() -> None:
    from webos_common.modules.manifest import AdminPage

    manifest = MANIFEST.model_copy(update={"admin_pages": [
        AdminPage(label="Tasks overview", path="/admin/m/tasks", permission="tasks.admin"),
        AdminPage(label="Audit export", path="/admin/m/tasks/audit", permission="audit.read")]})
    assert "Files" in {i.label for i in palette_items.build(NOBODY, [manifest])}
    assert "Tasks overview" not in {i.label for i in palette_items.build(WRITER, [manifest])}  # not an admin
    limited = User(id="l", roles=("admin",))  # admins hold every permission
    found = palette_items.search("tasks overview", palette_items.build(limited, [manifest]))
    assert found[0].path == "/admin/m/tasks" and found[0].group == "Admin"


def test_kernel_commands_theme_sign_out_and_a_new_record_of_each_writable_collection() -> None:
    from webos_common.modules.manifest import Collection

    manifest = MANIFEST.model_copy(update={"collections": [
        Collection(name="tasks", label="Tasks", endpoint="/api/tasks/tasks", model="T", create_model="C",
                   permission_write="tasks.write"),
        Collection(name="notes", label="Notes", endpoint="/api/tasks/notes", model="N", create_model="NC",
                   permission_write="tasks.write"),
        Collection(name="logs", label="Logs", endpoint="/api/tasks/logs", model="L")]})  # nothing to create with
    labels = [i.label for i in palette_items.build(WRITER, [manifest])]
    assert labels.count("New task") == 1  # the module's own command, not a second one
    assert "New note" in labels and "New log" not in labels
    assert "New note" not in {i.label for i in palette_items.build(READER, [manifest])}
    note = palette_items.search("new note", palette_items.build(WRITER, [manifest]))[0]
    assert (note.action, note.module, note.collection) == ("form", "tasks", "notes")
    theme = palette_items.search("dark", palette_items.build(NOBODY, []))[0]
    assert theme.action == "theme"
    sign_out = palette_items.search("sign uot", palette_items.build(NOBODY, []))[0]  # a typo
    assert (sign_out.label, sign_out.path) == ("Sign out", "/logout")
    assert palette_items.remember([], "/logout", "Sign out") == []
