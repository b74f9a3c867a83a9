"""Hook implementations: what conventions cannot say (the shell's view of tasks)."""

from __future__ import annotations

from pydantic import BaseModel

from webos_common.modules.hooks import CollectionSpec
from webos_common.modules.manifest import NavEntry, PaletteCommand, PermissionSpec, Widget
from webos_common.modules.shell_sdk import ShellComponent
from webos_tasks.models import TaskCreate, TaskRead, TaskSettings, TaskUpdate


def webos_register_ui() -> list[NavEntry | Widget]:
    return [
        NavEntry(label="Tasks", path="/m/tasks", icon="task_alt", permission="tasks.read", order=20),
        NavEntry(label="Assigned to me", path="/m/tasks?assigned=me", icon="assignment_ind",
                 permission="tasks.read", order=21),
        Widget(id="tasks.open", title="My open tasks", kind="list", endpoint="/api/tasks/widget",
               permission="tasks.read"),
    ]


def webos_register_commands() -> list[PaletteCommand]:
    return [
        PaletteCommand(id="tasks.new", label="New task", keywords=["add", "todo", "create"], action="form",
                       collection="tasks", permission="tasks.write"),
        PaletteCommand(id="tasks.mine", label="My open tasks", keywords=["todo", "open", "list"],
                       action="navigate", path="/m/tasks?status=todo", permission="tasks.read"),
    ]


def webos_declare_permissions() -> list[PermissionSpec]:
    # every registered person may keep their own task list from the first day
    return [
        PermissionSpec(name="tasks.read", description="See one's own tasks and those shared with or assigned "
                       "to one", default=True),
        PermissionSpec(name="tasks.write", description="Create tasks and change, share and assign the ones "
                       "one may write", default=True),
        PermissionSpec(name="tasks.admin", description="Administer the tasks module (its admin page)"),
    ]


def webos_declare_emitted_events() -> list[str]:
    return ["notification:send"]  # due-date reminders to each task's owner


def webos_register_settings() -> type[BaseModel]:
    return TaskSettings


def webos_register_collections() -> list[CollectionSpec]:
    return [CollectionSpec(name="tasks", label="Tasks", path="/tasks", read=TaskRead, create=TaskCreate,
                           update=TaskUpdate)]


def webos_register_shell_components() -> list[ShellComponent]:
    # a string target: the module host announces it without importing NiceGUI code
    return [ShellComponent(name="board", target="webos_tasks.shell:board", label="Board", icon="view_kanban",
                           collection="tasks", permission="tasks.read"),
            ShellComponent(name="open_count", target="webos_tasks.shell:open_count", collection="tasks",
                           permission="tasks.read", slot="sidebar"),
            ShellComponent(name="record_actions", target="webos_tasks.shell:record_actions", label="Workflow",
                           collection="tasks", permission="tasks.read", slot="record")]
