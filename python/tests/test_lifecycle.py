"""Calling things in an unexpected order loses nothing: a second configure, recording before
configure or after shutdown, failing exporters (warned about at the caller's next call),
exporters written against another interface, an invalid value in a multi-metric log, and a
flush while frames are still queued for the encoder."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron
from conftest import read_records, run_python


def file_exporter(path: Path) -> dict[str, Any]:
    return {"type": "file", "path": str(path)}


def test_a_second_configure_is_refused_and_loses_nothing(tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl"
    telemetron.configure(exporters=[file_exporter(first)], run_name="first")
    telemetron.log("loss", 1.0)
    with pytest.raises(telemetron.ConfigError, match="already configured.*shutdown"):
        telemetron.configure(exporters=[file_exporter(tmp_path / "second.jsonl")])
    telemetron.log("loss", 2.0)  # the first runtime is still the one recording
    assert telemetron.run_name() == "first"
    telemetron.shutdown()
    values = [r["values"] for r in read_records(first) if r["kind"] == "metric"]
    assert values == [[1.0], [2.0]]


def test_reconfigure_flushes_and_closes_the_running_one_first(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    telemetron.configure(exporters=[file_exporter(first)], run_name="first")
    for i in range(100):
        telemetron.log("loss", float(i))
    telemetron.configure(exporters=[file_exporter(second)], run_name="second", reconfigure=True)
    assert telemetron.run_name() == "second"
    telemetron.log("loss", 7.0)
    telemetron.shutdown()
    first_values = [v for r in read_records(first) if r["kind"] == "metric" for v in r["values"]]
    assert first_values == [float(i) for i in range(100)], "the first run was flushed"
    assert [r["values"] for r in read_records(second) if r["kind"] == "metric"] == [[7.0]]


def test_recording_without_configure_says_where_it_writes_and_never_overwrites(
    tmp_path: Path,
) -> None:
    result = run_python(
        """
        import telemetron
        telemetron.log("loss", 1.0)          # implicit run 1
        first = telemetron.run_name()
        telemetron.shutdown()
        telemetron.log("loss", 2.0)          # implicit run 2, same second, same process
        second = telemetron.run_name()
        telemetron.shutdown()
        print(first, second)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.split()
    assert first != second, "generated run names are unique within one process and second"
    notices = [line for line in result.stderr.splitlines() if "without configure()" in line]
    assert len(notices) == 2, result.stderr
    for run, notice, value in ((first, notices[0], 1.0), (second, notices[1], 2.0)):
        path = tmp_path / "telemetron-out" / f"{run}.jsonl"
        assert str(Path("telemetron-out") / f"{run}.jsonl") in notice
        assert [r["values"] for r in read_records(path) if r["kind"] == "metric"] == [[value]]


class FailingExporter(telemetron.Exporter):
    def export_event(self, event: dict[str, Any]) -> None:
        raise RuntimeError("backend down")


def test_warn_shows_the_first_failure_and_the_disabling_at_the_next_call(tmp_path: Path) -> None:
    telemetron.configure(
        exporters=[FailingExporter, file_exporter(tmp_path / "ok.jsonl")],
        batch_max_size=1,
        max_retries=0,
    )
    rec = telemetron.get_recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rec.event(None, "e")  # each call shows what happened in the background since
            if any("disabled" in str(w.message) for w in caught):
                break
            time.sleep(0.01)
    messages = [str(w.message) for w in caught]
    assert all(w.category is telemetron.TelemetronWarning for w in caught)
    failures = [m for m in messages if "failed to export" in m]
    assert len(failures) == 1, f"one warning for the first failure, not one per batch: {messages}"
    assert "exporter python" in failures[0] and "backend down" in failures[0]
    assert sum("disabled" in m for m in messages) == 1, messages
    assert all(w.filename == __file__ for w in caught), "attributed to the caller's line"
    report = telemetron.shutdown()
    assert report is not None and any(u["exporter"] == "python" for u in report["undelivered"])


def test_silent_shows_nothing(tmp_path: Path) -> None:
    telemetron.configure(
        exporters=[FailingExporter], batch_max_size=1, max_retries=0, error_strategy="silent"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would raise here
        for _ in range(20):
            telemetron.get_recorder().event(None, "e")
        with pytest.raises(telemetron.ExporterError):
            telemetron.flush(5)


class OneLoggerStyle(telemetron.Exporter):
    def initialize(self) -> None:  # type: ignore[override]
        pass


class OneLoggerEvents(telemetron.Exporter):
    def export_event(self, event: Any, span: Any) -> None:  # type: ignore[override]
        pass


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (OneLoggerStyle, r"initialize\(self\) does not match .*initialize\(self, context\)"),
        (OneLoggerEvents, r"event\(self, event, span\) does not match .*event\(self, event\)"),
    ],
)
def test_exporters_of_another_interface_are_refused_at_configure(cls: type, expected: str) -> None:
    with pytest.raises(telemetron.ConfigError, match=expected):
        telemetron.configure(exporters=[cls])
    assert not telemetron.is_configured()


class InitializeRaises(telemetron.Exporter):
    def initialize(self, context: dict[str, Any]) -> None:
        raise RuntimeError("no credentials")


def test_an_exporter_whose_initialize_raises_is_counted_disabled_and_reported(
    tmp_path: Path,
) -> None:
    telemetron.configure(
        exporters=[InitializeRaises, file_exporter(tmp_path / "ok.jsonl")],
        batch_max_size=1,
        max_retries=0,
        error_strategy="silent",
    )
    rec = telemetron.get_recorder()
    for _ in range(10):
        rec.event(None, "e")
    with pytest.raises(
        telemetron.ExporterError, match="python.*initialize: RuntimeError: no credentials"
    ):
        telemetron.flush(10)
    health = {h["name"]: h for h in telemetron.exporter_health()}["python"]
    assert health["disabled"] and not health["ever_succeeded"]
    report = telemetron.shutdown()
    assert report is not None
    assert any("initialize: RuntimeError: no credentials" in e for e in report["background_errors"])
    assert [u for u in report["undelivered"] if u["exporter"] == "python"]


def test_a_mapping_with_one_invalid_value_records_nothing(out: Path) -> None:
    telemetron.log({"a": 1.0, "b": 2.0})
    with pytest.raises(telemetron.ValidationError, match=r"value #0 of c\[ML_STEP\] is NaN"):
        telemetron.log({"a": 3.0, "b": 4.0, "c": float("nan")})
    with pytest.raises(telemetron.ValidationError, match="not after step"):
        telemetron.log({"a": 5.0, "b": 6.0}, step=0)  # a is at step 0 already
    telemetron.log({"a": 7.0, "b": 8.0})
    telemetron.shutdown()
    points = [
        (r["name"], r["steps"], r["values"]) for r in read_records(out) if r["kind"] == "metric"
    ]
    assert sorted(points) == [
        ("a", [0], [1.0]),
        ("a", [1], [7.0]),
        ("b", [0], [2.0]),
        ("b", [1], [8.0]),
    ]


def test_flush_waits_for_queued_frames_to_be_encoded(tmp_path: Path) -> None:
    telemetron.configure(
        exporters=[file_exporter(tmp_path / "run.jsonl")],
        rendering_output_dir=str(tmp_path / "videos"),
        rendering_queue_max_size=1000,
        rendering_preset="medium",
    )
    frame = np.zeros((128, 128, 3), np.uint8)
    for i in range(400):
        frame[:] = i % 256
        assert telemetron.log_rendering(frame, rl_step=i, episode=0, env_id="e")
    telemetron.flush(60)
    metrics = telemetron.rendering_metrics()
    assert metrics is not None
    assert (metrics["frames_queued"], metrics["frames_encoded"]) == (0, 400)
    telemetron.shutdown()


def test_reports_list_what_happened_and_verbose_lists_everything(out: Path) -> None:
    with telemetron.timed_span("step"):
        telemetron.log("loss", np.arange(5, dtype=np.float32))
    telemetron.flush()
    concise = telemetron.metrics()
    assert set(concise["runtime"]) == {"span_start", "span_stop", "metric"}
    assert concise["points"] == {
        "metric": {"added": 5, "enqueued": 5, "sent": 5, "dropped": 0, "failed": 0}
    }
    assert set(concise["exporters"]["file"]) == {"span_start", "span_stop", "metric"}
    verbose = telemetron.metrics(verbose=True)
    assert set(verbose["runtime"]) > {"histogram", "scatter", "log"}
    report = telemetron.shutdown()
    assert report is not None and set(report["metrics"]["runtime"]) == set(concise["runtime"])
    assert telemetron.metrics()["runtime"]["metric"]["sent"] == 1, "the closed run's counters"


class CallsBack(telemetron.Exporter):
    seen: list[str] = []

    def export_event(self, event: dict[str, Any]) -> None:
        for call in (
            lambda: telemetron.flush(30),
            lambda: telemetron.shutdown(30),
            lambda: telemetron.configure(exporters=[], reconfigure=True),
        ):
            try:
                call()
            except telemetron.TelemetronError as exc:
                CallsBack.seen.append(f"{type(exc).__name__}: {exc}")


def test_calls_back_into_telemetron_from_an_exporter_raise_at_once(tmp_path: Path) -> None:
    telemetron.configure(exporters=[CallsBack])
    telemetron.get_recorder().event(None, "e")
    telemetron.flush(30)
    assert telemetron.is_configured(), "the exporter's configure() changed nothing"
    telemetron.shutdown()
    assert len(CallsBack.seen) == 3, CallsBack.seen
    for what, seen in zip(("flush", "shutdown", "configure"), CallsBack.seen, strict=True):
        assert (
            seen.startswith("TelemetronError: ")
            and f"telemetron.{what}() was called from inside an exporter" in seen
        )


@pytest.mark.parametrize("where", ["export_event", "close"])
@pytest.mark.parametrize("how", ["shutdown", "atexit"])
def test_an_exporter_stuck_in_a_loop_does_not_abort_interpreter_exit(
    tmp_path: Path, where: str, how: str
) -> None:
    result = run_python(
        f"""
        import time, telemetron
        class Stuck(telemetron.Exporter):
            def {where}(self, *args):
                while True:
                    pass
        telemetron.configure(exporters=[Stuck], close_timeout_secs=1)
        telemetron.get_recorder().event(None, "e")
        if "{where}" == "export_event":
            while not telemetron._native.exporters_inside():  # the thread enters its loop
                time.sleep(0.01)
        if "{how}" == "shutdown":
            print("timed_out", telemetron.shutdown(timeout=1)["timed_out"])
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Fatal Python error" not in result.stderr
    if how == "shutdown":
        assert result.stdout.split() == ["timed_out", "True"]
