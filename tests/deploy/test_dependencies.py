"""Each workspace package declares what it imports: an image installs only
its package's declared dependencies (docker/build-wheels.sh), so an import
a package does not declare would fail in its container, though it passes
here where one environment holds everything."""

from __future__ import annotations

import pytest

from .imports import imported, packages, undeclared

PACKAGES = packages()


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_the_package_declares_every_import(dist: str) -> None:
    assert imported(PACKAGES[dist]), f"{dist}: the scan found no import at all"
    missing = undeclared(PACKAGES[dist])
    assert not missing, f"{dist} imports without declaring: " + ", ".join(
        f"{module} (from {' or '.join(sorted(dists)) or 'nothing installed'})" for module, dists in missing.items())


def test_the_kernel_images_carry_no_module_and_no_ui_stack() -> None:
    """What the issue found in the gateway image (nicegui, plotly, botocore) is no longer
    declared by anything the gateway installs."""
    from .imports import declared

    gateway = declared(PACKAGES["webos-gateway"]) | declared(PACKAGES["webos-common"])
    assert not gateway & {"nicegui", "plotly", "botocore", "aioboto3", "moto", "webos-tasks", "webos-modulehost"}
