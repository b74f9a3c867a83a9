import os
import tempfile

# NiceGUI reads this at import: keep its storage out of the working tree.
os.environ.setdefault("NICEGUI_STORAGE_PATH", tempfile.mkdtemp(prefix="shell-storage-"))
