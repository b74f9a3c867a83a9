from __future__ import annotations

from webos_modulehost.testing import admin, client, issuer, module_app, person  # noqa: F401 (fixtures)

# Tests drive the scheduler themselves; the module's views run in a browser (tests/e2e).
app = module_app("tasks", env={"WEBOS_SCHEDULER": "false", "WEBOS_MODULE_UI": "false"})
alice = person("alice", "tasks.read", "tasks.write")
bob = person("bob", "tasks.read", "tasks.write")
