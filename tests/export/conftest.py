"""Shared gates of the export tests: a host C compiler, and the Cortex-M4 toolchain (the ``mcu`` tier)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from biowear.export import build

needs_cc = pytest.mark.skipif(
    shutil.which(os.environ.get("CC", "cc")) is None or shutil.which("make") is None,
    reason="no host C compiler (cc) or make on PATH",
)


@pytest.fixture
def mcu_toolchain() -> None:
    """Skip (or, with BIOWEAR_REQUIRE_MCU=1, fail) without the cross compiler, newlib or QEMU."""
    missing = [t for t in ("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm") if not shutil.which(t)]
    if not missing:
        lib = subprocess.run(
            ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-print-file-name=librdimon.a"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        if not os.path.isabs(lib):
            missing.append("newlib (librdimon.a)")
    if missing:
        msg = f"Cortex-M4 toolchain missing: {', '.join(missing)} (apt install {build.APT_PACKAGES})"
        if os.environ.get("BIOWEAR_REQUIRE_MCU") == "1":
            pytest.fail(msg + " but BIOWEAR_REQUIRE_MCU=1")
        pytest.skip(msg)
