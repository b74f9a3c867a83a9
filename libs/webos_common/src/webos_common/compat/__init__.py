"""The only place WebOS touches other libraries' private code: one module per library.

A patch stays only where a benchmark in `bench/` shows it is needed for a
stated goal (`bench/README.md` names the goal and the figures with and without
it), or where the library has no public way to do what WebOS needs (`nicegui`: where a
person's `app.storage.user` is kept); everything else uses the libraries' public APIs.
Each module names the release it was written against (`TESTED`); `applies()` is false
on any other release, and then WebOS runs on the library's own code (slower, or for
`nicegui` sessions kept per replica: never wrong).
`libs/webos_common/tests/test_compat.py` fails loudly when a pinned release
moves, so an upgrade is a decision, not a surprise.
"""

from __future__ import annotations

from importlib.metadata import version


def release_is(distribution: str, tested: str) -> bool:
    """True when the installed `distribution` is the release `tested` (`major.minor`) names."""
    installed = version(distribution).split(".")
    return installed[: len(tested.split("."))] == tested.split(".")
