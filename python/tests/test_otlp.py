"""The OTLP exporter against real receivers: spans (with events, errors, parents), log records
and the resource arrive over gRPC and HTTP/protobuf; environment variables configure it; an
unavailable collector is retried; a dead one is disabled while the file exporter keeps
everything; header tokens never reach logs or reports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from otlp_receiver import Receiver, attrs

import telemetron
from conftest import read_records
from telemetron import timed_span


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def endpoint(receiver: Receiver, protocol: str) -> str:
    return receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_events_errors_and_logs_arrive_with_ids_parents_and_resource(
    receiver: Receiver, protocol: str
) -> None:
    telemetron.configure(
        exporters=[
            {
                "type": "otlp",
                "endpoint": endpoint(receiver, protocol),
                "protocol": protocol,
                "headers": {"x-team": "rl"},
                "compression": "gzip",
                "resource_attributes": {"deployment.environment": "test"},
            }
        ],
        run_name="otlp-run",
        project="agents",
    )
    log = telemetron.get_logger("trainer")
    with timed_span("epoch", span_attributes={"epoch": 3, "lr": 0.5}) as epoch:
        telemetron.get_recorder().event(epoch, "checkpoint", {"step": 100})
        with pytest.raises(ValueError), timed_span("validate") as validate:
            raise ValueError("empty set")
        log.warning("slow step", {"ms": 250})
    telemetron.get_recorder().event(None, "outside", {"k": True})
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report

    spans = {span.name: (resource, span) for resource, span in receiver.spans()}
    assert set(spans) == {"epoch", "validate"}
    resource, ep = spans["epoch"]
    _, va = spans["validate"]
    assert resource["service.name"] == "agents"
    assert resource["telemetron.run_name"] == "otlp-run"
    assert resource["deployment.environment"] == "test"
    assert resource["process.pid"] == str(os.getpid())
    assert resource["host.name"]
    assert (ep.trace_id.hex(), ep.span_id.hex(), ep.parent_span_id) == (
        epoch.trace_id,
        epoch.span_id,
        b"",
    )
    assert (va.trace_id.hex(), va.parent_span_id.hex()) == (epoch.trace_id, epoch.span_id)
    assert va.span_id.hex() == validate.span_id
    assert attrs(ep.attributes) == {"epoch": 3, "lr": 0.5}
    assert ep.start_time_unix_nano < va.start_time_unix_nano <= va.end_time_unix_nano
    assert va.end_time_unix_nano <= ep.end_time_unix_nano
    assert [(e.name, attrs(e.attributes)) for e in ep.events] == [("checkpoint", {"step": 100})]
    assert ep.status.code == 0  # unset
    assert va.status.code == 2 and "empty set" in va.status.message  # ERROR
    (exception,) = va.events
    assert exception.name == "exception"
    ex = attrs(exception.attributes)
    assert (ex["exception.type"], ex["exception.message"]) == ("ValueError", "empty set")
    assert 'raise ValueError("empty set")' in ex["exception.stacktrace"]

    logs = {rec.body.string_value: (scope, rec) for scope, rec in receiver.logs()}
    scope, slow = logs["slow step"]
    assert (scope, slow.severity_number, slow.severity_text) == ("trainer", 13, "WARN")
    assert attrs(slow.attributes) == {"ms": 250}
    assert (slow.trace_id.hex(), slow.span_id.hex()) == (epoch.trace_id, epoch.span_id)
    _, outside = logs["outside"]
    assert attrs(outside.attributes) == {"k": True, "event.name": "outside"}
    assert outside.trace_id == b""
    assert all(h.get("x-team") == "rl" for h in receiver.headers)


def test_environment_variables_configure_the_exporter(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t0k3n")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "ppo-trainer")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "cluster=a100,team=rl")
    telemetron.configure(exporters=[{"type": "otlp"}])
    with timed_span("step"):
        pass
    telemetron.shutdown()
    ((resource, span),) = receiver.spans()
    assert span.name == "step"
    assert (resource["service.name"], resource["cluster"], resource["team"]) == (
        "ppo-trainer",
        "a100",
        "rl",
    )
    assert receiver.headers[0]["authorization"] == "Bearer t0k3n"


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_an_unavailable_collector_is_retried_and_gets_everything_once(
    receiver: Receiver, protocol: str
) -> None:
    receiver.unavailable_left = 3
    telemetron.configure(
        exporters=[
            {"type": "otlp", "endpoint": endpoint(receiver, protocol), "protocol": protocol}
        ],
        retry_initial_backoff_secs=0.01,
    )
    for i in range(20):
        with timed_span("step", span_attributes={"i": i}):
            pass
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    assert receiver.refused == 3
    got = sorted(attrs(span.attributes)["i"] for _, span in receiver.spans())
    assert got == list(range(20))


def test_a_dead_collector_is_disabled_while_the_file_exporter_keeps_everything(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run.jsonl"
    telemetron.configure(
        exporters=[
            {"type": "file", "path": str(out)},
            {
                "type": "otlp",
                "endpoint": "http://127.0.0.1:9",
                "timeout_secs": 1,
                "batch_max_size": 1,
                "spool": False,  # disabled and lost, as without a disk spool
            },
        ],
        max_retries=1,
        retry_initial_backoff_secs=0.01,
        max_consecutive_failures=3,
        error_strategy="silent",
    )
    for i in range(10):
        telemetron.get_recorder().event(None, "tick", {"i": i})
    with pytest.raises(telemetron.ExporterError, match="otlp: disabled: 3 consecutive failures"):
        telemetron.flush(30)
    health = {h["name"]: h for h in telemetron.exporter_health()}
    report = telemetron.shutdown()
    assert report is not None
    assert health["otlp"]["disabled"] is not None, health
    assert health["file"]["disabled"] is None
    ticks = [r["attributes"]["i"] for r in read_records(out) if r["kind"] == "event"]
    assert ticks == list(range(10))


def test_header_tokens_never_reach_logs_reports_or_descriptions(tmp_path: Path) -> None:
    token = "s3cr3t-t0k3n-value"
    script = textwrap.dedent(
        f"""
        import logging, telemetron
        logging.basicConfig(level=logging.DEBUG)
        telemetron.configure(
            exporters=[{{"type": "otlp", "endpoint": "http://127.0.0.1:9",
                         "protocol": "http/protobuf", "timeout_secs": 1,
                         "headers": {{"authorization": "Bearer {token}"}}}}],
            max_retries=0, error_strategy="warn",
        )
        print(telemetron.describe_config())
        with telemetron.timed_span("x"):
            pass
        print(telemetron.shutdown(timeout=10))
        """
    )
    env = dict(os.environ, RUST_LOG="debug")
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "otlp" in done.stdout and "background_errors" in done.stdout
    assert token not in done.stdout + done.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "rotel exited at start"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"rotel did not listen on {port}")


def test_rotel_collector_receives_spans_and_logs_over_both_protocols(tmp_path: Path) -> None:
    import rotel

    agent = Path(rotel.__file__).parent / "rotel-agent"
    grpc_port, http_port = free_port(), free_port()
    proc = subprocess.Popen(
        [str(agent), "start", "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}",
         "--otlp-http-endpoint", f"127.0.0.1:{http_port}", "--exporter", "blackhole",
         "--debug-log", "traces", "--debug-log", "logs", "--debug-log-verbosity", "detailed"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_listening(grpc_port, proc)
        wait_listening(http_port, proc)
        telemetron.configure(
            exporters=[
                {"type": "otlp", "name": "grpc", "endpoint": f"http://127.0.0.1:{grpc_port}"},
                {"type": "otlp", "name": "http", "protocol": "http/protobuf",
                 "endpoint": f"http://127.0.0.1:{http_port}"},
            ]
        )  # fmt: skip
        with timed_span("rotel_step", span_attributes={"batch": 7}) as span:
            telemetron.get_logger("rotel.test").info("hello collector")
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"] == [], report
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert output.count("Name           : rotel_step") == 2, output
    assert output.count(f"Trace ID       : {span.trace_id}") == 4  # 2 spans + 2 logs
    assert output.count("Body: Str(hello collector)") == 2
    assert "-> batch: Int(7)" in output


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_partial_success_is_counted_as_dropped_with_the_reason(
    receiver: Receiver, protocol: str
) -> None:
    receiver.reject_next = (2, "span name too long")
    telemetron.configure(
        exporters=[
            {"type": "otlp", "endpoint": endpoint(receiver, protocol), "protocol": protocol}
        ],
        error_strategy="silent",
    )
    for _ in range(5):
        with timed_span("step"):
            pass
    report = telemetron.shutdown()
    assert report is not None
    assert report["metrics"]["exporters"]["otlp"]["span_stop"]["dropped"] == 2
    assert any("rejected 2 span_stop" in e and "span name too long" in e
               for e in report["background_errors"]), report["background_errors"]  # fmt: skip
    assert [u["exporter"] for u in report["undelivered"]] == ["otlp"]
    assert report["undelivered"][0]["records"] == 2


def test_http_retry_after_is_honoured(receiver: Receiver) -> None:
    receiver.unavailable_left, receiver.retry_after = 1, 1
    telemetron.configure(
        exporters=[{"type": "otlp", "endpoint": receiver.http_endpoint,
                    "protocol": "http/protobuf"}],
        retry_initial_backoff_secs=0.01,
    )  # fmt: skip
    with timed_span("step"):
        pass
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    (refused_at, refused), (accepted_at, accepted) = receiver.arrivals
    assert (refused, accepted) == (False, True)
    assert accepted_at - refused_at >= 0.95, "the retry came before Retry-After: 1"


def test_an_otlp_endpoint_in_the_environment_adds_an_otlp_exporter(
    receiver: Receiver, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        """
        import telemetron
        print(telemetron.describe_config())
        with telemetron.timed_span("from_env"):
            pass
        telemetron.shutdown()
        """
    )
    env = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.grpc_endpoint)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "registry OTEL_EXPORTER_OTLP_ENDPOINT" in done.stdout
    assert [span.name for _, span in receiver.spans()] == ["from_env"]
    assert list((tmp_path / "telemetron-out").glob("*.jsonl")), "the default file exporter stays"


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_tls_with_a_custom_ca_and_a_client_certificate(tmp_path: Path, protocol: str) -> None:
    from otlp_receiver import make_certs

    certs = make_certs(tmp_path)
    receiver = Receiver(tls=certs).start()
    try:
        tls = {"ca_file": str(certs.ca), "client_cert_file": str(certs.client_cert),
               "client_key_file": str(certs.client_key)}  # fmt: skip
        telemetron.configure(
            exporters=[{"type": "otlp", "endpoint": endpoint(receiver, protocol),
                        "protocol": protocol, **tls}],
        )  # fmt: skip
        with timed_span("secure"):
            pass
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"] == [], report
        assert [span.name for _, span in receiver.spans()] == ["secure"]

        # Without the CA the collector's certificate is not trusted: nothing is delivered (and,
        # without a spool, nothing is kept).
        telemetron.configure(
            exporters=[{"type": "otlp", "endpoint": endpoint(receiver, protocol),
                        "protocol": protocol, "timeout_secs": 2, "spool": False}],
            max_retries=0, error_strategy="silent",
        )  # fmt: skip
        with timed_span("untrusted"):
            pass
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"][0]["exporter"] == "otlp"
        assert [span.name for _, span in receiver.spans()] == ["secure"]
    finally:
        receiver.stop()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_collector_down_at_start_gets_everything_once_it_comes_up(protocol: str) -> None:
    from otlp_receiver import Refuser

    down = Refuser()
    port = down.port
    url = f"http://127.0.0.1:{port}"
    telemetron.configure(
        exporters=[{"type": "otlp", "endpoint": url, "protocol": protocol, "timeout_secs": 2}],
        max_retries=50, retry_initial_backoff_secs=0.02, retry_max_backoff_secs=0.1,
        batch_max_age_secs=0.05,
    )  # fmt: skip
    for i in range(10):
        with timed_span("step", span_attributes={"i": i}):
            pass
    down.wait_attempts(2)  # the exporter tried (and failed) at least twice
    down.close()
    receiver = Receiver().start(
        grpc_port=port if protocol == "grpc" else 0,
        http_port=port if protocol != "grpc" else 0,
    )
    try:
        report = telemetron.shutdown(timeout=30)
        assert report is not None and report["undelivered"] == [], report
        got = sorted(attrs(span.attributes)["i"] for _, span in receiver.spans())
        assert got == list(range(10))
    finally:
        receiver.stop()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_metric_series_arrive_as_gauges_with_step_scale_and_labels(
    receiver: Receiver, protocol: str
) -> None:
    telemetron.configure(
        exporters=[{"type": "otlp", "endpoint": endpoint(receiver, protocol), "protocol": protocol}]
    )
    telemetron.log("loss", [0.5, 0.25], labels={"split": "train"}, timestamp=1_700_000_000_000)
    telemetron.log_distributed("throughput", 2.5, step=40, scale="EPISODE")
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    got = {
        m.name: [(attrs(p.attributes), p.as_double, p.time_unix_nano) for p in m.gauge.data_points]
        for m in receiver.metrics()
    }
    assert got["loss"] == [
        ({"split": "train", "scale": "ML_STEP", "step": 0}, 0.5, 1_700_000_000_000 * 10**6),
        ({"split": "train", "scale": "ML_STEP", "step": 1}, 0.25, 1_700_000_000_000 * 10**6),
    ]
    ((throughput_attrs, value, _),) = got["throughput"]
    assert throughput_attrs == {"scale": "EPISODE", "ordering": "unordered", "step": 40}
    assert value == 2.5


def test_rl_series_and_histograms_arrive_with_rl_ids_and_buckets(receiver: Receiver) -> None:
    telemetron.configure(exporters=[{"type": "otlp", "endpoint": receiver.grpc_endpoint}])
    telemetron.log_rl_environment_step(
        "reward", [[1.0, 2.0], [3.0, 4.0]], 7, episode=[0, 2], env_id=["a", "b"]
    )
    telemetron.log_histogram("weights", ([3, 2], [0.0, 0.5, 1.0]), step=4)
    telemetron.log_config({"lr": 0.5})
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    metrics = {m.name: m for m in receiver.metrics()}
    points = [(attrs(p.attributes), p.as_double) for p in metrics["reward"].gauge.data_points]
    assert points[1] == (
        {"scale": "ENVIRONMENT_STEP", "rl.env_id": "a", "rl.step": 7, "rl.episode": 0, "step": 1},
        2.0,
    )
    assert points[2][0]["rl.env_id"] == "b" and points[2][0]["rl.episode"] == 2
    (h,) = metrics["weights"].histogram.data_points
    assert (list(h.bucket_counts), list(h.explicit_bounds), h.count) == (
        [0, 3, 2, 0], [0.0, 0.5, 1.0], 5
    )  # fmt: skip
    assert attrs(h.attributes) == {"scale": "ML_STEP", "step": 4}
    configs = [rec for _, rec in receiver.logs() if rec.body.string_value == "run attributes"]
    assert attrs(configs[0].attributes)["config/lr"] == 0.5
