"""The Recorder API, attribute conversion, errors, metrics and health."""

from __future__ import annotations

import math

import pytest

import telemetron


def test_recorder_start_stop_event_error(records):
    rec = telemetron.get_recorder()
    span = rec.start(
        "load", attributes={"shards": [1, 2, 3], "cfg": {"lr": 0.1, "opt": {"name": "adam"}}}
    )
    child = rec.start("read", parent=span)
    rec.event(child, "progress", {"pct": 50.0})
    try:
        raise OSError("disk gone")
    except OSError as exc:
        rec.error(child, "read failed", exc)
    rec.stop(child)
    rec.stop(span, {"ok": True})
    rec.event(None, "free-standing")
    recs = records()
    start = next(r for r in recs if r["kind"] == "span_start" and r["name"] == "load")
    assert start["attributes"] == {"shards": [1, 2, 3], "cfg/lr": 0.1, "cfg/opt/name": "adam"}
    child_start = next(r for r in recs if r["kind"] == "span_start" and r["name"] == "read")
    assert child_start["parent_span_id"] == span.span_id
    error = next(r for r in recs if r["kind"] == "error")
    assert (error["exception_type"], error["exception_message"]) == ("OSError", "disk gone")
    assert error["span_id"] == child.span_id
    assert [r["name"] for r in recs if r["kind"] == "event"] == ["progress", "free-standing"]


@pytest.mark.parametrize(
    ("value", "needle"),
    [(object(), '"bad"'), ([1, "two"], "homogeneous"), (None, '"bad"'), (b"x", "bytes")],
)
def test_unsupported_attribute_values_raise_type_error_naming_the_key(out, value, needle):
    rec = telemetron.get_recorder()
    with pytest.raises(TypeError) as caught:
        rec.event(None, "e", {"bad": value})
    assert needle in str(caught.value)


def test_invalid_input_raises_validation_error_and_loses_nothing(records):
    rec = telemetron.get_recorder()
    rec.event(None, "before")
    with pytest.raises(telemetron.ValidationError, match="loss"):
        rec.event(None, "e", {"loss": math.nan})
    with pytest.raises(telemetron.ValidationError, match="span name"):
        rec.start("")
    with pytest.raises(telemetron.ValidationError, match="big.*does not fit in 64 bits"):
        rec.event(None, "e", {"big": 2**70})
    rec.event(None, "after")
    assert [r["name"] for r in records() if r["kind"] == "event"] == ["before", "after"]


def test_exception_hierarchy():
    assert issubclass(telemetron.QueueFullError, telemetron.EnqueueError)
    assert issubclass(telemetron.ValidationError, telemetron.EnqueueError)
    for exc in (
        telemetron.ConfigError,
        telemetron.EnqueueError,
        telemetron.ExporterError,
        telemetron.ShutdownError,
    ):
        assert issubclass(exc, telemetron.TelemetronError)


def test_metrics_and_health(out):
    rec = telemetron.get_recorder()
    for _ in range(3):
        rec.event(None, "e")
    telemetron.flush()
    m = telemetron.metrics()
    assert m["runtime"]["event"]["added"] == 3
    assert m["exporters"]["file"]["event"]["sent"] == 3
    health = telemetron.exporter_health()
    assert (
        health[0]["name"] == "file"
        and health[0]["ever_succeeded"]
        and health[0]["disabled"] is None
    )


def test_config_errors_name_the_culprit(tmp_path):
    with pytest.raises(telemetron.ConfigError, match='unknown exporter type "kafak"'):
        telemetron.configure(exporters=[{"type": "kafak"}])
    bad = tmp_path / "bad.yaml"
    bad.write_text("exporters:\n  - type: file\n   path: [x\n")
    with pytest.raises(telemetron.ConfigError, match="bad.yaml:3:"):
        telemetron.configure(config_file=bad)
    with pytest.raises(telemetron.ConfigError, match="queue_capasity"):
        telemetron.configure(queue_capasity=3)
