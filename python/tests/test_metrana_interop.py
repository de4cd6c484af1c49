"""Telemetron and Metrana's own client (metrana-logging-engine 0.12, from PyPI) take turns in
one run on the reference server: each resumes where the other stopped, through the handshake's
cursors. This pins the reference server (and our reading of it) to what Metrana's client does,
`flat_labels` included."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import metrana_logging_engine as mle
import numpy as np
import pytest

import telemetron

sys.path.insert(0, str(Path(__file__).parents[2] / "tests" / "metrana_server"))
from server import MetranaServer  # noqa: E402

LABELS = {"split": "train", "zone": "a/b c+%?#ü"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MetranaServer]:
    s = MetranaServer(tmp_path / "state.json").start()
    yield s
    s.stop()


def engine(server: MetranaServer) -> mle.Logger:
    config = mle.Config(
        "key", "w", "p", "r", endpoint=server.endpoint, orchestration_id="job",
        resume_strategy=mle.ResumeStrategy.Allow, log_level=mle.LogLevel.Off,
    )  # fmt: skip
    return mle.Logger(config)


def test_each_client_resumes_where_the_other_stopped(server: MetranaServer) -> None:
    first = engine(server)
    first.log_std_floats("loss", "ML_STEP", np.array([1.0, 2.0, 3.0]), LABELS)
    first.log_rl_floats("reward", "ENVIRONMENT_STEP", 4, ["env-a"], np.array([[0.5, 0.25]]))
    first.close(30.0)

    telemetron.configure(
        exporters=[{"type": "metrana", "endpoint": server.endpoint, "api_key": "key"}],
        workspace="w", project="p", run_name="r", orchestration_id="job",
    )  # fmt: skip
    assert telemetron.get_last_step("loss", labels=LABELS) == 2
    assert telemetron.get_env_last_rl_step_and_episode("env-a") == (4, 0)
    telemetron.log("loss", 4.0, labels=LABELS)
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report

    again = engine(server)
    assert again.get_series_last_step("loss", "ML_STEP", LABELS) == 3
    again.log_std_floats("loss", "ML_STEP", np.array([5.0]), LABELS)
    again.close(30.0)
    assert [p[:2] for p in server.points("loss", LABELS)] == [
        (0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0), (4, 5.0)
    ]  # fmt: skip


def test_label_values_reserve_what_metrana_reserves() -> None:
    telemetron.configure(exporters=[])
    try:
        for value in ("a=b", "a&b"):
            with pytest.raises(telemetron.ValidationError, match="label value.*reserved"):
                telemetron.log("loss", 1.0, labels={"k": value})
        telemetron.log("loss", 1.0, labels=LABELS)  # everything else is taken
        assert telemetron.get_last_step("loss", labels=LABELS) == 0
    finally:
        telemetron.shutdown()
