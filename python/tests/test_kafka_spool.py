"""The Kafka exporter's disk spool: brokers that go away and come back get every span that was
logged after the spool took over, and the exporter that health disabled is enabled again."""

from __future__ import annotations

import time
from typing import Any

from kafka_broker import Broker, otlp
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import telemetron
from telemetron import timed_span

TOPICS = ("otlp_spans", "otlp_metrics", "otlp_logs")


def kafka_counts() -> dict[str, Any]:
    counts: dict[str, Any] = telemetron.metrics(verbose=True)["exporters"]["kafka"]["span_start"]
    return counts


def kafka_health() -> dict[str, Any]:
    (health,) = [h for h in telemetron.exporter_health() if h["name"] == "kafka"]
    return dict(health)


def span_numbers(broker: Broker) -> list[int]:
    requests = otlp(broker.read("otlp_spans", idle=3), ExportTraceServiceRequest)
    return [
        s.attributes[0].value.int_value
        for r in requests
        for rs in r.resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
    ]


def test_brokers_gone_then_back_get_the_spool_and_the_exporter_is_enabled_again() -> None:
    broker = Broker().start()
    broker.create_topics(*TOPICS)
    telemetron.configure(
        exporters=[{"type": "kafka", "brokers": broker.bootstrap, "batch_max_size": 10,
                    "producer": {"message.timeout.ms": 1500}}],
        run_name="kafka-outage", max_retries=1, retry_max_backoff_secs=0.05,
        max_consecutive_failures=3, spool_recovery_initial_backoff_secs=0.2,
        spool_recovery_max_backoff_secs=1.0, error_strategy="silent",
    )  # fmt: skip
    broker.stop()
    # Spans until the spool has taken over (librdkafka fails what it holds after 1.5 s).
    n = 0
    deadline = time.monotonic() + 60
    while kafka_counts().get("spooled", 0) == 0:
        assert time.monotonic() < deadline, kafka_counts()
        with timed_span("work", span_attributes={"i": n}):
            pass
        n += 1
        time.sleep(0.01)
    first_spooled = n
    for _ in range(300):
        with timed_span("work", span_attributes={"i": n}):
            pass
        n += 1
    telemetron.flush(timeout=30)  # on disk (the brokers are away)
    assert kafka_counts()["spooled"] >= 300, kafka_counts()
    # The recovery probes keep failing: health disables the exporter; its records stay on disk.
    deadline = time.monotonic() + 30
    while not kafka_health()["disabled"]:
        assert time.monotonic() < deadline, kafka_health()
        time.sleep(0.05)
    broker.start()
    try:
        broker.create_topics(*TOPICS)
        deadline = time.monotonic() + 60
        # Disabled is not forever: the spool drains and the exporter is enabled again.
        while kafka_counts().get("spooled", 0) > 0 or kafka_health()["disabled"]:
            assert time.monotonic() < deadline, (kafka_counts(), kafka_health())
            time.sleep(0.05)
        report = telemetron.shutdown(timeout=30)
        assert report is not None and report.get("spooled", []) == [], report
        counts = report["metrics"]["exporters"]["kafka"]["span_start"]
        assert counts["recovered"] >= 300, counts
        got = set(span_numbers(broker))
        # Everything logged once the spool had taken over, at least once; what librdkafka had
        # accepted before is counted failed, never silently gone.
        assert set(range(first_spooled, n)) <= got
        assert len(got) + counts["failed"] >= n, (len(got), counts)
    finally:
        broker.stop()
