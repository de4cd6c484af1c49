"""Processes for the relay tests: ``telemetron relay`` (the console script) with its stderr
log followed line by line, and producer processes that record through the Kafka exporter
(``encoding: telemetron``) as the ranks of one job."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from pathlib import Path
from typing import Any

TELEMETRON = str(Path(sys.executable).with_name("telemetron"))
TOPIC = "telemetron_records"
JOB = "job-7"


def key_partition(run_name: str, logger_id: int, partitions: int) -> int:
    """The partition the Kafka exporter's ``key: run`` (``<run_name>/<logger_id>``) lands in:
    librdkafka's default partitioner (``consistent_random``) is CRC-32 of the key."""
    return zlib.crc32(f"{run_name}/{logger_id}".encode()) % partitions


def spread_run_name(loggers: list[int], partitions: int = 4) -> str:
    """A run name whose ranks' keys fall in partitions {0, 3} or {1, 2} among others: any two
    relays of a group (range or round-robin assignment of 4 partitions) both get a rank."""
    for n in range(1000):
        name = f"spread-{n}"
        used = {key_partition(name, logger, partitions) for logger in loggers}
        if {0, 3} <= used or {1, 2} <= used:
            return name
    raise AssertionError("no run name spreads the ranks")


class Relay:
    """``telemetron relay --config FILE``; ``lines`` is its stderr so far."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen(
            [TELEMETRON, "relay", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def assigned(self) -> list[int] | None:
        """The partitions of the latest assignment, None before the first."""
        with self._cond:
            found = [line for line in self.lines if "partitions assigned:" in line]
        if not found:
            return None
        return [int(p) for p in re.findall(r"\[(\d+)\]", found[-1].split("assigned:")[1])]

    def wait_for(self, what: str, condition: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"relay exited ({self.proc.returncode}):\n{self.log()}")
            with self._cond:
                self._cond.wait(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")

    def stop(self, timeout: float = 60, sig: int = signal.SIGTERM) -> dict[str, int]:
        """SIGTERM (or Ctrl-C's SIGINT): the relay delivers, commits and exits 0 with its
        report on stdout."""
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, f"exit {self.proc.returncode}:\n{self.log()}"
        report: dict[str, int] = json.loads(out.strip().splitlines()[-1])
        return report

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


PRODUCER = """
import sys, time
import telemetron

bootstrap, run_name, logger_id, count, pace, job = sys.argv[1:]
logger_id, count, pace = int(logger_id), int(count), float(pace)
telemetron.configure(
    exporters=[{"type": "kafka", "brokers": bootstrap, "encoding": "telemetron"}],
    workspace="w", project="p", run_name=run_name, orchestration_id=job,
    logger_id=logger_id, batch_max_age_secs=0.05,
)
log = telemetron.get_logger("worker")
for i in range(count):
    with telemetron.timed_span("step", span_attributes={"rank": logger_id, "i": i}):
        telemetron.log("loss", float(i), labels={"rank": str(logger_id)})
    if i % 10 == 0:
        log.info("progress", {"rank": logger_id, "i": i})
    if pace:
        time.sleep(pace)
report = telemetron.shutdown(timeout=60)
assert report is not None and report["undelivered"] == [], report
"""


def producer(bootstrap: str, run_name: str, logger_id: int, count: int, pace: float = 0.0) -> Any:
    """A rank of job ``JOB`` recording ``count`` steps: a span (rank, i), a ``loss`` point
    (labels rank) and every tenth step a log record."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PRODUCER), bootstrap, run_name,
         str(logger_id), str(count), str(pace), JOB],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(proc: Any, timeout: float = 120) -> None:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out + err


def write_config(path: Path, relay: dict[str, Any], exporters: list[dict[str, Any]],
                 **settings: Any) -> Path:  # fmt: skip
    """A relay config file (JSON is YAML)."""
    path.write_text(json.dumps({"relay": relay, "exporters": exporters, **settings}, indent=1))
    return path
