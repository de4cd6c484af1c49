"""The Metrana exporter against the reference ingestion server (official stubs): every metric
call arrives with exact values, steps, labels and timestamps; re-sent requests after a dropped
stream land exactly once; CloseRun closes the run; an ownership conflict is refused."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron

sys.path.insert(0, str(Path(__file__).parents[2] / "tests" / "metrana_server"))
from server import MetranaServer  # noqa: E402


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MetranaServer]:
    s = MetranaServer(tmp_path / "state.json").start()
    yield s
    s.stop()


def configure(server: MetranaServer, **settings: Any) -> None:
    telemetron.configure(
        exporters=[{"type": "metrana", "endpoint": server.endpoint, "api_key": "k",
                    "init_timeout_secs": 10}],
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
    telemetron.configure(
        exporters=[{"type": "metrana", "endpoint": server.endpoint}],
        workspace="w", project="p", run_name="r", orchestration_id="job-2",
        max_consecutive_failures=1, error_strategy="silent",
    )  # fmt: skip
    telemetron.log("loss", 2.0)
    report = telemetron.shutdown()
    assert report is not None
    assert any("OrchestrationIdMismatch" in e for e in report["background_errors"]), report
    assert [p[:2] for p in server.points("loss")] == [(0, 1.0)]


def test_a_refused_request_does_not_block_the_ones_after_it(server: MetranaServer) -> None:
    configure(server, batch_max_size=1, max_retries=0, error_strategy="silent")
    telemetron.log_distributed("shared", 1.0, step=[5])
    telemetron.flush()
    # Another writer of this run logs "shared" as ordered: the server refuses the mix.
    configure(server, batch_max_size=1, max_retries=0, error_strategy="silent")
    telemetron.log("shared", 2.0)  # refused by the server (ordering mismatch)
    telemetron.log("loss", 3.0)  # must still arrive
    report = telemetron.shutdown()
    assert report is not None
    assert any("cannot be mixed" in e for e in report["background_errors"]), report
    assert [p[:2] for p in server.points("loss")] == [(0, 3.0)]
