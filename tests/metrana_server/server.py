"""A Metrana ingestion server for tests, built on the official ``metrana-protobuf`` stubs.

It answers ``InitializeRunLogging`` (create or resume, with the stored cursors) and serves
``UpdateRunStream``, validating what a real server would: the run id, declarations before use
(per stream), contiguous sequence numbers per (logger, session) with re-sent requests
acknowledged but not applied twice, non-decreasing steps on ordered series and rl_steps per
environment. Every accepted request is applied to a state saved in a JSON file, so a restarted
server keeps it. Fault knobs: drop the stream after N requests, delay acks, answer UNAVAILABLE
for the next N calls, send a pacing delay.

    server = MetranaServer(tmp_path / "state.json").start()
    ... client against server.endpoint ...
    server.points("loss")  # [(step, value, timestamp_ms | None), ...]
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from ingest_state import (
    KIND_FLOAT,
    Rejected,
    Stream,
    apply_data,
    count_points,
    flat_labels,
    series_key,
)
from metrana_protobuf.ingestion.v1.svc import api_pb2, api_pb2_grpc


@dataclass
class Faults:
    """Misbehaviour on demand; each counter is consumed as it fires."""

    drop_stream_after: int | None = None  # abort the stream (UNAVAILABLE) after N requests
    unavailable_calls: int = 0  # answer UNAVAILABLE to this many calls (handshakes or streams)
    ack_delay_s: float = 0.0
    pacing_delay_ms: int = 0
    write_limit_bytes_per_second: int | None = None  # sent in every ack
    hold_acks: threading.Event | None = None  # acks wait until this is set (a stalled server)
    reject_metrics: set[str] = field(default_factory=set)  # bad data: refuse their requests


class MetranaServer:
    def __init__(
        self,
        state_path: Path,
        port: int = 0,
        count_only: bool = False,
        tls: tuple[bytes, bytes, bytes] | None = None,
        token: str | None = None,
    ) -> None:
        """``count_only`` (benchmarks): requests are validated as a stream (run, declarations,
        increasing sequence numbers: gaps are allowed, as metrana-logging-engine 0.12 leaves
        them) and their points counted, not stored; nothing is written to disk.
        ``tls``: (server key, server certificate, client CA) PEMs; clients must present a
        certificate. ``token``: every call must carry ``authorization: Bearer <token>``
        (``UNAUTHENTICATED`` otherwise)."""
        self.state_path = Path(state_path)
        self.port = port
        self.count_only = count_only
        self.tls = tls
        self.token = token
        self.authorizations: list[str] = []  # the authorization header of every call
        self.points_received = 0
        self.faults = Faults()
        self.requests_seen = 0
        self.streams_opened = 0
        self.request_sizes: list[int] = []  # encoded size of each applied request
        self._lock = threading.RLock()
        self._server: grpc.Server | None = None
        self.state: dict[str, Any] = (
            json.loads(self.state_path.read_text()) if self.state_path.exists() else {"runs": {}}
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> MetranaServer:
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8),
            options=[("grpc.max_receive_message_length", 64 << 20)],
        )
        api_pb2_grpc.add_IngestServiceServicer_to_server(_Servicer(self), self._server)
        if self.tls is not None:
            key, cert, client_ca = self.tls
            credentials = grpc.ssl_server_credentials(
                [(key, cert)], root_certificates=client_ca, require_client_auth=True
            )
            self.port = self._server.add_secure_port(f"127.0.0.1:{self.port}", credentials)
        else:
            self.port = self._server.add_insecure_port(f"127.0.0.1:{self.port}")
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _authenticate(self, context: Any) -> None:
        found = dict(context.invocation_metadata()).get("authorization", "")
        with self._lock:
            self.authorizations.append(found)
        if self.token is not None and found != f"Bearer {self.token}":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid access token")

    def _save(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        tmp.replace(self.state_path)

    # -- queries for tests -------------------------------------------------------------------
    def run(self, run_name: str | None = None) -> dict[str, Any]:
        """The run called ``run_name`` (the only run when None)."""
        with self._lock:
            runs = list(self.state["runs"].values())
        matching = [r for r in runs if run_name is None or r["run_name"] == run_name]
        assert len(matching) == 1, f"runs: {[r['run_name'] for r in runs]}"
        return matching[0]

    def points(
        self,
        metric: str,
        labels: dict[str, str] | None = None,
        scale: str | None = None,
        run_name: str | None = None,
    ) -> list[tuple[int, float, int | None]]:
        """Points of the one series of ``metric`` matching ``labels`` / ``scale``."""
        run = self.run(run_name)
        found = [
            s
            for s in run["series"].values()
            if s["metric"] == metric
            and (labels is None or s["labels"] == labels)
            and (scale is None or s["scale"] == scale)
        ]
        assert len(found) == 1, f"series of {metric}: {[s['labels'] for s in found]}"
        return [tuple(p) for p in found[0]["points"]]  # type: ignore[misc]

    def rl_points(self, metric: str, env: str, run_name: str | None = None) -> list[list[Any]]:
        """``[rl_step, episode, minor_step, value, timestamp_ms]`` of ``metric`` in ``env``."""
        run = self.run(run_name)
        found = [s for s in run["series"].values() if s["metric"] == metric]
        assert len(found) == 1, [s["metric"] for s in run["series"].values()]
        return list(found[0]["rl"].get(env, []))

    # -- the service -------------------------------------------------------------------------
    def _consume_unavailable(self) -> bool:
        with self._lock:
            if self.faults.unavailable_calls > 0:
                self.faults.unavailable_calls -= 1
                return True
            return False

    def initialize(self, request: Any) -> list[Any]:
        run = request.run
        if not (run.workspace and run.project and run.run_name):
            raise Rejected(
                grpc.StatusCode.INVALID_ARGUMENT, "workspace, project and run_name are required"
            )
        if request.logger_id == 0:
            raise Rejected(grpc.StatusCode.INVALID_ARGUMENT, "logger ID must be a positive number")
        key = f"{run.workspace}/{run.project}/{run.run_name}"
        with self._lock:
            stored = self.state["runs"].get(key)
            created = stored is None
            if created:
                stored = {
                    "run_name": run.run_name,
                    "workspace": run.workspace,
                    "project": run.project,
                    "run_id": uuid.uuid4().hex,
                    "orchestration_identifier": run.orchestration_identifier
                    if run.HasField("orchestration_identifier")
                    else None,
                    "created_at": time.time(),
                    "closed": None,
                    "series": {},
                    "envs": {},
                    "attributes": {},
                    "env_attributes": [],
                    "sessions": {},
                    "handshakes": 0,
                }
                self.state["runs"][key] = stored
            stored["handshakes"] += 1
            self._save()
        out = [
            api_pb2.InitializeRunLoggingResponse(
                initialized_run=api_pb2.InitializeRunLoggingResponse.InitializedRun(
                    created=created,
                    run_id=bytes.fromhex(stored["run_id"]),
                    orchestration_identifier=stored["orchestration_identifier"],
                )
            )
        ]
        infos = [
            api_pb2.InitializeRunLoggingResponse.LastLoggedSteps.SeriesInfo(
                metric_name=s["metric"],
                scale=s["scale"],
                flat_labels=flat_labels(s["labels"]),
                ordering=s["ordering"],
                last_step=s["last_step"],
                value_kind=s["kind"],
            )
            for s in stored["series"].values()
            if s["last_step"] is not None
        ]
        for chunk_start in range(0, max(len(infos), 1), 100):  # chunks, like a real server
            chunk = infos[chunk_start : chunk_start + 100]
            out.append(
                api_pb2.InitializeRunLoggingResponse(
                    last_logged_steps=api_pb2.InitializeRunLoggingResponse.LastLoggedSteps(
                        series=chunk, is_last=chunk_start + 100 >= len(infos)
                    )
                )
            )
        envs = [
            api_pb2.InitializeRunLoggingResponse.EnvStatuses.EnvState(
                env_name=name, last_rl_step=e["last_rl_step"], last_episode=e["last_episode"]
            )
            for name, e in stored["envs"].items()
        ]
        out.append(
            api_pb2.InitializeRunLoggingResponse(
                env_statuses=api_pb2.InitializeRunLoggingResponse.EnvStatuses(
                    envs=envs, is_last=True
                )
            )
        )
        families = [
            api_pb2.InitializeRunLoggingResponse.RlFamilyDeclarations.RlFamilyDeclaration(
                metric_name=s["metric"],
                scale=s["scale"],
                label_key_set=",".join(sorted(s["labels"])),
                ordering=s["ordering"],
                value_kind=s["kind"],
                episodic=s.get("episodic", False),
            )
            for s in stored["series"].values()
            if s["rl"]
        ]
        out.append(
            api_pb2.InitializeRunLoggingResponse(
                rl_family_declarations=api_pb2.InitializeRunLoggingResponse.RlFamilyDeclarations(
                    families=families, is_last=True
                )
            )
        )
        return out

    def apply(self, stream: Stream, request: Any) -> api_pb2.UpdateRunResponse:
        """Validates and applies one stream request (or acknowledges a re-sent one). A refused
        request is final (a client does not send it again): it consumes its sequence number,
        so the requests after it are not a gap."""
        with self._lock:
            run = next(
                (r for r in self.state["runs"].values() if r["run_id"] == request.run_id.hex()),
                None,
            )
            if run is None:
                raise Rejected(grpc.StatusCode.NOT_FOUND, f"unknown run id {request.run_id.hex()}")
            try:
                return self._apply_to(run, stream, request)
            except Rejected:
                session = f"{request.logger_id}/{request.logger_session_id}"
                last = run["sessions"].get(session)
                if last is None or request.sequence_number == last + 1:
                    run["sessions"][session] = request.sequence_number
                    if not self.count_only:
                        self._save()
                raise

    def _apply_to(self, run: dict[str, Any], stream: Stream, request: Any) -> Any:
        with self._lock:
            for d in request.series_declarations:
                labels = dict(d.labels)
                key = series_key(d.metric_name, d.scale, labels)
                existing = run["series"].get(key)
                if existing is not None and existing["ordering"] != d.ordering:
                    raise Rejected(
                        grpc.StatusCode.FAILED_PRECONDITION,
                        "Ordered and distributed logging cannot be mixed for the same series",
                    )
                if existing is None:
                    run["series"][key] = {
                        "metric": d.metric_name,
                        "scale": d.scale,
                        "labels": labels,
                        "ordering": d.ordering,
                        "kind": KIND_FLOAT,
                        "last_step": None,
                        "points": [],
                        "rl": {},
                        "histograms": [],
                        "scatters": [],
                    }
                stream.declarations[d.declaration_id] = key
            session = f"{request.logger_id}/{request.logger_session_id}"
            last = run["sessions"].get(session)
            if last is not None and request.sequence_number <= last:
                return self._ack()  # re-sent after a reconnect: already applied
            gap_allowed = self.count_only  # metrana-logging-engine numbers with gaps (256, 512)
            if last is not None and request.sequence_number != last + 1 and not gap_allowed:
                raise Rejected(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"sequence gap in session {session}: {last} then {request.sequence_number}",
                )
            rejected = {
                stream.declarations.get(u.series_id, "").split("|")[0] for u in request.series
            } & set(self.faults.reject_metrics)
            if rejected:
                raise Rejected(
                    grpc.StatusCode.INVALID_ARGUMENT, f"bad data: metric {sorted(rejected)[0]}"
                )
            if self.count_only:
                self.points_received += count_points(request)
            else:
                apply_data(run, stream, request)
            run["sessions"][session] = request.sequence_number
            self.requests_seen += 1
            self.request_sizes.append(request.ByteSize())
            if not self.count_only:
                self._save()
        return self._ack()

    def _ack(self) -> api_pb2.UpdateRunResponse:
        return api_pb2.UpdateRunResponse(
            operation_id=uuid.uuid4().hex,
            pacing_delay_ms=self.faults.pacing_delay_ms,
            write_limit_bytes_per_second=self.faults.write_limit_bytes_per_second,
        )


class _Servicer(api_pb2_grpc.IngestServiceServicer):
    def __init__(self, server: MetranaServer) -> None:
        self.server = server

    def InitializeRunLogging(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.server._authenticate(context)
        if self.server._consume_unavailable():
            context.abort(grpc.StatusCode.UNAVAILABLE, "ingestion is restarting")
        try:
            yield from self.server.initialize(request)
        except Rejected as e:
            context.abort(e.code, str(e))

    def UpdateRunStream(self, request_iterator: Any, context: Any) -> Any:  # noqa: N802
        self.server._authenticate(context)
        if self.server._consume_unavailable():
            context.abort(grpc.StatusCode.UNAVAILABLE, "ingestion is restarting")
        stream = Stream()
        with self.server._lock:
            self.server.streams_opened += 1
        for request in request_iterator:
            faults = self.server.faults
            if faults.drop_stream_after is not None and stream.requests >= faults.drop_stream_after:
                faults.drop_stream_after = None  # fires once
                context.abort(grpc.StatusCode.UNAVAILABLE, "stream dropped (fault injection)")
            stream.requests += 1
            try:
                response = self.server.apply(stream, request)
            except Rejected as e:
                context.abort(e.code, str(e))
            if faults.ack_delay_s:
                time.sleep(faults.ack_delay_s)
            if faults.hold_acks is not None:
                faults.hold_acks.wait()
            yield response

    def CheckOpStatuses(self, request: Any, context: Any) -> Any:  # noqa: N802
        return api_pb2.CheckOpStatusesResponse(
            operation_statuses={op: True for op in request.operation_ids}
        )
