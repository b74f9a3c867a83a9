"""The kernel services' permissions, declared in one place (as the NATS role table in
`nats_permissions` says what each does on the bus): auth lists them with the modules'
declarations at `/api/auth/permissions` and grants the `default` ones to the `user` role.
A service that checks a new permission declares it here."""

from __future__ import annotations

from webos_common.modules.manifest import PermissionSpec


def _group(group: str, *items: tuple[str, str]) -> list[PermissionSpec]:
    return [PermissionSpec(name=name, description=text, group=group) for name, text in items]


def _areas(*areas: tuple[str, str]) -> list[PermissionSpec]:
    """The kernel areas every person uses (`area_permission`): reads need `<area>.read`,
    changes `<area>.write`; granted to the `user` role by default (`PERSON_PERMISSIONS`)."""
    return [PermissionSpec(name=f"{area}.{action}", description=f"{verb} {text}", group=area, default=True)
            for area, text in areas for action, verb in (("read", "Read"), ("write", "Change"))]


KERNEL_PERMISSIONS: list[PermissionSpec] = [
    *_group("auth",
            ("auth.users.read", "See people, their roles and last sign-in"),
            ("auth.users.write", "Invite, create, disable and sign out people; reset passwords; assign roles"),
            ("auth.roles.read", "See roles, their permissions and the audit trail of changes"),
            ("auth.roles.write", "Create, rename and delete roles and choose their permissions"),
            ("auth.permissions.write", "Declare permissions on behalf of a module"),
            ("auth.keys.rotate", "Rotate the token signing keys"),
            ("auth.clients.write", "Register the apps that sign in with WebOS (OAuth clients)"),
            ("auth.mail.read", "Read the outgoing mail outbox (development mail backend)")),
    *_areas(("storage", "one's files in the file system"), ("settings", "one's own settings"),
            ("events", "one's notifications, event log and task progress")),
    *_group("storage",
            ("storage.admin", "See and set any person's storage quota")),
    *_group("settings",
            ("settings.admin", "Read and change system and every module's settings"),
            ("settings.secrets.read", "Reveal secret settings in clear")),
    *_group("events",
            ("notifications.send", "Send notifications to other people")),
]

# The first parts of the kernel's permission names: no module may declare under them.
KERNEL_PREFIXES: frozenset[str] = frozenset(spec.name.split(".", 1)[0] for spec in KERNEL_PERMISSIONS)
