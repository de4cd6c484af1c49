"""An OTLP/gRPC receiver for benchmarks, in its own process: counts spans, log records and (with
a third argument) metric data points, and prints ``DONE <seconds since the first request>``
once every target is reached: ``otlp_counting_receiver.py SPANS LOGS [POINTS]``."""

from __future__ import annotations

import sys
import threading
import time
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


def main() -> None:
    want_spans, want_logs = int(sys.argv[1]), int(sys.argv[2])
    want_points = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    lock = threading.Lock()
    counts = {"spans": 0, "logs": 0, "points": 0, "first": 0.0, "done": False}

    def add(kind: str, n: int) -> None:
        with lock:
            if not counts["first"]:
                counts["first"] = time.monotonic()
            counts[kind] += n
            reached = (
                counts["spans"] >= want_spans
                and counts["logs"] >= want_logs
                and counts["points"] >= want_points
            )
            if not counts["done"] and reached:
                counts["done"] = True
                print(f"DONE {time.monotonic() - counts['first']:.4f}", flush=True)

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
            add(
                "spans",
                sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans),
            )
            return trace_service_pb2.ExportTraceServiceResponse()

    class Logs(logs_service_pb2_grpc.LogsServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
            n = sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)
            add("logs", n)
            return logs_service_pb2.ExportLogsServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
            n = sum(
                len(m.gauge.data_points) + len(m.sum.data_points)
                for rm in request.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            )
            add("points", n)
            return metrics_service_pb2.ExportMetricsServiceResponse()

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 256 << 20)],
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()  # runs until the benchmark closes our stdin
    server.stop(grace=None)


if __name__ == "__main__":
    main()
