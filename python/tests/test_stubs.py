"""The .pyi stub matches the native module (mypy's stubtest)."""

from __future__ import annotations

import subprocess
import sys


def test_stub_matches_the_native_module():
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "telemetron._native", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "-p", "telemetron"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
