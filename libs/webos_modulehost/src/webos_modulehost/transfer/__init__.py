"""Import and export for every collection a module announces: CSV and Excel
files in (mapping, dry run, a background import) and the whole filtered list
out (streamed, or to the person's files in the background). `routes.py` says
what the host serves; the shell only drives it."""

from webos_modulehost.transfer import jobs
from webos_modulehost.transfer.routes import router_for

__all__ = ["jobs", "router_for"]
