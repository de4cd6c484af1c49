"""OneLogger exporters as Telemetron exporters (``type: onelogger``): OneLogger's own
``FileExporter`` and an exporter written the OneLogger way receive the spans, events and errors
of a Telemetron run as OneLogger objects, with parents, under Telemetron's health rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nv_one_logger.core.event import ErrorEvent, Event, TelemetryDataError
from nv_one_logger.core.span import Span
from nv_one_logger.exporter.exporter import BaseExporter
from overrides import override

import telemetron
from conftest import run_python

SEEN: list[tuple[str, Any]] = []


class Capturing(BaseExporter):  # type: ignore[misc]
    """A team's exporter, written against OneLogger's interface only."""

    def __init__(self, fail_events: bool = False) -> None:
        super().__init__()
        self.fail_events = fail_events

    @override
    def initialize(self) -> None:
        super().initialize()
        SEEN.append(("initialize", None))

    @override
    def export_start(self, span: Span) -> None:
        super().export_start(span)
        parent = span.parent_span.name_str if span.parent_span else None
        SEEN.append(("start", (span.name_str, parent, span.attributes.to_json())))

    @override
    def export_stop(self, span: Span) -> None:
        super().export_stop(span)
        SEEN.append(("stop", (span.name_str, span.updated_attributes.to_json(), span.active)))

    @override
    def export_event(self, event: Event, span: Span) -> None:
        super().export_event(event, span)
        if self.fail_events:
            raise RuntimeError("backend is down")
        SEEN.append(("event", (event.name_str, span.name_str, event.attributes.to_json())))

    @override
    def export_error(self, event: ErrorEvent, span: Span) -> None:
        super().export_error(event, span)
        SEEN.append(("error", (span.name_str, event.error_message, event.exception_type)))

    @override
    def export_telemetry_data_error(self, error: TelemetryDataError) -> None:
        super().export_telemetry_data_error(error)
        SEEN.append(("data_error", (error.error_type.value, error.error_message)))

    @override
    def close(self) -> None:
        super().close()
        SEEN.append(("close", None))


def a_run() -> None:
    rec = telemetron.get_recorder()
    with telemetron.timed_span("epoch", span_attributes={"epoch": 1}) as epoch:
        rec.event(epoch, "checkpoint", {"step": 10})
        with pytest.raises(ValueError), telemetron.timed_span("step"):
            raise ValueError("nan loss")
        rec.add_attributes(epoch, {"loss": 0.25})
    rec.event(None, "outside any span")


def test_an_exporter_written_the_onelogger_way_gets_onelogger_objects_with_parents() -> None:
    SEEN.clear()
    telemetron.configure(exporters=[{"type": "onelogger", "class": Capturing}])
    a_run()
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    kinds = [k for k, _ in SEEN]
    assert kinds == ["initialize", "start", "event", "start", "error", "stop", "stop", "close"]
    got = dict(enumerate(v for _, v in SEEN))
    assert got[1] == ("epoch", None, {"epoch": 1})
    assert got[2][:2] == ("checkpoint", "epoch") and got[2][2]["step"] == 10
    assert "timestamp_msec" in got[2][2]
    assert got[3] == ("step", "epoch", {})
    assert got[4] == ("step", "Error in step: nan loss", "ValueError")
    name, updated, active = got[6]
    assert (name, active) == ("epoch", False)
    assert updated["loss"] == 0.25 and isinstance(updated["duration_msec"], int)


def test_onelogger_file_exporter_writes_the_telemetron_run(tmp_path: Path) -> None:
    out = tmp_path / "onelogger.jsonl"
    telemetron.configure(
        exporters=[
            {
                "type": "onelogger",
                # OneLogger's dotted class_name form, as in its exporter config files.
                "class": "nv_one_logger.exporter.file_exporter.FileExporter",
                "file_path": str(out),
            }
        ]
    )
    a_run()
    telemetron.get_recorder().telemetry_data_error("lost a shard")
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["type"], r.get("name")) for r in lines] == [
        ("start", "epoch"),
        ("event", None),
        ("start", "step"),
        ("application_error", None),
        ("stop", "step"),
        ("stop", "epoch"),
        ("telemetry_data_error", None),
    ]
    epoch_id = lines[0]["id"]
    assert lines[1]["span_id"] == epoch_id
    assert lines[1]["event"]["name"] == "checkpoint"
    assert lines[3]["event"]["attributes"]["exception_message"] == "nan loss"
    assert lines[5]["attributes"]["loss"] == 0.25
    assert lines[6]["error"]["attributes"]["telemetry_data_error_type"] == (
        "incomplete_telemetry_data"
    )


def test_a_failing_onelogger_exporter_gets_telemetrons_health_rules() -> None:
    SEEN.clear()
    telemetron.configure(
        exporters=[
            {"type": "onelogger", "class": Capturing, "fail_events": True, "batch_max_size": 1}
        ],
        max_retries=0,
        error_strategy="silent",
    )
    rec = telemetron.get_recorder()
    span = rec.start("s")
    for i in range(8):
        rec.event(span, "e", {"i": i})
    rec.stop(span)
    report = telemetron.shutdown()
    assert report is not None
    [health] = report["metrics"]["exporters"].keys()
    data_errors = [v for k, v in SEEN if k == "data_error"]
    assert data_errors == [("incomplete_telemetry_data", data_errors[0][1])]
    assert "backend is down" in data_errors[0][1]
    assert ("close", None) in SEEN, "close is delivered to a disabled exporter"
    assert health == "onelogger"
    [undelivered] = report["undelivered"]
    assert undelivered["records"] >= 5


@pytest.mark.parametrize(
    ("cls", "needle"),
    [
        ("nv_one_logger.exporter.file_exporter:NoSuchExporter", "NoSuchExporter"),
        ("json:JSONEncoder", "not a subclass of nv_one_logger's Exporter"),
        ("", "`class` must name a OneLogger exporter class"),
    ],
)
def test_a_wrong_class_is_a_config_error_naming_it(cls: str, needle: str) -> None:
    with pytest.raises(telemetron.ConfigError, match=needle):
        telemetron.configure(exporters=[{"type": "onelogger", "class": cls}])


def test_without_nv_one_logger_the_config_error_names_the_extra(tmp_path: Path) -> None:
    code = """
        import sys
        sys.modules["nv_one_logger"] = None  # as if nv-one-logger-core were not installed
        import telemetron
        try:
            telemetron.configure(exporters=[{"type": "onelogger", "class": "x.y:Z"}])
        except telemetron.ConfigError as exc:
            print(exc)
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pip install 'telemetron[onelogger]'" in result.stdout
