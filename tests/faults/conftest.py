"""The fault suite's real parts: the reference Metrana server and training processes, each
its own process that the tests kill (SIGKILL) and start again.

- ``MetranaProcess``: ``python tests/metrana_server --state FILE --port P``; the state file
  survives a kill, so a restarted server on the same port holds what it acknowledged.
- ``Trainer``: ``trainer.py`` with a JSON plan; it reports one JSON object per line.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "tests" / "metrana_server"))
sys.path.insert(0, str(ROOT / "python" / "tests"))

from server import MetranaServer  # noqa: E402

TRAINER = Path(__file__).parent / "trainer.py"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Lines:
    """A process's stdout, line by line, read by a thread (so reads can time out)."""

    def __init__(self, stream: Any) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []

        def pump() -> None:
            for line in stream:
                self.queue.put(line)
            self.queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def next(self, timeout: float) -> str | None:
        line = self.queue.get(timeout=timeout)
        if line is not None:
            self.seen.append(line)
        return line


class MetranaProcess:
    """The reference Metrana server in a process of its own."""

    def __init__(self, state: Path, *args: str) -> None:
        self.state = state
        self.args = args
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "metrana_server"), "--state", str(self.state),
             "--port", str(self.port), *self.args],
            stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("READY "), line
        self.port = int(line.split()[1])

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stored(self) -> MetranaServer:
        """What the server has applied (read from its state file; not a server)."""
        return MetranaServer(self.state)

    def points(self, metric: str, run_name: str | None = None) -> list[tuple[int, float]]:
        if not self.state.exists():
            return []
        try:
            return [(p[0], p[1]) for p in self.stored().points(metric, run_name=run_name)]
        except AssertionError:
            return []


class Trainer:
    """``trainer.py`` with a plan, its JSON lines, and a kill switch."""

    def __init__(self, plan: dict[str, Any], env: dict[str, str] | None = None) -> None:
        # The plan's spool_dir, not the test session's TELEMETRON_SPOOL_DIR (which would win).
        base = {k: v for k, v in os.environ.items() if k != "TELEMETRON_SPOOL_DIR"}
        self.process = subprocess.Popen(
            [sys.executable, str(TRAINER), json.dumps(plan)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**base, **(env or {})},
        )  # fmt: skip
        assert self.process.stdout is not None
        self.lines = Lines(self.process.stdout)

    def expect(self, key: str, timeout: float = 120) -> dict[str, Any]:
        """The next line that has ``key``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {key!r} from the trainer; saw {self.lines.seen}")
            try:
                line = self.lines.next(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the trainer exited before {key!r}; saw {self.lines.seen}")
            obj: dict[str, Any] = json.loads(line)
            if "error" in obj and key != "error":
                raise AssertionError(f"the trainer failed: {obj}")
            if key in obj:
                return obj

    def send(self, line: str = "") -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def finish(self, timeout: float = 120) -> dict[str, Any]:
        """The close report, after the trainer ran to its end."""
        report = self.expect("report", timeout)["report"]
        self.expect("done", timeout)
        self.process.wait(timeout=30)
        assert isinstance(report, dict)
        return report


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's spool directory (and no TELEMETRON_SPOOL_DIR, which would override it)."""
    monkeypatch.delenv("TELEMETRON_SPOOL_DIR", raising=False)
    d = tmp_path / "spool"
    d.mkdir()
    return d


@pytest.fixture
def metrana(tmp_path: Path) -> Iterator[MetranaProcess]:
    server = MetranaProcess(tmp_path / "state.json")
    yield server
    server.kill()


def metrana_exporter(server: MetranaProcess, **options: Any) -> dict[str, Any]:
    return {"type": "metrana", "endpoint": server.endpoint, "init_timeout_secs": 20, **options}


def settings(spool_dir: Path, run_name: str = "r", **more: Any) -> dict[str, Any]:
    """Run identity and fast spool recovery (a probe at most every second)."""
    return {"workspace": "w", "project": "p", "run_name": run_name, "orchestration_id": "job-1",
            "spool_dir": str(spool_dir), "spool_recovery_initial_backoff_secs": 0.2,
            "spool_recovery_max_backoff_secs": 1.0, "max_retries": 2,
            "retry_initial_backoff_secs": 0.05, "retry_max_backoff_secs": 0.2,
            **more}  # fmt: skip


def sync(spool_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``telemetron sync`` through the Python package's console entry point."""
    return subprocess.run(
        [sys.executable, "-m", "telemetron", "sync", str(spool_dir), *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
