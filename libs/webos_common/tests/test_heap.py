"""The allocator tuning a service applies before it serves: glibc takes it."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")

PROBE = "from webos_common.http.heap import tune_allocator; print(tune_allocator())"


def run(env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()


def test_glibc_takes_the_thresholds() -> None:
    assert run({}) == "True"

