"""A recording OTLP receiver for the tests: gRPC (grpcio) and HTTP/protobuf (http.server), built
on the official ``opentelemetry-proto`` stubs. It keeps every request decoded, the headers it
came with, and can answer ``UNAVAILABLE`` / 503 for its first requests."""

from __future__ import annotations

import gzip
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

REQUESTS = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
}
RESPONSES = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "logs": logs_service_pb2.ExportLogsServiceResponse,
}


def value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in kvs}


class Receiver:
    """Start with ``start()``; ``grpc_endpoint`` / ``http_endpoint`` say where it listens."""

    def __init__(self) -> None:
        self.requests: dict[str, list[Any]] = {"traces": [], "logs": []}
        self.headers: list[dict[str, str]] = []
        self.unavailable_left = 0  # answer UNAVAILABLE / 503 this many times
        self.retry_after: int | None = None  # with this Retry-After (HTTP)
        self.reject_next: tuple[int, str] | None = None  # partial success on the next request
        self.refused = 0
        self.arrivals: list[tuple[float, bool]] = []  # (monotonic time, accepted)
        self._cond = threading.Condition()
        self._grpc: grpc.Server | None = None
        self._http: ThreadingHTTPServer | None = None

    # -- what arrived ----------------------------------------------------------------------
    def _record(self, signal: str, request: Any, headers: dict[str, str]) -> bool:
        with self._cond:
            accepted = self.unavailable_left == 0
            self.arrivals.append((time.monotonic(), accepted))
            if not accepted:
                self.unavailable_left -= 1
                self.refused += 1
                return False
            self.requests[signal].append(request)
            self.headers.append(headers)
            self._cond.notify_all()
            return True

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) for every span received."""
        with self._cond:
            return [
                (attrs(rs.resource.attributes), span)
                for req in self.requests["traces"]
                for rs in req.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def logs(self) -> list[tuple[str, Any]]:
        """(scope name, log record) for every log record received."""
        with self._cond:
            return [
                (sl.scope.name, rec)
                for req in self.requests["logs"]
                for rl in req.resource_logs
                for sl in rl.scope_logs
                for rec in sl.log_records
            ]

    def wait_for(self, spans: int = 0, logs: int = 0, timeout: float = 30) -> None:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: len(self._spans_unlocked()) >= spans and len(self._logs_unlocked()) >= logs,
                timeout,
            )
        assert ok, f"timed out waiting for {spans} spans and {logs} logs"

    def _spans_unlocked(self) -> list[Any]:
        return [
            s
            for r in self.requests["traces"]
            for rs in r.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]

    def _logs_unlocked(self) -> list[Any]:
        return [
            x
            for r in self.requests["logs"]
            for rl in r.resource_logs
            for sl in rl.scope_logs
            for x in sl.log_records
        ]

    def _response(self, signal: str) -> Any:
        """The reply, with a partial success when one was asked for."""
        with self._cond:
            reject, self.reject_next = self.reject_next, None
        response = RESPONSES[signal]()
        if reject is not None:
            count, message = reject
            field = "rejected_spans" if signal == "traces" else "rejected_log_records"
            setattr(response.partial_success, field, count)
            response.partial_success.error_message = message
        return response

    # -- servers ---------------------------------------------------------------------------
    def start(self) -> Receiver:
        receiver = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
                headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
                if not receiver._record("traces", request, headers):
                    context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
                return receiver._response("traces")

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
                headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
                if not receiver._record("logs", request, headers):
                    context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
                return receiver._response("logs")

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self._grpc)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self._grpc)
        self.grpc_port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._grpc.start()

        class Http(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                signal = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if signal not in REQUESTS:
                    self.send_response(404)
                    self.end_headers()
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                if not receiver._record(signal, REQUESTS[signal].FromString(body), headers):
                    self.send_response(503)
                    if receiver.retry_after is not None:
                        self.send_header("retry-after", str(receiver.retry_after))
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                reply = receiver._response(signal).SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=None)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
