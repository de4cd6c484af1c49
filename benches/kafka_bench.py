"""200k spans and 200k scalar metric points per library into the same fresh Kafka-protocol broker
(tansu), side by side in one run: telemetron (``timed_span`` and ``log`` with the ``kafka``
exporter, in its default OTLP protobuf encoding and in the lossless ``telemetron`` encoding the
relay reads) against what a user writes without us: confluent-kafka ``Producer.produce()`` of a
``json.dumps`` per record (idempotent, ``linger.ms=5``).

Per library: caller µs per span and per point; records/s from the first call until the broker
acknowledged every record (delivery reports: telemetron's ``sent`` counters, confluent-kafka's
delivery callbacks); CPU seconds of this process meanwhile (callers + client threads). Then
``telemetron relay`` reads the telemetron-encoded topic into an OTLP receiver (a separate
process counting spans and metric points): records/s from the receiver's first request to its
last. Run with ``make bench-kafka`` (``ITEMS=N`` sets the count per kind).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "python" / "tests"))

from kafka_broker import Broker  # noqa: E402

N = int(os.environ.get("ITEMS", "200000"))
TOPICS = ("otlp_spans", "otlp_metrics", "telemetron_records", "spans_json", "metrics_json")


def timed(loop: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, the calling thread's own CPU seconds) of ``loop``."""
    began, cpu = time.perf_counter(), time.thread_time()
    loop()
    return time.perf_counter() - began, time.thread_time() - cpu


def run(lib: dict[str, Any]) -> dict[str, float]:
    cpu0, began = time.process_time(), time.perf_counter()
    span_s, span_cpu = timed(lib["spans"])
    point_s, point_cpu = timed(lib["points"])
    lib["wait_delivered"]()
    delivered = time.perf_counter() - began
    cpu = time.process_time() - cpu0
    lib["close"]()
    return {
        "span_us": span_s / N * 1e6,
        "span_cpu_us": span_cpu / N * 1e6,
        "point_us": point_s / N * 1e6,
        "point_cpu_us": point_cpu / N * 1e6,
        "records_per_s": 2 * N / delivered,
        "delivered_s": delivered,
        "cpu_s": cpu,
    }


def telemetron_lib(broker: Broker, encoding: str) -> dict[str, Any]:
    import telemetron

    telemetron.configure(
        exporters=[{"type": "kafka", "brokers": broker.bootstrap, "encoding": encoding}],
        run_name=f"bench-{encoding}",
        project="bench",
        queue_capacity=4 * N,
        exporter_queue_capacity=4 * N,
        batch_max_size=8192,
    )
    span = telemetron.timed_span
    log = telemetron.log

    def spans() -> None:
        for _ in range(N):
            with span("step"):
                pass

    def points() -> None:
        for i in range(N):
            log("loss", 1.0 / (i + 1))

    def wait_delivered() -> None:
        # Every record's delivery report (a span is two records, start and stop; with the
        # OTLP encodings the start travels in its stop's message and is counted with it).
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            metrics = telemetron.metrics()
            want = sum(c["added"] for c in metrics["runtime"].values())
            kinds = metrics["exporters"]["kafka"]
            sent = sum(c["sent"] for c in kinds.values())
            lost = sum(c["dropped"] + c["failed"] for c in kinds.values())
            assert lost == 0, kinds
            if sent >= want:
                return
            time.sleep(0.005)
        raise AssertionError("not delivered in 10 minutes")

    def close() -> None:
        report = telemetron.shutdown(timeout=60)
        assert report is not None and report["undelivered"] == [], report

    return {"spans": spans, "points": points, "wait_delivered": wait_delivered, "close": close}


def confluent_lib(broker: Broker) -> dict[str, Any]:
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": broker.bootstrap,
            "enable.idempotence": True,
            "linger.ms": 5,
            "compression.type": "zstd",
        }
    )
    delivered = [0, 0]  # ok, failed

    def report(error: Any, _message: Any) -> None:
        delivered[error is not None] += 1

    def produce(topic: str, value: str) -> None:
        while True:
            try:
                producer.produce(topic, value, on_delivery=report)
                return
            except BufferError:  # librdkafka's queue is full: serve delivery reports, retry
                producer.poll(0.001)

    bits = random.getrandbits
    now = time.time_ns

    def spans() -> None:
        trace = f"{bits(128):032x}"
        for i in range(N):
            start = now()
            end = now()
            record = {"name": "step", "trace_id": trace, "span_id": f"{bits(64):016x}",
                      "start_ns": start, "end_ns": end, "i": i}  # fmt: skip
            produce("spans_json", json.dumps(record))
            producer.poll(0)

    def points() -> None:
        for i in range(N):
            record = {"metric": "loss", "step": i, "value": 1.0 / (i + 1), "time_ns": now()}
            produce("metrics_json", json.dumps(record))
            producer.poll(0)

    def wait_delivered() -> None:
        left = producer.flush(600)
        assert left == 0 and delivered == [2 * N, 0], (left, delivered)

    return {
        "spans": spans,
        "points": points,
        "wait_delivered": wait_delivered,
        "close": lambda: None,
    }


def relay_into_otlp(broker: Broker) -> dict[str, float]:
    """``telemetron relay`` from the telemetron-encoded topic into a counting OTLP receiver."""
    receiver = subprocess.Popen(
        [sys.executable, str(HERE / "otlp_counting_receiver.py"), str(N), "0", str(N)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert receiver.stdout is not None and receiver.stdin is not None
    ready = receiver.stdout.readline().split()
    assert ready[0] == "READY", ready
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "relay.yaml"
        config.write_text(json.dumps({
            "relay": {"brokers": broker.bootstrap, "group": "bench",
                      "consumer": {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}},
            "exporters": [{"type": "otlp", "endpoint": f"http://127.0.0.1:{ready[1]}"}],
            "batch_max_size": 8192,
        }))  # fmt: skip
        telemetron = str(Path(sys.executable).with_name("telemetron"))
        began = time.perf_counter()
        relay = subprocess.Popen(
            [telemetron, "relay", "--config", str(config), "--log-level", "warn"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            done = receiver.stdout.readline().split()
            assert done and done[0] == "DONE", done
            total = time.perf_counter() - began
            relay.terminate()
            out, _ = relay.communicate(timeout=120)
            assert relay.returncode == 0, out
            report = json.loads(out.strip().splitlines()[-1])
        finally:
            if relay.poll() is None:
                relay.kill()
            receiver.stdin.close()
            receiver.wait(timeout=30)
    streaming = float(done[1])
    return {
        "items_per_s": 2 * N / streaming,
        "streaming_s": streaming,
        "with_join_s": total,
        "records": report["records"],
        "records_per_s": report["records"] / streaming,
    }


def main() -> None:
    print(f"{N} spans and {N} metric points per library into one fresh tansu broker")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores: the broker, the receiver and")
    print("the relay share them with the callers)")
    broker = Broker().start()
    try:
        broker.create_topics(*TOPICS)
        results = {
            "telemetron kafka (otlp_proto)": run(telemetron_lib(broker, "otlp_proto")),
            "telemetron kafka (telemetron)": run(telemetron_lib(broker, "telemetron")),
            "confluent-kafka + json.dumps": run(confluent_lib(broker)),
        }
        relay = relay_into_otlp(broker)
    finally:
        broker.stop()
    ck = results["confluent-kafka + json.dumps"]
    print("caller µs: wall clock per call (thread CPU per call); records/s: until every record's")
    print("delivery report; CPU s: the whole process (callers + client threads)")
    print(f"{'library':<31}{'µs/span':>14}{'µs/point':>14}{'records/s':>10}{'CPU s':>7}"
          f"{'span ×':>8}{'point ×':>8}{'e2e ×':>7}")  # fmt: skip
    for name, r in results.items():
        span = f"{r['span_us']:.2f} ({r['span_cpu_us']:.2f})"
        point = f"{r['point_us']:.2f} ({r['point_cpu_us']:.2f})"
        print(
            f"{name:<31}{span:>14}{point:>14}{r['records_per_s']:>10,.0f}{r['cpu_s']:>7.2f}"
            f"{ck['span_us'] / r['span_us']:>7.1f}×{ck['point_us'] / r['point_us']:>7.1f}×"
            f"{r['records_per_s'] / ck['records_per_s']:>6.2f}×"
        )
    print(
        f"relay telemetron_records → OTLP receiver: {relay['items_per_s']:,.0f} spans+points/s "
        f"({relay['records_per_s']:,.0f} records/s: {relay['records']} records incl. span starts) "
        f"over {relay['streaming_s']:.2f} s streaming; {relay['with_join_s']:.2f} s including "
        "the group join"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
