"""``telemetron.training`` on its own: configuration and ranks, the error strategies, export
filters, threads, and the OneLogger 2.3.1 defects it does not reproduce."""

from __future__ import annotations

import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import telemetron
from conftest import read_records
from telemetron import training
from telemetron.training import (
    ExportCustomizationMode,
    OneLoggerConfig,
    OneLoggerErrorHandlingStrategy,
    TrainingTelemetryConfig,
    TrainingTelemetryProvider,
)


@pytest.fixture(autouse=True)
def fresh_provider() -> Iterator[None]:
    TrainingTelemetryProvider.reset()
    yield
    TrainingTelemetryProvider.reset()


def configure(
    tmp_path: Path,
    *,
    mode: ExportCustomizationMode | None = None,
    span_filter: list[str] | None = None,
    **overrides: Any,
) -> Callable[[], list[dict[str, Any]]]:
    """Configures Telemetron (a file exporter) and the training provider; returns a function
    that shuts Telemetron down and reads the file."""
    path = tmp_path / "run.jsonl"
    telemetron.configure(exporters=[{"type": "file", "path": str(path)}])
    fields: dict[str, Any] = {
        "application_name": "app",
        "world_size_or_fn": 2,
        "session_tag_or_fn": "s",
        "enable_for_current_rank": True,
        "telemetry_config": TrainingTelemetryConfig(
            perf_tag_or_fn="p", global_batch_size_or_fn=8, log_every_n_train_iterations=5
        ),
    }
    fields.update(overrides)
    provider = TrainingTelemetryProvider.instance().with_base_config(OneLoggerConfig(**fields))
    if mode is not None:
        provider.with_export_customization(mode, span_filter)
    provider.configure_provider()

    def finish() -> list[dict[str, Any]]:
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"] == [], report
        return read_records(path) if path.exists() else []

    return finish


def starts(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in records if r["kind"] == "span_start"}


def test_a_plain_string_custom_span_works_and_records_its_error(tmp_path: Path) -> None:
    # OneLogger 2.3.1: TypeError on Python 3.10/3.11 ("custom" in StandardTrainingJobSpanName).
    finish = configure(tmp_path)
    with training.application(), training.training_loop(0):
        with pytest.raises(KeyError), training.timed_span("custom", {"k": 1}) as span:
            assert span is not None and span.name == "custom"
            raise KeyError("x")
    records = finish()
    spans = starts(records)
    assert spans["custom"]["parent_span_id"] == spans["training_loop"]["span_id"]
    [error] = [r for r in records if r["kind"] == "error"]
    assert (error["message"], error["exception_type"]) == ("Error in custom: ", "KeyError")


def test_timed_span_on_a_disabled_rank_yields_none_and_runs_the_block(tmp_path: Path) -> None:
    # OneLogger 2.3.1 raises AttributeError (stop(None)) here.
    finish = configure(tmp_path, enable_for_current_rank=False)
    ran = []
    with training.application() as app, training.timed_span("custom") as span:
        ran.append((app, span))
    assert ran == [(None, None)]
    assert TrainingTelemetryProvider.instance().one_logger_enabled is False
    assert finish() == []


@pytest.mark.parametrize(
    ("env", "enabled"),
    [({}, True), ({"RANK": "0"}, True), ({"RANK": "3"}, False), ({"SLURM_PROCID": "1"}, False)],
)
def test_recording_is_on_for_global_rank_zero_by_default(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], enabled: bool
) -> None:
    for var in ("RANK", "SLURM_PROCID"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    config = OneLoggerConfig(application_name="a", world_size_or_fn=4, session_tag_or_fn="s")
    assert config.enable_for_current_rank is enabled
    expected = (
        OneLoggerErrorHandlingStrategy.PROPAGATE_EXCEPTIONS
        if enabled
        else OneLoggerErrorHandlingStrategy.DISABLE_QUIETLY_AND_REPORT_METRIC_ERROR
    )
    assert config.error_handling_strategy is expected


def test_configuration_errors_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(telemetron.ConfigError, match="unknown field.*world_sise"):
        OneLoggerConfig(application_name="a", world_sise_or_fn=4, session_tag_or_fn="s")
    with pytest.raises(telemetron.ConfigError, match="session_tag_or_fn is required"):
        OneLoggerConfig(application_name="a", world_size_or_fn=4)
    with pytest.raises(telemetron.ConfigError, match="world_size must be an int > 0, got 0"):
        OneLoggerConfig(application_name="a", world_size_or_fn=lambda: 0, session_tag_or_fn="s")
    with pytest.raises(telemetron.ConfigError, match="flops_per_sample must be > 0"):
        TrainingTelemetryConfig(
            perf_tag_or_fn="p", global_batch_size_or_fn=8, is_log_throughput_enabled_or_fn=True
        )
    with pytest.raises(telemetron.ConfigError, match="'weekly'"):
        TrainingTelemetryConfig(
            perf_tag_or_fn="p", global_batch_size_or_fn=8, save_checkpoint_strategy="weekly"
        )
    monkeypatch.setenv("RANK", "zero")
    with pytest.raises(telemetron.ConfigError, match="RANK='zero'"):
        OneLoggerConfig(application_name="a", world_size_or_fn=4, session_tag_or_fn="s")


def test_misuse_raises_under_propagate_reports_a_data_error_and_keeps_working(
    tmp_path: Path,
) -> None:
    finish = configure(tmp_path)
    training.on_app_start()
    with pytest.raises(training.TrainingTelemetryError, match="training_loop but found 0"):
        training.on_train_end()
    training.on_model_init_start()
    training.on_model_init_end()
    training.on_app_end()
    records = finish()
    [data_error] = [r for r in records if r["kind"] == "telemetry_data_error"]
    assert "Exception in telemetry code when calling on_train_end" in data_error["message"]
    assert "model_initialization" in starts(records)


def test_a_quiet_disable_still_stops_the_application_span(tmp_path: Path) -> None:
    # OneLogger 2.3.1 skips everything after a quiet disable, including closing the span.
    strategy = OneLoggerErrorHandlingStrategy.DISABLE_QUIETLY_AND_REPORT_METRIC_ERROR
    finish = configure(tmp_path, error_handling_strategy=strategy)
    training.on_app_start()
    training.on_train_end()  # misuse: disables recording, quietly
    assert TrainingTelemetryProvider.instance().one_logger_enabled is False
    assert training.on_model_init_start() is None  # skipped
    training.on_app_end()
    records = finish()
    [stop] = [r for r in records if r["kind"] == "span_stop"]
    assert stop["name"] == "application"
    assert "stopped_at_close" not in stop["attributes"]
    assert [r["kind"] for r in records].count("telemetry_data_error") == 1


def test_export_all_spans_records_iterations(tmp_path: Path) -> None:
    # OneLogger 2.3.1 cannot be configured with EXPORT_ALL_SPANS (its recorder asserts).
    finish = configure(tmp_path, mode=ExportCustomizationMode.EXPORT_ALL_SPANS)
    with training.application(), training.training_loop(0):
        for _ in range(3):
            with training.training_iteration():
                pass
    records = finish()
    iterations = [r for r in records if r["kind"] == "span_stop" and r["name"].startswith("train")]
    assert [r["name"] for r in iterations] == ["training_single_iteration"] * 3 + ["training_loop"]
    assert all("duration_msec" in r["span_attributes"] for r in iterations)


def test_a_whitelist_records_only_its_spans_and_parents_to_them(tmp_path: Path) -> None:
    finish = configure(
        tmp_path,
        mode=ExportCustomizationMode.WHITELIST_SPANS,
        span_filter=["application", "custom"],
    )
    with training.application(), training.training_loop(0):
        with training.timed_span("custom"):
            pass
    spans = starts(finish())
    assert set(spans) == {"application", "custom"}
    assert spans["custom"]["parent_span_id"] == spans["application"]["span_id"]


def test_spans_of_another_thread_parent_to_the_training_loop(tmp_path: Path) -> None:
    # OneLogger 2.3.1 keeps the current span in a context variable only: a span started on
    # another thread becomes a new root.
    strategy_async = TrainingTelemetryConfig(
        perf_tag_or_fn="p", global_batch_size_or_fn=8, save_checkpoint_strategy="async"
    )
    finish = configure(tmp_path, telemetry_config=strategy_async)

    def saver() -> None:
        with training.checkpoint_save(global_step=0), training.timed_span("upload"):
            pass
        training.on_save_checkpoint_success(0)

    with training.application(), training.training_loop(0):
        thread = threading.Thread(target=saver)
        thread.start()
        thread.join()
    records = finish()
    spans = starts(records)
    loop = spans["training_loop"]["span_id"]
    assert spans["checkpoint_save_async"]["parent_span_id"] == loop
    assert spans["upload"]["parent_span_id"] == spans["checkpoint_save_async"]["span_id"]
    [success] = [r for r in records if r["name"] == "save_checkpoint_success"]
    assert success["span_id"] == spans["application"]["span_id"]


def test_checkpoints_with_saves_disabled_are_spans_without_metrics(tmp_path: Path) -> None:
    # OneLogger 2.3.1 raises "Timer for span checkpoint_save_sync is not active." here.
    config = TrainingTelemetryConfig(
        perf_tag_or_fn="p", global_batch_size_or_fn=8, is_save_checkpoint_enabled_or_fn=False
    )
    finish = configure(tmp_path, telemetry_config=config)
    with training.application(), training.checkpoint_save(global_step=3):
        pass
    records = finish()
    assert "checkpoint_save_sync" in starts(records)
    assert not [r for r in records if r.get("name", "").startswith(("save_checkpoint", "sync_"))]


def test_times_far_from_now_are_refused_through_the_strategy(tmp_path: Path) -> None:
    finish = configure(tmp_path)
    with pytest.raises(training.TrainingTelemetryError, match="within 10 hours"):
        training.on_app_start(start_time_msec=1.7e9)  # seconds passed as milliseconds
    finish()


def test_iterations_do_not_accumulate_memory(tmp_path: Path) -> None:
    # OneLogger 2.3.1 formats all of the parent's events on every stop: its cost grows with
    # the run. Here an iteration leaves nothing behind in Python.
    finish = configure(tmp_path)
    with training.application(), training.training_loop(0):
        for _ in range(1000):
            training.on_training_single_iteration_start()
            training.on_training_single_iteration_end()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for _ in range(5000):
            training.on_training_single_iteration_start()
            training.on_training_single_iteration_end()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, grown
    updates = [r for r in finish() if r.get("name") == "training_metrics_update"]
    assert updates[-1]["attributes"]["num_iterations"] == 6000


def test_importing_training_stays_light() -> None:
    code = (
        "import sys, telemetron.training; "
        "print(sorted(m for m in ('pydantic', 'logging', 'socket', 'dataclasses', "
        "'nv_one_logger', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
