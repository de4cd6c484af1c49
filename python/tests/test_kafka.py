"""The Kafka exporter against a real Kafka-protocol broker (tansu): every signal arrives as the
OTLP exporter sends it, keys and topics as configured; a broker down at start, paused for 15 s,
or gone for good; oversized records; secrets."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from kafka_broker import Broker, free_port, otlp
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_receiver import Receiver, attrs

import telemetron
from conftest import read_records
from telemetron import timed_span

TOPICS = ("otlp_spans", "otlp_metrics", "otlp_logs")


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker().start()
    b.create_topics(*TOPICS, "telemetron_records")
    yield b
    b.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def workload() -> None:
    log = telemetron.get_logger("trainer")
    with timed_span("epoch", span_attributes={"epoch": 3, "lr": 0.5}) as epoch:
        telemetron.get_recorder().event(epoch, "checkpoint", {"step": 100})
        with pytest.raises(ValueError), timed_span("validate"):
            raise ValueError("empty set")
        log.warning("slow step", {"ms": 250})
    for i in range(3):
        with timed_span("step", span_attributes={"i": i}):
            pass
    telemetron.get_recorder().event(None, "outside", {"k": True})
    telemetron.log("loss", [0.5, 0.25, 0.125])
    telemetron.log_histogram("w", np.histogram(np.arange(10.0), bins=3), step=1)
    telemetron.log_rl_environment_step(
        "reward", np.array([[1.0, 2.0], [3.0, 4.0]]), rl_step=1, episode=[0, 0], env_id=["a", "b"]
    )


def spans_of(requests: list[Any]) -> list[tuple[dict[str, Any], Any]]:
    return [
        (attrs(rs.resource.attributes), s)
        for r in requests
        for rs in r.resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
    ]


def logs_of(requests: list[Any]) -> list[tuple[str, Any]]:
    return [
        (sl.scope.name, rec)
        for r in requests
        for rl in r.resource_logs
        for sl in rl.scope_logs
        for rec in sl.log_records
    ]


def metrics_of(requests: list[Any]) -> list[Any]:
    return [
        m
        for r in requests
        for rm in r.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    ]


def test_every_signal_arrives_exactly_as_the_otlp_exporter_sends_it(
    broker: Broker, receiver: Receiver
) -> None:
    telemetron.configure(
        exporters=[
            {"type": "kafka", "brokers": broker.bootstrap, "key": "trace_id"},
            {"type": "otlp", "endpoint": receiver.grpc_endpoint},
        ],
        run_name="kafka-run",
        project="agents",
    )
    workload()
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report

    spans_messages = broker.read("otlp_spans")
    traces = otlp(spans_messages, ExportTraceServiceRequest)
    got_spans = spans_of(traces)
    assert len(got_spans) == 5
    assert got_spans == receiver.spans()  # ids, parents, status, attributes, resource
    names = {s.name for _, s in got_spans}
    assert names == {"epoch", "validate", "step"}
    # key: trace_id → each message holds one trace and is keyed by its 32-hex id.
    for m, request in zip(spans_messages, traces, strict=True):
        ids = {s.trace_id.hex() for _, s in spans_of([request])}
        assert ids == {m.key.decode()}, (ids, m.key)
        assert m.headers["content-type"] == b"application/x-protobuf"
    assert logs_of(otlp(broker.read("otlp_logs"), ExportLogsServiceRequest)) == receiver.logs()
    got_metrics = metrics_of(otlp(broker.read("otlp_metrics"), ExportMetricsServiceRequest))
    assert got_metrics == receiver.metrics()
    assert {m.name for m in got_metrics} == {"loss", "w", "reward"}


def test_otlp_json_topics_and_no_key(broker: Broker) -> None:
    broker.create_topics("spans_json", "logs_json", "metrics_json")
    telemetron.configure(
        exporters=[
            {
                "type": "kafka",
                "brokers": broker.bootstrap,
                "encoding": "otlp_json",
                "topics": {"traces": "spans_json", "logs": "logs_json", "metrics": "metrics_json"},
            }
        ],
        run_name="json-run",
    )
    with timed_span("outer"), timed_span("inner"):
        pass
    telemetron.log("acc", 0.75)
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    (message,) = broker.read("spans_json")
    assert message.key is None and message.headers["content-type"] == b"application/json"
    body = json.loads(message.value)
    spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    by_name = {s["name"]: s for s in spans}
    # OTLP/JSON: hex ids (not base64), camelCase, as the Collector's otlp_json reads them.
    assert by_name["inner"]["parentSpanId"] == by_name["outer"]["spanId"]
    trace_id = by_name["outer"]["traceId"]
    assert len(trace_id) == 32 and int(trace_id, 16) > 0
    assert by_name["inner"]["traceId"] == trace_id
    (metrics,) = broker.read("metrics_json")
    metric = json.loads(metrics.value)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    assert metric["name"] == "acc"
    assert metric["gauge"]["dataPoints"][0]["asDouble"] == 0.75


def test_broker_down_at_start_then_up_delivers_everything(tmp_path: Path) -> None:
    broker = Broker()  # nothing listens on its port yet
    telemetron.configure(
        exporters=[{"type": "kafka", "brokers": broker.bootstrap}], run_name="late"
    )
    for i in range(200):
        with timed_span("early", span_attributes={"i": i}):
            pass
    time.sleep(0.5)  # the producer has tried and failed to connect meanwhile
    broker.start()
    try:
        broker.create_topics(*TOPICS)
        report = telemetron.shutdown(timeout=30)
        assert report is not None and report["undelivered"] == [], report
        got = spans_of(otlp(broker.read("otlp_spans"), ExportTraceServiceRequest))
        assert sorted(s.attributes[0].value.int_value for _, s in got) == list(range(200))
    finally:
        broker.stop()


def test_broker_paused_15_s_mid_run_delivers_every_record_exactly_once(broker: Broker) -> None:
    telemetron.configure(
        exporters=[{"type": "kafka", "brokers": broker.bootstrap}], run_name="paused"
    )
    for i in range(500):
        with timed_span("before", span_attributes={"i": i}):
            pass
    telemetron.flush(timeout=30)
    broker.pause()
    try:
        for i in range(500, 1000):
            with timed_span("during", span_attributes={"i": i}):
                pass
        time.sleep(15)
    finally:
        broker.resume()
    for i in range(1000, 1500):
        with timed_span("after", span_attributes={"i": i}):
            pass
    report = telemetron.shutdown(timeout=60)
    assert report is not None and report["undelivered"] == [], report
    got = spans_of(otlp(broker.read("otlp_spans", idle=3), ExportTraceServiceRequest))
    numbers = sorted(s.attributes[0].value.int_value for _, s in got)
    assert numbers == list(range(1500)), "each span exactly once (idempotent producer)"


def test_broker_gone_for_good_disables_the_exporter_and_the_file_keeps_everything(
    tmp_path: Path,
) -> None:
    broker = Broker().start()
    broker.create_topics(*TOPICS)
    out = tmp_path / "run.jsonl"
    telemetron.configure(
        exporters=[
            {
                "type": "kafka",
                "brokers": broker.bootstrap,
                "producer": {"message.timeout.ms": 1500},
                "batch_max_size": 10,
            },
            {"type": "file", "path": str(out)},
        ],
        run_name="gone",
        max_retries=1,
        retry_max_backoff_secs=0.05,
        max_consecutive_failures=3,
        error_strategy="silent",
    )
    broker.stop()
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        with timed_span("work", span_attributes={"i": n}):
            pass
        n += 1
        health = {h["name"]: h for h in telemetron.exporter_health()}
        if health["kafka"]["disabled"]:
            break
        time.sleep(0.01)
    health = {h["name"]: h for h in telemetron.exporter_health()}
    assert health["kafka"]["disabled"], health["kafka"]
    assert "kafka" in (health["kafka"]["last_error"] or ""), health["kafka"]
    report = telemetron.shutdown(timeout=20)
    assert report is not None
    lost = {u["exporter"]: u["records"] for u in report["undelivered"]}
    assert lost.get("kafka", 0) > 0, report
    starts = [r for r in read_records(out) if r["kind"] == "span_start"]
    assert [r["attributes"]["i"] for r in starts] == list(range(n)), "the file kept all"


def test_an_oversized_record_is_split_or_refused_and_nothing_gets_stuck(broker: Broker) -> None:
    telemetron.configure(
        exporters=[{"type": "kafka", "brokers": broker.bootstrap, "max_message_bytes": 20_000}],
        run_name="big",
        error_strategy="silent",
    )
    telemetron.log("big", np.arange(20_000, dtype=np.float64), step=list(range(20_000)))
    log = telemetron.get_logger("trainer")
    log.info("x" * 50_000)  # one log record larger than a message: refused, named
    with timed_span("after"):
        pass
    report = telemetron.shutdown(timeout=30)
    assert report is not None
    (lost,) = report["undelivered"]
    assert lost["exporter"] == "kafka" and lost["records"] == 1, report
    assert any("max_message_bytes" in e for e in report["background_errors"]), report
    messages = broker.read("otlp_metrics")
    assert len(messages) > 1 and all(len(m.value) <= 20_000 for m in messages)
    points = [
        p.as_double
        for m in metrics_of(otlp(messages, ExportMetricsServiceRequest))
        for p in m.gauge.data_points
    ]
    assert points == [float(i) for i in range(20_000)], "every point once, in order"
    assert [
        s.name for _, s in spans_of(otlp(broker.read("otlp_spans"), ExportTraceServiceRequest))
    ] == ["after"]
    # The exporter's own counts: the split record's points, as the broker acknowledged them.
    sent = telemetron.metrics(verbose=True)["exporter_points"]["kafka"]["metric"]
    assert (sent["sent"], sent["failed"], sent["dropped"]) == (20_000, 0, 0), sent


def test_a_sasl_password_never_appears_in_any_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "hunter2-kafka-secret"
    port = free_port()  # nothing listens: the SASL handshake never succeeds
    with caplog.at_level(logging.DEBUG):
        telemetron.configure(
            exporters=[
                {
                    "type": "kafka",
                    "brokers": f"127.0.0.1:{port}",
                    "producer": {
                        "security.protocol": "SASL_PLAINTEXT",
                        "sasl.mechanism": "PLAIN",
                        "sasl.username": "trainer",
                        "sasl.password": secret,
                        "message.timeout.ms": 1000,
                    },
                }
            ],
            run_name="secret",
            error_strategy="warn",
        )
        shown = telemetron.describe_config()
        with timed_span("s"):
            pass
        time.sleep(1.5)
        health = json.dumps(telemetron.exporter_health())
        report = telemetron.shutdown(timeout=5)
    out, err = capfd.readouterr()
    outputs = [shown, health, json.dumps(report), out, err, caplog.text]
    assert "sasl.username" in shown and "trainer" in shown
    for text in outputs:
        assert secret not in text
    # A property librdkafka refuses is named without its value.
    with pytest.raises(telemetron.ExporterError) as e:
        telemetron.configure(
            exporters=[
                {"type": "kafka", "brokers": "127.0.0.1:1", "producer": {"sasl.pasword": secret}}
            ]
        )
    assert "sasl.pasword" in str(e.value) and secret not in str(e.value)
