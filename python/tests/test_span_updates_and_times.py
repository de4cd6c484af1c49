"""Recorder API additions: explicit times on starts, stops, events and errors; attributes added to
a running span and at its stop, carried to the file exporter, a Python exporter and OTLP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from otlp_receiver import Receiver, attrs

import telemetron

SEC = 1_000_000_000


def test_explicit_times_and_span_attributes_reach_the_file(
    records: Callable[[], list[dict[str, Any]]],
) -> None:
    rec = telemetron.get_recorder()
    t0 = time.time() - 120.0
    span = rec.start("load", {"shards": 4}, start_time=t0)
    rec.add_attributes(span, {"shards": 8, "cache": "warm"})
    rec.event(span, "read", {"bytes": 10}, time=t0 + 1.5)
    rec.error(
        span,
        "slow disk",
        exception_type="TimeoutError",
        exception_message="after 3 s",
        traceback="tb",
        time=t0 + 2.0,
    )
    rec.stop(span, {"ok": True}, span_attributes={"duration_msec": 3000}, stop_time=t0 + 3.0)
    recs = records()
    start = next(r for r in recs if r["kind"] == "span_start")
    event = next(r for r in recs if r["kind"] == "event")
    error = next(r for r in recs if r["kind"] == "error")
    stop = next(r for r in recs if r["kind"] == "span_stop")
    t0_ns = round(t0 * 1e9)
    assert abs(start["time_ns"] - t0_ns) < 1000
    assert abs(event["time_ns"] - (t0_ns + 1_500_000_000)) < 1000
    assert (error["exception_type"], error["exception_message"], error["traceback"]) == (
        "TimeoutError",
        "after 3 s",
        "tb",
    )
    assert abs(error["time_ns"] - (t0_ns + 2 * SEC)) < 1000
    assert abs(stop["duration_ns"] - 3 * SEC) < 1000
    assert start["attributes"] == {"shards": 4}
    assert stop["attributes"] == {"ok": True}
    assert stop["span_attributes"] == {"shards": 8, "cache": "warm", "duration_msec": 3000}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"start_time": float("nan")}, "start_time must be a finite"),
        ({"start_time": -1.0}, "start_time must be a finite"),
        ({"start_time": time.time() * 1000}, "not milliseconds"),
    ],
)
def test_a_bad_time_is_a_validation_error_naming_it_and_records_nothing(
    records: Callable[[], list[dict[str, Any]]], kwargs: dict[str, float], needle: str
) -> None:
    rec = telemetron.get_recorder()
    rec.event(None, "before")
    with pytest.raises(telemetron.ValidationError, match=needle):
        rec.start("bad", **kwargs)
    with pytest.raises(telemetron.ValidationError, match="time must be a finite"):
        rec.event(None, "e", time=float("inf"))
    rec.event(None, "after")
    kept = [r.get("name") for r in records() if r["kind"] in ("span_start", "event")]
    assert kept == ["before", "after"]


class Collecting(telemetron.Exporter):
    seen: list[dict[str, Any]] = []

    def export_stop(self, span: dict[str, Any]) -> None:
        Collecting.seen.append(span)


def test_a_python_exporter_gets_the_span_attributes_with_the_stop(tmp_path: Any) -> None:
    Collecting.seen = []
    telemetron.configure(exporters=[Collecting])
    rec = telemetron.get_recorder()
    span = rec.start("epoch")
    rec.add_attributes(span, {"loss": 0.5})
    rec.stop(span, span_attributes={"duration_msec": 7})
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    [stop] = Collecting.seen
    assert stop["span_attributes"] == {"loss": 0.5, "duration_msec": 7}


def test_otlp_spans_carry_the_added_attributes_and_the_given_times() -> None:
    receiver = Receiver().start()
    try:
        telemetron.configure(exporters=[{"type": "otlp", "endpoint": receiver.grpc_endpoint}])
        rec = telemetron.get_recorder()
        t0 = time.time() - 60.0
        span = rec.start("train", {"epoch": 1}, start_time=t0)
        rec.add_attributes(span, {"epoch": 2, "lr": 0.1})
        rec.stop(span, span_attributes={"duration_msec": 1000}, stop_time=t0 + 1.0)
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"] == [], report
        [(_, otlp)] = receiver.spans()
        assert attrs(otlp.attributes) == {"epoch": 2, "lr": 0.1, "duration_msec": 1000}
        assert abs(otlp.start_time_unix_nano - round(t0 * 1e9)) < 1000
        assert abs(otlp.end_time_unix_nano - otlp.start_time_unix_nano - SEC) < 1000
    finally:
        receiver.stop()


def test_adding_attributes_to_a_stopped_span_is_reported_not_raised(tmp_path: Any) -> None:
    path = tmp_path / "run.jsonl"
    telemetron.configure(exporters=[{"type": "file", "path": str(path)}], error_strategy="silent")
    rec = telemetron.get_recorder()
    span = rec.start("short")
    rec.stop(span)
    rec.add_attributes(span, {"late": True})
    report = telemetron.shutdown()
    assert report is not None
    assert report["metrics"]["runtime"]["span_update"]["dropped"] == 1
