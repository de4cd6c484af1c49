"""A recording OTLP receiver for the tests: gRPC (grpcio) and HTTP/protobuf (http.server), built
on the official ``opentelemetry-proto`` stubs. It keeps every request decoded, the headers it
came with, and can answer ``UNAVAILABLE`` / 503 for its first requests."""

from __future__ import annotations

import gzip
import ssl
import subprocess
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

REQUESTS = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
RESPONSES = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "logs": logs_service_pb2.ExportLogsServiceResponse,
    "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
}


@dataclass
class Certs:
    """PEM files: a CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certs(directory: Path) -> Certs:
    """A throwaway CA that signs a server and a client certificate (openssl CLI)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    for name, extension in (
        ("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")  # fmt: skip
        (directory / f"{name}.ext").write_text(extension + "\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", f"{name}.ext",
            "-out", f"{name}.pem")  # fmt: skip
    return Certs(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        directory / "client.pem",
        directory / "client.key",
    )


class Refuser:
    """A collector that is down: accepts TCP connections and closes them at once, counting
    the attempts, so a test can wait until the exporter has really tried."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.attempts = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()
            with self._cond:
                self.attempts += 1
                self._cond.notify_all()

    def wait_attempts(self, n: int, timeout: float = 30) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.attempts >= n, timeout), "no attempt seen"

    def close(self) -> None:
        import socket

        # shutdown() wakes the blocked accept(); close() alone would leave the port listening.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in kvs}


class Receiver:
    """Start with ``start()``; ``grpc_endpoint`` / ``http_endpoint`` say where it listens."""

    def __init__(self, tls: Certs | None = None) -> None:
        self.tls = tls  # serve https and require a client certificate signed by the CA
        self.requests: dict[str, list[Any]] = {"traces": [], "logs": [], "metrics": []}
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

    def metrics(self) -> list[Any]:
        """Every metric received (each with its gauge data points)."""
        with self._cond:
            return [
                m
                for req in self.requests["metrics"]
                for rm in req.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
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
            field = {
                "traces": "rejected_spans",
                "logs": "rejected_log_records",
                "metrics": "rejected_data_points",
            }[signal]
            setattr(response.partial_success, field, count)
            response.partial_success.error_message = message
        return response

    # -- servers ---------------------------------------------------------------------------
    def start(self, grpc_port: int = 0, http_port: int = 0) -> Receiver:
        receiver = self

        def servicer(base: type, signal: str) -> Any:
            """An ``Export`` servicer for one signal: records the request, or refuses it."""

            def export(_self: Any, request: Any, context: Any) -> Any:
                headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
                if not receiver._record(signal, request, headers):
                    context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
                return receiver._response(signal)

            return type(f"{signal}_servicer", (base,), {"Export": export})()

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
            servicer(trace_service_pb2_grpc.TraceServiceServicer, "traces"), self._grpc
        )
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(
            servicer(logs_service_pb2_grpc.LogsServiceServicer, "logs"), self._grpc
        )
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
            servicer(metrics_service_pb2_grpc.MetricsServiceServicer, "metrics"), self._grpc
        )
        if self.tls is not None:
            credentials = grpc.ssl_server_credentials(
                [(self.tls.server_key.read_bytes(), self.tls.server_cert.read_bytes())],
                root_certificates=self.tls.ca.read_bytes(),
                require_client_auth=True,
            )
            self.grpc_port = self._grpc.add_secure_port(f"127.0.0.1:{grpc_port}", credentials)
        else:
            self.grpc_port = self._grpc.add_insecure_port(f"127.0.0.1:{grpc_port}")
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

        self._http = ThreadingHTTPServer(("127.0.0.1", http_port), Http)
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.tls.server_cert, self.tls.server_key)
            context.load_verify_locations(self.tls.ca)
            context.verify_mode = ssl.CERT_REQUIRED
            self._http.socket = context.wrap_socket(self._http.socket, server_side=True)
        self.http_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def grpc_endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=None)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
