"""Run the inventory module in a real module host (MongoDB and NATS from
webos_common's test fixtures); works installed or straight from the folder."""

from __future__ import annotations

import sys
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parents[1]
if str(MODULE_DIR / "src") not in sys.path:
    sys.path.insert(0, str(MODULE_DIR / "src"))

from webos_modulehost.testing import admin, client, issuer, module_app, person  # noqa: E402, F401 (fixtures)

app = module_app("inventory", modules_dir=MODULE_DIR.parent)
ann = person("ann", "inventory.read", "inventory.write")
ben = person("ben", "inventory.read", "inventory.write")
