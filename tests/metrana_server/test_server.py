"""The reference server itself, driven by the official client stubs: the handshake creates or
resumes with stored cursors, streams are validated like a real server's, re-sent requests are
not applied twice, state survives a restart, and the fault knobs fire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from ingest_state import ORDERED
from metrana_protobuf.ingestion.v1.svc import api_pb2, api_pb2_grpc
from metrana_protobuf.ingestion.v1.types import run_definition_pb2, updates_pb2
from server import MetranaServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MetranaServer]:
    s = MetranaServer(tmp_path / "state.json").start()
    yield s
    s.stop()


def stub(server: MetranaServer) -> Any:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    return api_pb2_grpc.IngestServiceStub(channel)


def handshake(server: MetranaServer, orchestration: str = "job-1") -> list[Any]:
    request = api_pb2.InitializeRunLoggingRequest(
        run=run_definition_pb2.Run(
            workspace="w", project="p", run_name="r", orchestration_identifier=orchestration
        ),
        logger_id=7,
        resume_policy=api_pb2.RESUME_POLICY_NEVER,
    )
    return list(stub(server).InitializeRunLogging(request))


def declare(declaration_id: int, metric: str = "loss", ordering: int = ORDERED) -> Any:
    return updates_pb2.SeriesDeclaration(
        metric_name=metric, scale="ML_STEP", labels={"split": "train"}, ordering=ordering,
        declaration_id=declaration_id,
    )  # fmt: skip


def points(series_id: int, first: int, values: list[float]) -> Any:
    return updates_pb2.StreamingSeriesUpdate(
        series_id=series_id,
        point_batches=[updates_pb2.PointBatch(values=values, first_step=first)],
    )


def send(server: MetranaServer, requests: list[Any]) -> list[Any]:
    return list(stub(server).UpdateRunStream(iter(requests)))


def request(run_id: bytes, seq: int, session: int = 1, **fields: Any) -> Any:
    return api_pb2.UpdateRunRequest(
        run_id=run_id, logger_id=7, logger_session_id=session, sequence_number=seq, **fields
    )


def test_a_new_run_is_created_and_then_resumed_with_its_cursors(server: MetranaServer) -> None:
    first = handshake(server)
    run = first[0].initialized_run
    assert run.created and len(run.run_id) == 16 and run.orchestration_identifier == "job-1"
    send(server, [request(run.run_id, 1, series_declarations=[declare(1)],
                          series=[points(1, 10, [0.5, 0.4, 0.3])])])  # fmt: skip
    again = handshake(server, orchestration="job-2")
    assert not again[0].initialized_run.created
    assert again[0].initialized_run.orchestration_identifier == "job-1"
    (steps,) = [m.last_logged_steps for m in again if m.HasField("last_logged_steps")]
    assert steps.is_last
    assert [(s.metric_name, s.flat_labels, s.last_step) for s in steps.series] == [
        ("loss", "split=train", 12)
    ]
    assert server.points("loss") == [(10, 0.5, None), (11, 0.4, None), (12, 0.3, None)]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    s = MetranaServer(tmp_path / "state.json").start()
    run_id = handshake(s)[0].initialized_run.run_id
    send(s, [request(run_id, 1, series_declarations=[declare(1)], series=[points(1, 0, [1.0])])])
    s.stop()
    restarted = MetranaServer(tmp_path / "state.json").start()
    try:
        assert restarted.points("loss") == [(0, 1.0, None)]
        assert not handshake(restarted)[0].initialized_run.created
    finally:
        restarted.stop()


@pytest.mark.parametrize(
    ("requests", "code", "message"),
    [
        (lambda rid: [request(rid, 1, series=[points(9, 0, [1.0])])],
         grpc.StatusCode.FAILED_PRECONDITION, "before its declaration"),
        (lambda rid: [request(rid, 1, series_declarations=[declare(1)]), request(rid, 3)],
         grpc.StatusCode.FAILED_PRECONDITION, "sequence gap"),
        (lambda rid: [request(rid, 1, series_declarations=[declare(1)],
                              series=[points(1, 5, [1.0]), points(1, 5, [2.0])])],
         grpc.StatusCode.INVALID_ARGUMENT, "is not after 5"),
        (lambda rid: [request(b"\x00" * 16, 1)], grpc.StatusCode.NOT_FOUND, "unknown run id"),
    ],
)  # fmt: skip
def test_invalid_streams_fail_like_a_real_server(
    server: MetranaServer, requests: Any, code: grpc.StatusCode, message: str
) -> None:
    run_id = handshake(server)[0].initialized_run.run_id
    with pytest.raises(grpc.RpcError) as failure:
        send(server, requests(run_id))
    assert failure.value.code() == code and message in failure.value.details()


def test_re_sent_requests_are_acknowledged_but_applied_once(server: MetranaServer) -> None:
    run_id = handshake(server)[0].initialized_run.run_id
    first = [request(run_id, 1, series_declarations=[declare(1)], series=[points(1, 0, [1.0])]),
             request(run_id, 2, series=[points(1, 1, [2.0])])]  # fmt: skip
    assert len(send(server, first)) == 2
    # A reconnecting client re-declares and re-sends what it was not sure of, then goes on.
    again = [request(run_id, 2, series_declarations=[declare(1)], series=[points(1, 1, [2.0])]),
             request(run_id, 3, series=[points(1, 2, [3.0])])]  # fmt: skip
    assert len(send(server, again)) == 2
    assert [p[:2] for p in server.points("loss")] == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_rl_steps_must_not_go_back_per_environment(server: MetranaServer) -> None:
    run_id = handshake(server)[0].initialized_run.run_id

    def rl(seq: int, rl_step: int, env: str = "0") -> Any:
        batch = updates_pb2.RlStepBatch(rl_step=rl_step, episode=1, values=[0.5, 0.6])
        update = updates_pb2.StreamingRLSeriesUpdate(
            series_id=1, environment_id=env, rl_step_batches=[batch]
        )
        decl = [declare(1, "reward")] if seq == 1 else []
        return request(run_id, seq, series_declarations=decl, rl_series=[update])

    send(server, [rl(1, 5), rl(2, 5), rl(3, 2, env="1")])
    twice = [[5, 1, 0, 0.5, None], [5, 1, 1, 0.6, None]] * 2
    assert server.rl_points("reward", "0") == twice
    with pytest.raises(grpc.RpcError, match="is before 5"):
        send(server, [request(run_id, 4, series_declarations=[declare(1, "reward")]), rl(5, 4)])
    statuses = [m.env_statuses for m in handshake(server) if m.HasField("env_statuses")][0]
    assert {(e.env_name, e.last_rl_step, e.last_episode) for e in statuses.envs} == {
        ("0", 5, 1), ("1", 2, 1)
    }  # fmt: skip


def test_fault_knobs_drop_the_stream_and_refuse_calls(server: MetranaServer) -> None:
    run_id = handshake(server)[0].initialized_run.run_id
    server.faults.drop_stream_after = 1
    with pytest.raises(grpc.RpcError) as dropped:
        send(server, [request(run_id, 1, series_declarations=[declare(1)]), request(run_id, 2)])
    assert dropped.value.code() == grpc.StatusCode.UNAVAILABLE
    server.faults.unavailable_calls = 1
    with pytest.raises(grpc.RpcError) as refused:
        handshake(server)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    server.faults.pacing_delay_ms = 25
    (ack,) = send(server, [request(run_id, 2, series_declarations=[declare(1)])])
    assert ack.pacing_delay_ms == 25


def test_close_run_and_attributes_are_stored(server: MetranaServer) -> None:
    run_id = handshake(server)[0].initialized_run.run_id
    tags = updates_pb2.AttributeUpdate(
        path="sys/tags", string_set_delta_value=updates_pb2.StringSetDelta(added_values=["a", "b"])
    )
    lr = updates_pb2.AttributeUpdate(path="config/lr", float_value=3e-4)
    send(server, [request(run_id, 1, attributes=[tags, lr],
                          close_run=updates_pb2.CloseRun(close_message="done"))])  # fmt: skip
    run = server.run("r")
    assert run["attributes"] == {"sys/tags": ["a", "b"], "config/lr": 3e-4}
    assert run["closed"] == "done"
