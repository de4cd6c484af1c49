"""The spool on disk: an offline run delivered by ``telemetron sync`` (once), damaged segments
(flipped bytes, a file cut mid-frame), a spool that is full or unwritable, and what a process
killed with SIGKILL leaves in its file export and its spool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import telemetron
from conftest import MetranaProcess, Trainer, metrana_exporter, settings, sync

MAGIC = b"TSFR"


def segments(spool_dir: Path) -> list[Path]:
    return sorted(spool_dir.rglob("seg-*.tsp"))


def offline_run(spool_dir: Path, server: MetranaProcess, bursts: int, size: int) -> dict:
    """An offline run logging `bursts` bursts of `size` points of "loss", one frame each."""
    steps: list[list[object]] = [["offline"]]
    for b in range(bursts):
        steps += [["log", "loss", b * size, size], ["flush"]]
    steps.append(["shutdown", 30])
    trainer = Trainer(
        {"configure": {"exporters": [metrana_exporter(server)], **settings(spool_dir)},
         "steps": steps},
        env={"TELEMETRON_MODE": "offline"},
    )  # fmt: skip
    assert trainer.expect("offline")["offline"] is True
    return trainer.finish()


def test_an_offline_run_is_delivered_by_sync_once(metrana: MetranaProcess, spool_dir: Path) -> None:
    # Under a umask that lets everything through, the spool is still private to its owner.
    umask = os.umask(0)
    try:
        report = offline_run(spool_dir, metrana, bursts=5, size=200)
    finally:
        os.umask(umask)
    written = [p for p in spool_dir.rglob("*")]
    assert any(p.name.startswith("seg-") for p in written), written
    assert [p for p in written if p.stat().st_mode & 0o007] == []
    # No connection was made: the server has no run, the close report says where the data is.
    assert not metrana.state.exists() or metrana.stored().state["runs"] == {}
    (spooled,) = report["spooled"]
    assert spooled["exporter"] == "metrana" and spooled["records"] == 1000  # one per log call
    assert Path(spooled["path"]).is_relative_to(spool_dir)
    assert report["undelivered"] == []
    exporter = json.dumps(metrana_exporter(metrana))
    first = sync(spool_dir, "--exporter", exporter)
    assert first.returncode == 0, first.stderr
    assert "1000 records delivered" in first.stdout, first.stdout
    points = metrana.points("loss")
    assert points == [(i, float(i)) for i in range(1000)]
    assert metrana.stored().run()["closed"] is not None  # the deferred run was closed
    second = sync(spool_dir, "--exporter", exporter)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "nothing to sync"
    assert metrana.points("loss") == points


def test_damaged_frames_are_skipped_and_counted_and_the_rest_delivered(
    metrana: MetranaProcess, spool_dir: Path
) -> None:
    offline_run(spool_dir, metrana, bursts=6, size=100)
    (segment,) = segments(spool_dir)
    data = bytearray(segment.read_bytes())
    starts = [i for i in range(len(data)) if data[i : i + 4] == MAGIC]
    assert len(starts) == 6, starts  # one frame per burst
    # Flip bytes inside frame 2 (burst 1), and cut the file in the middle of frame 6 (burst 5).
    middle = (starts[1] + starts[2]) // 2
    data[middle : middle + 3] = bytes(b ^ 0xFF for b in data[middle : middle + 3])
    del data[(starts[5] + len(data)) // 2 :]
    segment.write_bytes(bytes(data))
    result = sync(spool_dir, "--exporter", json.dumps(metrana_exporter(metrana)))
    assert result.returncode == 0, result.stderr
    assert "2 bad frames skipped" in result.stdout, result.stdout
    kept = [b for b in range(6) if b not in (1, 5)]
    expected = [(s, float(s)) for b in kept for s in range(b * 100, b * 100 + 100)]
    assert metrana.points("loss") == expected
    assert segments(spool_dir) == []


def test_replay_spool_accepts_metranas_keyword_names(
    metrana: MetranaProcess, spool_dir: Path
) -> None:
    offline_run(spool_dir, metrana, bursts=2, size=10)
    report = telemetron.replay_spool(
        spool_dir, workspace_name="w", project_name="p", run_name="r",
        ingestion_url=metrana.endpoint, api_key="k", timeout_secs=60,
    )  # fmt: skip
    assert report["delivered"] == 20 and report["remaining_bytes"] == 0, report
    assert metrana.points("loss") == [(i, float(i)) for i in range(20)]
    assert telemetron.replay_spool(spool_dir, ingestion_url=metrana.endpoint)["spools"] == []


@pytest.mark.parametrize("policy", ["tolerate_loss", "all_or_crash"])
def test_a_full_spool_is_counted_or_stops_the_job_as_the_policy_says(
    metrana: MetranaProcess, spool_dir: Path, policy: str
) -> None:
    bursts = [step for i in range(10) for step in (["log", "loss", 10 + i * 10_000, 10_000],
                                                    ["flush"])]  # fmt: skip
    trainer = Trainer({
        "configure": {"exporters": [metrana_exporter(metrana)],
                      **settings(spool_dir, spool_max_bytes=1 << 20, delivery_policy=policy,
                                 spool_compression="none")},
        "steps": [["log", "loss", 0, 10], ["flush"], ["stdin"], *bursts,
                  ["log", "loss", 100_010, 1], ["metrics"], ["shutdown", 20]],
    })  # fmt: skip
    trainer.expect("waiting")
    metrana.kill()
    trainer.send()
    if policy == "tolerate_loss":
        metrics = trainer.expect("metrics")["metrics"]
        counts = metrics["exporters"]["metrana"]["metric"]
        assert counts["dropped"] > 0 and counts["spooled"] > 0, counts
        report = trainer.finish()  # the job went on to its end
        (lost,) = report["undelivered"]
        assert "spool full" in lost["reason"], lost
    else:
        error = trainer.expect("error")["error"]
        assert error.startswith("ExporterError") and "spool full" in error, error
        assert "all_or_crash" in error
        trainer.process.kill()


def test_an_unwritable_spool_dir_is_a_clear_error_when_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEMETRON_SPOOL_DIR", raising=False)
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    with pytest.raises(telemetron.ConfigError, match="spool_dir|spool"):
        telemetron.configure(
            exporters=[{"type": "otlp", "endpoint": "http://127.0.0.1:9"}],
            spool_dir=str(blocked / "spool"), run_name="r",
        )  # fmt: skip


def test_after_kill_9_the_file_export_and_the_spool_frames_read_back(
    metrana: MetranaProcess, spool_dir: Path, tmp_path: Path
) -> None:
    export = tmp_path / "run.jsonl"
    file_exporter = {"type": "file", "path": str(export)}
    trainer = Trainer({
        "configure": {"exporters": [metrana_exporter(metrana), file_exporter],
                      **settings(spool_dir)},
        "steps": [["log", "loss", 0, 10], ["flush"], ["stdin"], ["log", "loss", 10, 500],
                  ["flush"], ["stdin"]],
    })  # fmt: skip
    trainer.expect("waiting")
    metrana.kill()
    trainer.send()
    trainer.expect("waiting")
    trainer.kill()
    # The file export: every record flushed before the kill, as the reader sees it.
    inspected = subprocess.run(
        [sys.executable, "-m", "telemetron", "inspect", str(export), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert inspected.returncode == 0, inspected.stderr
    series = json.loads(inspected.stdout)["metrics"]
    (loss,) = [s for s in series if s["name"] == "loss"]
    assert loss["points"] == 510, loss
    # The spool: its frames decode and deliver the points the server had not acknowledged.
    metrana.start()
    result = sync(spool_dir, "--exporter", json.dumps(metrana_exporter(metrana)))
    assert result.returncode == 0, result.stderr + result.stdout
    assert [p[0] for p in metrana.points("loss")] == list(range(510))
