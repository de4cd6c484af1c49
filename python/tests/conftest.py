"""Fixtures: each test gets a fresh runtime writing to its own JSON Lines file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import telemetron


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of a file exporter's output, without the header line."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line["kind"] != "header"]


def run_python(code: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs a dedented snippet in a fresh interpreter (the hang guard is `timeout`)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(autouse=True)
def own_spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Network exporters spool to disk by default, and a run's spool (and step journal) is
    picked up by the next process of the same run: each test gets a spool directory of its
    own, so one test's leftovers never reach another."""
    monkeypatch.setenv("TELEMETRON_SPOOL_DIR", str(tmp_path / "spool"))


@pytest.fixture(autouse=True)
def no_runtime_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that fails half-way must not leave its runtime to the next one (whose
    `configure` would then refuse to start); module-scoped runtimes (`fuzz_runtime`) stay."""
    yield
    if telemetron.is_configured() and "fuzz_runtime" not in request.fixturenames:
        telemetron.shutdown()


@pytest.fixture
def out(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "run.jsonl"
    telemetron.configure(exporters=[{"type": "file", "path": str(path)}])
    yield path
    telemetron.shutdown()


@pytest.fixture
def records(out: Path) -> Callable[[], list[dict[str, Any]]]:
    """Shut the runtime down and return what the file exporter wrote."""

    def finish() -> list[dict[str, Any]]:
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"] == [], report
        return read_records(out)

    return finish
