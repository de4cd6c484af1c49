"""examples/training_telemetry.py runs both entry points into one file, with system metrics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import read_records

EXAMPLE = Path(__file__).parents[2] / "examples" / "training_telemetry.py"


def test_the_training_example_records_both_libraries_and_system_metrics(tmp_path: Path) -> None:
    out = tmp_path / "training.jsonl"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--steps", "100", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "undelivered: []" in result.stdout
    records = read_records(out)
    apps = [r for r in records if r["kind"] == "span_start" and r["name"] == "application"]
    assert len(apps) == 2, "telemetron.training and OneLogger each record an application"
    updates = [r for r in records if r.get("name") == "training_metrics_update"]
    # Every 20 iterations natively, every 50 (OneLogger's default) through OneLogger.
    assert len(updates) == 5 + 2
    assert len({u["span_id"] for u in updates}) == 2
    names = {r["name"] for r in records if r["kind"] == "metric"}
    assert {"train/iteration_time_sec", "system/cpu_percent", "checkpoint/save_time_sec"} <= names
    successes = [r for r in records if r.get("name") == "save_checkpoint_success"]
    assert [s["span_id"] for s in successes] == [apps[0]["span_id"]] * 2
