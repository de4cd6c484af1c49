"""The Metrana exporter against the reference ingestion server (official stubs): every metric
call arrives with exact values, steps, labels and timestamps; re-sent requests after a dropped
stream land exactly once; CloseRun closes the run; an ownership conflict is refused."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron

sys.path.insert(0, str(Path(__file__).parents[2] / "tests" / "metrana_server"))
from otlp_receiver import make_certs  # noqa: E402
from server import MetranaServer  # noqa: E402


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MetranaServer]:
    s = MetranaServer(tmp_path / "state.json").start()
    yield s
    s.stop()


def configure(server: MetranaServer, **settings: Any) -> None:
    exporter = {"type": "metrana", "endpoint": server.endpoint, "api_key": "k",
                "init_timeout_secs": 10}  # fmt: skip
    for option in ("max_pending_requests", "ack_stall_timeout_secs", "max_msg_size", "spool"):
        if option in settings:
            exporter[option] = settings.pop(option)
    telemetron.configure(
        exporters=[exporter],
        workspace="w", project="p", run_name="r", orchestration_id="job-1", **settings,
    )  # fmt: skip


def f32(v: float) -> float:
    return float(np.float32(v))


def test_every_metric_call_arrives_exactly(server: MetranaServer) -> None:
    configure(server)
    telemetron.log("loss", [0.5, 0.25], labels={"split": "train"}, timestamp=1_700_000_000_000)
    telemetron.log("loss", 0.1, labels={"split": "train"})
    telemetron.log_distributed("tput", [2.0, 1.0], step=[9, 3], dtype="float64")
    telemetron.log_rl_environment_step("reward", [[1.0, 2.0], [3.0, 4.0]], 5, episode=[0, 1],
                                       env_id=["a", "b"])  # fmt: skip
    telemetron.log_histogram("weights", ([3, 2], [0.0, 0.5, 1.0]), step=4)
    telemetron.log_config({"lr": 0.5})
    telemetron.add_tags(["x"])
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    assert server.points("loss", {"split": "train"}) == [
        (0, 0.5, 1_700_000_000_000), (1, 0.25, 1_700_000_000_000), (2, f32(0.1), None)
    ]  # fmt: skip
    assert server.points("tput") == [(9, 2.0, None), (3, 1.0, None)]
    assert server.rl_points("reward", "a") == [[5, 0, 0, 1.0, None], [5, 0, 1, 2.0, None]]
    assert server.rl_points("reward", "b") == [[5, 1, 0, 3.0, None], [5, 1, 1, 4.0, None]]
    run = server.run("r")
    (hist,) = next(s for s in run["series"].values() if s["metric"] == "weights")["histograms"]
    assert (hist["step"], hist["bin_edges"], hist["counts"]) == (4, [0.0, 0.5, 1.0], [3, 2])
    assert run["attributes"] == {"config/lr": 0.5, "sys/tags": ["x"]}
    assert run["closed"] == ""  # CloseRun arrived


def test_a_dropped_stream_is_resumed_and_every_point_lands_once(server: MetranaServer) -> None:
    server.faults.drop_stream_after = 2
    configure(server, batch_max_size=1, retry_initial_backoff_secs=0.01)
    for i in range(6):
        telemetron.log("loss", float(i))
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    assert [p[:2] for p in server.points("loss")] == [(i, float(i)) for i in range(6)]


def test_another_jobs_run_is_refused_under_never(server: MetranaServer) -> None:
    configure(server)
    telemetron.log("loss", 1.0)
    telemetron.shutdown()
    with pytest.raises(telemetron.ExporterError, match="OrchestrationIdMismatch.*job-1"):
        telemetron.configure(
            exporters=[{"type": "metrana", "endpoint": server.endpoint}],
            workspace="w", project="p", run_name="r", orchestration_id="job-2",
        )  # fmt: skip
    assert not telemetron.is_configured()
    # resume_strategy: allow continues into it.
    telemetron.configure(
        exporters=[{"type": "metrana", "endpoint": server.endpoint, "resume_strategy": "allow"}],
        workspace="w", project="p", run_name="r", orchestration_id="job-2",
    )  # fmt: skip
    telemetron.log("loss", 2.0)
    telemetron.shutdown()
    assert [p[:2] for p in server.points("loss")] == [(0, 1.0), (1, 2.0)]


def test_a_restarted_process_resumes_every_cursor(server: MetranaServer) -> None:
    configure(server)
    telemetron.log("loss", [0.5, 0.4, 0.3], labels={"split": "train"})
    telemetron.log_distributed("tput", 1.0, step=[7])
    telemetron.log_rl_environment_step("reward", [1.0, 2.0], 5, episode=[2, 0],
                                       env_id=["a", "b"])  # fmt: skip
    telemetron.shutdown()
    configure(server)  # a new runtime knows nothing but what the handshake tells it
    assert telemetron.get_last_step("loss", labels={"split": "train"}) == 2
    assert telemetron.get_env_last_rl_step_and_episode("a") == (5, 2)
    telemetron.log("loss", 0.2, labels={"split": "train"})
    with pytest.raises(telemetron.ValidationError, match="ordered"):
        telemetron.log("tput", 2.0)  # the series is pinned unordered by the server's cursor
    telemetron.log_rl_environment_step("reward", [3.0], 6, episode=[2], env_id=["a"])
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    assert [p[0] for p in server.points("loss", {"split": "train"})] == [0, 1, 2, 3]
    assert [r[:4] for r in server.rl_points("reward", "a")] == [[5, 2, 0, 1.0], [6, 2, 0, 3.0]]


def test_two_processes_of_one_job_share_the_run(server: MetranaServer, tmp_path: Path) -> None:
    script = tmp_path / "rank.py"
    script.write_text(
        "import sys, telemetron\n"
        "rank = int(sys.argv[2])\n"
        "telemetron.configure(exporters=[{'type': 'metrana', 'endpoint': sys.argv[1]}],\n"
        "    workspace='w', project='p', run_name='shared-run', logger_id=rank + 1)\n"
        "telemetron.log('rank_loss', [1.0 + rank, 2.0 + rank], labels={'rank': str(rank)})\n"
        "telemetron.log_distributed('global', float(rank), step=[rank])\n"
        "telemetron.shutdown()\n"
    )
    env = {**os.environ, "TORCHELASTIC_RUN_ID": "elastic-42"}
    env.pop("TELEMETRON_ORCHESTRATION_ID", None)
    env.pop("METRANA_ORCHESTRATION_ID", None)
    ranks = [
        subprocess.Popen([sys.executable, str(script), server.endpoint, str(r)], env=env)
        for r in range(2)
    ]
    assert [p.wait(timeout=60) for p in ranks] == [0, 0]
    run = server.run("shared-run")
    assert run["orchestration_identifier"] == "elastic-42"
    for r in range(2):
        points = server.points("rank_loss", {"rank": str(r)}, run_name="shared-run")
        assert [p[:2] for p in points] == [(0, 1.0 + r), (1, 2.0 + r)]
    assert sorted(p[:2] for p in server.points("global", run_name="shared-run")) == [
        (0, 0.0), (1, 1.0)
    ]  # fmt: skip


def test_server_down_at_start_is_a_clear_error_within_the_init_timeout(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(telemetron.ExporterError, match=rf"127.0.0.1:{port}.*init_timeout_secs"):
        telemetron.configure(
            exporters=[{"type": "metrana", "endpoint": f"http://127.0.0.1:{port}",
                        "init_timeout_secs": 1}],
            workspace="w", project="p", run_name="r",
        )  # fmt: skip
    assert time.monotonic() - started < 20  # bounded by the timeout, not by TCP's retries


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def while_stalled(
    server: MetranaServer, work: Callable[[], object], until: Callable[[], bool], what: str
) -> None:
    """Runs ``work`` in a thread while the server holds its acks, until ``until`` holds; then
    releases the acks and waits for ``work``."""
    assert server.faults.hold_acks is not None
    thread = threading.Thread(target=work)
    thread.start()
    try:
        wait_for(until, what)
    finally:
        server.faults.hold_acks.set()
    thread.join(timeout=60)
    assert not thread.is_alive(), f"{work} still running after the acks were released"


def metric_counts() -> dict[str, int]:
    return dict(telemetron.metrics(verbose=True)["exporters"]["metrana"]["metric"])


def test_sent_counts_what_the_server_acknowledged(server: MetranaServer) -> None:
    server.faults.hold_acks = threading.Event()
    configure(server, batch_max_size=1)
    telemetron.log("loss", 1.0)
    wait_for(lambda: server.requests_seen == 1, "the request")
    counts = metric_counts()
    assert (counts["enqueued"], counts["sent"]) == (1, 0)  # applied, not acknowledged yet
    server.faults.hold_acks.set()
    telemetron.flush()
    assert metric_counts()["sent"] == 1
    telemetron.shutdown()


def test_drop_new_under_a_stalled_server_counts_the_drops(server: MetranaServer) -> None:
    server.faults.hold_acks = threading.Event()
    configure(server, batch_max_size=1, exporter_queue_capacity=4, backpressure="drop_new",
              error_strategy="silent")  # fmt: skip
    try:
        for i in range(50):
            telemetron.log("loss", float(i))
        wait_for(lambda: metric_counts()["added"] == 50, "every record to reach the exporter")
        counts = metric_counts()
        assert counts["dropped"] > 0 and counts["enqueued"] + counts["dropped"] == 50, counts
    finally:
        server.faults.hold_acks.set()
    telemetron.shutdown()
    steps = [p[0] for p in server.points("loss")]
    assert len(steps) == counts["enqueued"] and steps == sorted(steps)


def test_block_under_a_stalled_server_loses_nothing(server: MetranaServer) -> None:
    server.faults.hold_acks = threading.Event()
    configure(server, batch_max_size=1, exporter_queue_capacity=2, queue_capacity=2,
              backpressure="block", max_pending_requests=1)  # fmt: skip
    while_stalled(
        server,
        lambda: [telemetron.log("loss", float(i)) for i in range(30)],
        until=lambda: server.requests_seen >= 1,
        what="the first request",
    )
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    assert [p[:2] for p in server.points("loss")] == [(i, float(i)) for i in range(30)]


def test_with_the_server_away_the_exporter_holds_little_and_counts_each_record_once(
    server: MetranaServer, tmp_path: Path
) -> None:
    # Without a disk spool (with one, the eight go to disk: tests/faults).
    configure(server, batch_max_size=1, max_pending_requests=1, max_retries=1,
              retry_initial_backoff_secs=0.01, retry_max_backoff_secs=0.02,
              max_consecutive_failures=1000, error_strategy="silent", spool=False)  # fmt: skip
    port = server.port
    server.stop()
    for i in range(10):
        telemetron.log("loss", float(i))
    # Two batches (twice the window) wait in the sender; the wrapper gives up on the other eight,
    # which were never sent.
    wait_for(lambda: metric_counts()["failed"] == 8, "eight failed batches")
    back = MetranaServer(tmp_path / "state.json", port=port).start()
    try:
        report = telemetron.shutdown()
    finally:
        back.stop()
    assert report is not None
    counts = report["metrics"]["exporters"]["metrana"]["metric"]
    assert (counts["added"], counts["sent"], counts["failed"], counts["dropped"]) == (10, 2, 8, 0)
    assert [p[:2] for p in back.points("loss")] == [(0, 0.0), (1, 1.0)]
    (undelivered,) = report["undelivered"]
    assert (undelivered["exporter"], undelivered["records"]) == ("metrana", 8)
    assert undelivered["reason"].startswith("8 failed after retries"), undelivered


def test_a_stalled_stream_is_replaced_by_the_watchdog(server: MetranaServer) -> None:
    server.faults.hold_acks = threading.Event()
    configure(server, batch_max_size=1, ack_stall_timeout_secs=0.2)
    telemetron.log("loss", 1.0)
    # flush waits for the ack, so the watchdog runs
    while_stalled(
        server, telemetron.flush, until=lambda: server.streams_opened >= 2, what="a second stream"
    )
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    assert [p[:2] for p in server.points("loss")] == [(0, 1.0)]


def test_requests_are_cut_at_max_msg_size(server: MetranaServer) -> None:
    configure(server, batch_max_size=100, batch_max_age_secs=60, max_msg_size=1000)
    for i in range(10):
        telemetron.log("loss", np.full(100, i, dtype=np.float32))
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    points = server.points("loss")
    assert [p[:2] for p in points] == [(s, float(s // 100)) for s in range(1000)]
    # one request per ~2 records (each ~420 bytes), none much over the limit
    assert len(server.request_sizes) >= 4 and max(server.request_sizes) < 1000 + 500


def test_a_refused_request_does_not_block_the_ones_after_it(
    server: MetranaServer, tmp_path: Path
) -> None:
    configure(server, batch_max_size=1, max_retries=0, error_strategy="silent")
    # Another writer of this run, after our handshake, logs "shared" as distributed...
    other = tmp_path / "other.py"
    other.write_text(
        "import sys, telemetron\n"
        "telemetron.configure(exporters=[{'type': 'metrana', 'endpoint': sys.argv[1]}],\n"
        "    workspace='w', project='p', run_name='r', orchestration_id='job-1')\n"
        "telemetron.log_distributed('shared', 1.0, step=[5])\n"
        "telemetron.shutdown()\n"
    )
    subprocess.run([sys.executable, str(other), server.endpoint], check=True, timeout=60)
    telemetron.log("shared", 2.0)  # ...so the server refuses this one (ordering mismatch)
    telemetron.log("loss", 3.0)  # must still arrive
    telemetron.flush()
    assert metric_counts()["dropped"] == 1 and metric_counts()["sent"] == 1
    report = telemetron.shutdown()
    assert report is not None
    assert any("cannot be mixed" in e for e in report["background_errors"]), report
    assert [p[:2] for p in server.points("loss")] == [(0, 3.0)]
    assert [p[:2] for p in server.points("shared")] == [(5, 1.0)]


def test_tls_with_a_custom_ca_and_a_client_certificate(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    pems = (certs.server_key.read_bytes(), certs.server_cert.read_bytes(), certs.ca.read_bytes())
    server = MetranaServer(tmp_path / "state.json", tls=pems).start()
    exporter = {"type": "metrana", "endpoint": server.endpoint, "init_timeout_secs": 10,
                "ca_file": str(certs.ca), "client_cert_file": str(certs.client_cert),
                "client_key_file": str(certs.client_key)}  # fmt: skip
    try:
        assert server.endpoint.startswith("https://")
        telemetron.configure(exporters=[exporter], workspace="w", project="p", run_name="r")
        telemetron.log("loss", 1.0)
        report = telemetron.shutdown()
        assert report is not None and report["undelivered"] == [], report
        assert [p[:2] for p in server.points("loss")] == [(0, 1.0)]
        # Without our CA the server's certificate is not trusted: a clear error at configure.
        untrusted = {**exporter, "init_timeout_secs": 1}
        del untrusted["ca_file"]
        with pytest.raises(telemetron.ExporterError, match="init_timeout_secs"):
            telemetron.configure(exporters=[untrusted], workspace="w", project="p", run_name="r")
    finally:
        server.stop()


class AuthServer:
    """Metrana's auth root: the key exchange and the refresh grant, recording each call."""

    def __init__(self, tokens: list[dict[str, Any]]) -> None:
        self.calls: list[tuple[str, Any]] = []
        calls, answers, auth = self.calls, iter(tokens), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if self.path == "/api/management/v1/tokens/exchange":
                    calls.append(("exchange", json.loads(body)))
                    if json.loads(body) != {"api_token": auth.key}:
                        self.send_response(401)
                        self.end_headers()
                        return
                else:
                    calls.append((self.path, dict(urllib.parse.parse_qsl(body))))
                answer = json.dumps(next(answers)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        # The key that this root accepts: base64 JSON naming it.
        self.key = base64.b64encode(json.dumps({"url": self.url}).encode()).decode()


def jwt(expires_in: float) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': int(time.time() + expires_in)})}.sig"


def test_an_ey_key_is_exchanged_and_refreshed_and_never_shown(tmp_path: Path) -> None:
    soon, fresh = jwt(10), jwt(3600)  # the first expires within the 30 s refresh margin
    auth = AuthServer([{"access_token": soon, "refresh_token": "r-1"},
                       {"access_token": fresh, "refresh_token": "r-2"}])  # fmt: skip
    key = auth.key
    assert key.startswith("ey")
    server = MetranaServer(tmp_path / "state.json", token=fresh).start()
    try:
        telemetron.configure(
            exporters=[{"type": "metrana", "endpoint": server.endpoint, "api_key": key}],
            workspace="w", project="p", run_name="r",
        )  # fmt: skip
        telemetron.log("loss", 1.0)
        report = telemetron.shutdown()
    finally:
        server.stop()
    assert report is not None and report["undelivered"] == [], report
    assert [p[:2] for p in server.points("loss")] == [(0, 1.0)]
    assert auth.calls == [
        ("exchange", {"api_token": key}),
        ("/auth/realms/metrana/protocol/openid-connect/token",
         {"grant_type": "refresh_token", "client_id": "metrana-sdk", "refresh_token": "r-1"}),
    ]  # fmt: skip
    assert set(server.authorizations) == {f"Bearer {fresh}"}
    assert key not in json.dumps(report) and fresh not in json.dumps(report)


def test_a_refused_key_is_a_clear_error_without_the_key(tmp_path: Path) -> None:
    auth = AuthServer([])
    # A key naming this root that the root does not accept.
    key = base64.b64encode(json.dumps({"url": auth.url, "id": 2}).encode()).decode()
    server = MetranaServer(tmp_path / "state.json").start()
    try:
        with pytest.raises(telemetron.ExporterError, match="api_key was refused") as raised:
            telemetron.configure(
                exporters=[{"type": "metrana", "endpoint": server.endpoint, "api_key": key}],
                workspace="w", project="p", run_name="r",
            )  # fmt: skip
    finally:
        server.stop()
    assert key not in str(raised.value)
