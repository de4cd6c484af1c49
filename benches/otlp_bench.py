"""100k spans and 100k log records over OTLP/gRPC to the same local receiver, side by side in
one run: telemetron (``timed_span``, ``get_logger().info`` and the stdlib
``TelemetronHandler``) against the OpenTelemetry Python SDK (``BatchSpanProcessor`` +
``OTLPSpanExporter``, ``LoggingHandler`` + ``BatchLogRecordProcessor`` + ``OTLPLogExporter``).

Per library: caller µs per span and per log record, seconds from the first call until the
receiver (a separate process, ``otlp_counting_receiver.py``) has every item, and the CPU
seconds of this process meanwhile (callers + exporter threads). Queues are sized so that
neither library drops anything (the SDK's default queue of 2048 would drop most of a burst).
Run with ``make bench-otlp``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

N = int(os.environ.get("ITEMS", "100000"))
HERE = Path(__file__).parent


class CountingReceiver:
    def __init__(self, spans: int, logs: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "otlp_counting_receiver.py"), str(spans), str(logs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline().split()
        assert ready[0] == "READY", ready
        self.port = int(ready[1])

    def wait_done(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("DONE"), line

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def timed(loop: Callable[[], None]) -> float:
    began = time.perf_counter()
    loop()
    return time.perf_counter() - began


def run(name: str, setup: Callable[[int], dict[str, Any]]) -> dict[str, float]:
    receiver = CountingReceiver(N, N)
    try:
        lib = setup(receiver.port)
        cpu0, began = time.process_time(), time.perf_counter()
        span_s = timed(lib["spans"])
        log_s = timed(lib["logs"])
        receiver.wait_done()
        received = time.perf_counter() - began
        cpu = time.process_time() - cpu0
        lib["close"]()
    finally:
        receiver.close()
    return {
        "span_us": span_s / N * 1e6,
        "log_us": log_s / N * 1e6,
        "received_s": received,
        "cpu_s": cpu,
    }


def telemetron_setup(handler: bool) -> Callable[[int], dict[str, Any]]:
    def setup(port: int) -> dict[str, Any]:
        import telemetron

        telemetron.configure(
            exporters=[{"type": "otlp", "endpoint": f"http://127.0.0.1:{port}"}],
            queue_capacity=4 * N,
            exporter_queue_capacity=4 * N,
            batch_max_size=4096,
        )
        span = telemetron.timed_span

        def spans() -> None:
            for _ in range(N):
                with span("step"):
                    pass

        if handler:
            from telemetron.logging import TelemetronHandler

            std = logging.getLogger("bench.telemetron")
            std.propagate = False
            std.addHandler(TelemetronHandler())
            std.setLevel(logging.INFO)

            def logs() -> None:
                for i in range(N):
                    std.info("step %d done", i)
        else:
            log = telemetron.get_logger("bench")

            def logs() -> None:
                for _ in range(N):
                    log.info("step done")

        def close() -> None:
            report = telemetron.shutdown(timeout=60)
            assert report is not None and report["undelivered"] == [], report

        return {"spans": spans, "logs": logs, "close": close}

    return setup


def otel_setup(port: int) -> dict[str, Any]:
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    endpoint = f"127.0.0.1:{port}"
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, insecure=True),
            max_queue_size=4 * N, max_export_batch_size=4096,
        )
    )  # fmt: skip
    tracer = tracer_provider.get_tracer("bench")
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=endpoint, insecure=True),
            max_queue_size=4 * N, max_export_batch_size=4096,
        )
    )  # fmt: skip
    std = logging.getLogger("bench.otel")
    std.propagate = False
    std.addHandler(LoggingHandler(logger_provider=logger_provider))
    std.setLevel(logging.INFO)

    def spans() -> None:
        for _ in range(N):
            with tracer.start_as_current_span("step"):
                pass

    def logs() -> None:
        for i in range(N):
            std.info("step %d done", i)

    def close() -> None:
        tracer_provider.shutdown()
        logger_provider.shutdown()

    return {"spans": spans, "logs": logs, "close": close}


def main() -> None:
    print(f"{N} spans and {N} log records per library, OTLP/gRPC to a local receiver process")
    results = {
        "telemetron (get_logger)": run("t", telemetron_setup(handler=False)),
        "telemetron (logging handler)": run("th", telemetron_setup(handler=True)),
        "OpenTelemetry SDK": run("otel", otel_setup),
    }
    sdk = results["OpenTelemetry SDK"]
    print(f"{'library':<30}{'µs/span':>9}{'µs/log':>9}{'received s':>12}{'CPU s':>8}"
          f"{'span ×':>9}{'log ×':>8}{'e2e ×':>8}")  # fmt: skip
    for name, r in results.items():
        ratios = (
            sdk["span_us"] / r["span_us"],
            sdk["log_us"] / r["log_us"],
            sdk["received_s"] / r["received_s"],
        )
        print(
            f"{name:<30}{r['span_us']:>9.2f}{r['log_us']:>9.2f}{r['received_s']:>12.2f}"
            f"{r['cpu_s']:>8.2f}{ratios[0]:>8.1f}×{ratios[1]:>7.1f}×{ratios[2]:>7.2f}×"
        )


if __name__ == "__main__":
    main()
