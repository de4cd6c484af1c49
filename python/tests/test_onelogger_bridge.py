"""The OneLogger bridge under the real nv-one-logger 2.3.1: OneLogger's training telemetry runs
unchanged and everything reaches Telemetron's file exporter and a real OTLP receiver, with
correct parents; through ``with_exporter``, through OneLogger's exporter config file and
through the ``nv_one_logger.exporter_configs`` entry point. Each run is its own process
(OneLogger's providers are process singletons)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from otlp_receiver import Receiver, attrs

from conftest import read_records, run_python

# A OneLogger training run; {setup} chooses how Telemetron is plugged in.
RUN = """
import telemetron
from nv_one_logger.api.config import OneLoggerConfig
from nv_one_logger.api.timed_span import timed_span
from nv_one_logger.training_telemetry.api import callbacks as cb
from nv_one_logger.training_telemetry.api.config import TrainingTelemetryConfig
from nv_one_logger.training_telemetry.api.context import application, training_iteration
from nv_one_logger.training_telemetry.api.training_telemetry_provider import (
    TrainingTelemetryProvider,
)

from strenum import StrEnum  # OneLogger's own enum base (a plain str name fails on 3.10/3.11)

class Names(StrEnum):
    DATA = "data_step"

provider = TrainingTelemetryProvider.instance().with_base_config(OneLoggerConfig(
    application_name="bridged", world_size_or_fn=1, session_tag_or_fn="s",
    telemetry_config=TrainingTelemetryConfig(perf_tag_or_fn="p", global_batch_size_or_fn=4,
                                             log_every_n_train_iterations=2)))
{setup}
provider.configure_provider()
with application():
    cb.on_train_start(train_iterations_start=0)
    for i in range(4):
        with training_iteration():
            with timed_span(Names.DATA):  # under an iteration span, which is not exported
                pass
    cb.on_save_checkpoint_start(global_step=4)
    cb.on_save_checkpoint_success(global_step=4)
    cb.on_save_checkpoint_end()
    cb.on_train_end()
report = telemetron.shutdown()
assert report["undelivered"] == [], report
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def check_stream(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The OneLogger run's spans and events with their parents, as the file recorded them."""
    starts = {r["name"]: r for r in records if r["kind"] == "span_start"}
    assert [r["name"] for r in records if r["kind"] == "span_start"] == [
        "application",
        "training_loop",
        "data_step",
        "data_step",
        "data_step",
        "data_step",
        "checkpoint_save_sync",
    ]
    ids = {name: r["span_id"] for name, r in starts.items()}
    assert starts["training_loop"]["parent_span_id"] == ids["application"]
    # OneLogger hands its exporters data_step spans whose parent (the iteration) was never
    # exported; the bridge parents them to the nearest span Telemetron has.
    for r in records:
        if r["kind"] == "span_start" and r["name"] == "data_step":
            assert r["parent_span_id"] == ids["training_loop"]
    assert starts["checkpoint_save_sync"]["parent_span_id"] == ids["training_loop"]
    events = {(r["name"], r["span_id"]) for r in records if r["kind"] == "event"}
    assert ("one_logger_initialization", ids["application"]) in events
    assert ("training_metrics_update", ids["training_loop"]) in events
    assert ("save_checkpoint_success", ids["checkpoint_save_sync"]) in events
    stops = {r["name"]: r for r in records if r["kind"] == "span_stop"}
    assert set(stops) == {"application", "training_loop", "data_step", "checkpoint_save_sync"}
    assert "duration_msec" in stops["training_loop"]["span_attributes"]
    assert starts["training_loop"]["attributes"] == {
        "train_iterations_start": 0,
        "train_samples_start": 0,
    }
    return starts


def check_otlp(receiver: Receiver, starts: dict[str, dict[str, Any]]) -> None:
    spans = {span.name: span for _, span in receiver.spans()}
    assert set(spans) == {"application", "training_loop", "data_step", "checkpoint_save_sync"}
    loop = spans["training_loop"]
    assert loop.span_id.hex() == starts["training_loop"]["span_id"]
    assert loop.parent_span_id.hex() == starts["application"]["span_id"]
    assert spans["data_step"].parent_span_id == loop.span_id
    assert "training_metrics_update" in [e.name for e in loop.events]
    assert attrs(loop.attributes)["train_iterations_start"] == 0
    assert "duration_msec" in attrs(loop.attributes)


def test_with_exporter_reaches_the_file_and_the_otlp_receiver(
    tmp_path: Path, receiver: Receiver
) -> None:
    out = tmp_path / "run.jsonl"
    exporters = [
        {"type": "file", "path": str(out)},
        {"type": "otlp", "endpoint": receiver.grpc_endpoint},
    ]
    setup = (
        f"telemetron.configure(exporters={exporters!r})\n"
        "from telemetron.onelogger import TelemetronExporter\n"
        "provider.with_exporter(TelemetronExporter())"
    )
    result = run_python(RUN.replace("{setup}", setup), tmp_path)
    assert result.returncode == 0, result.stderr
    check_otlp(receiver, check_stream(read_records(out)))


def test_onelogger_config_file_chooses_telemetron_and_its_backends(
    tmp_path: Path, receiver: Receiver
) -> None:
    out = tmp_path / "run.jsonl"
    config = {
        "exporters": [
            {
                "class_name": "telemetron.onelogger.TelemetronExporter",
                "config": {
                    "exporters": [
                        {"type": "file", "path": str(out)},
                        {"type": "otlp", "endpoint": receiver.grpc_endpoint},
                    ]
                },
            }
        ]
    }
    # OneLogger's discovery: one_logger_exporters_config.yaml in the working directory.
    (tmp_path / "one_logger_exporters_config.yaml").write_text(json.dumps(config))
    result = run_python(RUN.replace("{setup}", "provider.with_export_config()"), tmp_path)
    assert result.returncode == 0, result.stderr
    check_otlp(receiver, check_stream(read_records(out)))


def test_the_entry_point_adds_telemetron_with_no_code_change(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    setup = (
        f"telemetron.configure(exporters=[{{'type': 'file', 'path': {str(out)!r}}}])\n"
        "provider.with_export_config()  # no file: the installed packages' configs"
    )
    result = run_python(RUN.replace("{setup}", setup), tmp_path)
    assert result.returncode == 0, result.stderr
    check_stream(read_records(out))


BRIDGE = """
import telemetron
from nv_one_logger.api.config import OneLoggerConfig
from nv_one_logger.api.one_logger_provider import OneLoggerProvider
from nv_one_logger.core.attributes import Attributes
from nv_one_logger.core.event import ErrorEvent, Event, TelemetryDataError
from nv_one_logger.core.span import Span
from nv_one_logger.recorder.default_recorder import DefaultRecorder
from telemetron.onelogger import TelemetronExporter

telemetron.configure(exporters=[{{"type": "file", "path": {out!r}}}])
bridge = TelemetronExporter()
recorder = DefaultRecorder(exporters=[bridge])
config = OneLoggerConfig(application_name="a", world_size_or_fn=1, session_tag_or_fn="s")
OneLoggerProvider.instance().configure(config, recorder)
root = recorder.start("root", span_attributes=Attributes({{"nan": float("nan"), "big": 2**70}}))
bridge.initialize()  # OneLogger re-initializing: spans already started stay known
child = recorder.start("child")
recorder.event(child, Event.create("tick", Attributes({{"n": 1}})))
try:
    raise ValueError("boom")
except ValueError as exc:
    recorder.error(child, "it failed", exc)
recorder.telemetry_data_error("lost some data")
recorder.stop(child)
orphan = Span.create("orphan", parent_span=root)  # never started through the recorder
orphan.stop()
bridge.export_stop(orphan)
bridge.close()
assert telemetron.is_configured(), "close flushes, it does not shut Telemetron down"
telemetron.get_recorder().event(None, "after_close")
# No recorder.close(): the root span is left running, as a crashed job would.
print(dict(TelemetronExporter.calls))
"""


def test_the_bridge_tolerates_reinitialize_unknown_spans_odd_values_and_a_missing_close(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run.jsonl"
    result = run_python(BRIDGE.format(out=str(out)), tmp_path)
    assert result.returncode == 0, result.stderr
    records = read_records(out)
    starts = {r["name"]: r for r in records if r["kind"] == "span_start"}
    assert starts["root"]["attributes"] == {"nan": "nan", "big": str(2**70)}
    assert starts["child"]["parent_span_id"] == starts["root"]["span_id"]
    assert starts["orphan"]["parent_span_id"] == starts["root"]["span_id"]
    [error] = [r for r in records if r["kind"] == "error"]
    assert (error["span_id"], error["message"], error["exception_type"]) == (
        starts["child"]["span_id"],
        "it failed",
        "ValueError",
    )
    [data_error] = [r for r in records if r["kind"] == "telemetry_data_error"]
    assert data_error["message"] == "lost some data"
    stops = {r["name"]: r for r in records if r["kind"] == "span_stop"}
    assert stops["root"]["attributes"] == {"stopped_at_close": True}
    assert "after_close" in [r.get("name") for r in records if r["kind"] == "event"]
    calls = json.loads(result.stdout.strip().replace("'", '"'))
    assert calls["export_start"] == 2 and calls["export_stop"] == 2, calls
