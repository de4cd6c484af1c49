"""`import telemetron.metrana as metrana`: Metrana's documented examples (its README, 1.11)
run unchanged against the reference Metrana server, which then holds their points; Metrana's
init arguments and METRANA_* variables are honoured; what telemetron does not do raises
NotImplementedError naming it. The disk spool options (offline runs, ``disk=``, ``DiskConfig``,
``replay_spool``) work as Metrana's."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron
import telemetron.metrana as metrana

sys.path.insert(0, str(Path(__file__).parents[2] / "tests" / "metrana_server"))
from server import MetranaServer  # noqa: E402


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MetranaServer]:
    s = MetranaServer(tmp_path / "state.json").start()
    monkeypatch.setenv("METRANA_INGESTION_URL", s.endpoint)
    monkeypatch.setenv("METRANA_API_KEY", "key-from-env")
    monkeypatch.delenv("METRANA_ORCHESTRATION_ID", raising=False)
    yield s
    metrana.close(10)
    s.stop()


def system_series(server: MetranaServer, run: str) -> list[str]:
    series = server.run(run)["series"].values()
    return [s["metric"] for s in series if s["metric"].startswith("system/")]


def f32(v: float) -> float:
    return float(np.float32(v))


def test_readme_quickstart(server: MetranaServer) -> None:
    metrana.init(
        api_key="your-api-key",
        workspace_name="my-workspace",
        project_name="my-project",
        run_name="run-001",
    )
    for step in range(3):
        metrana.log("loss", 1.0 / (step + 1))
        metrana.log({"accuracy": 0.5 + step / 10, "lr": 3e-4})
    info = metrana.close()
    assert info is not None and info.metrics.float_points_sent == 9
    assert [(s, v) for s, v, _ in server.points("loss", run_name="run-001")] == [
        (0, 1.0), (1, f32(0.5)), (2, f32(1 / 3))
    ]  # fmt: skip
    assert [s for s, _, _ in server.points("accuracy", run_name="run-001")] == [0, 1, 2]
    assert server.authorizations[-1] == "Bearer your-api-key"
    assert server.run("run-001")["closed"] == ""


def test_readme_rl_loop(server: MetranaServer) -> None:
    metrana.init(api_key="...", workspace_name="ws", project_name="proj", run_name="rl-001")
    env_ids = ["e0", "e1"]
    for rl_step in range(2):
        metrana.log_rl_episode("episode_return", 10.0 + rl_step, rl_step=rl_step, episode=rl_step)
        rewards = np.arange(6, dtype=np.float32).reshape(2, 3) + rl_step
        metrana.log_rl_environment_step(
            "reward", rewards, rl_step=rl_step, env_id=env_ids, episode=[0, rl_step]
        )
    metrana.close()
    assert server.rl_points("reward", "e0", run_name="rl-001") == [
        [0, 0, 0, 0.0, None], [0, 0, 1, 1.0, None], [0, 0, 2, 2.0, None],
        [1, 0, 3, 1.0, None], [1, 0, 4, 2.0, None], [1, 0, 5, 3.0, None],
    ]  # fmt: skip
    e1 = server.rl_points("reward", "e1", run_name="rl-001")
    assert [(p[0], p[1], p[2]) for p in e1] == [(0, 0, 0), (0, 0, 1), (0, 0, 2),
                                                (1, 1, 0), (1, 1, 1), (1, 1, 2)]  # fmt: skip


def test_readme_logging_forms(server: MetranaServer) -> None:
    metrana.init(workspace_name="ws", project_name="proj", run_name="forms")  # key from env
    metrana.log("loss", 0.5)
    metrana.log("loss", [0.51, 0.49, 0.48])
    metrana.log("loss2", [1.0, 2.0, 3.0], step=100)
    metrana.log("loss3", [1.0, 2.0, 3.0], step=[10, 20, 30])
    metrana.log("reward", 1.0, evaluation=False)
    metrana.log("reward", 2.0, evaluation=True)
    metrana.log("reward_by_policy", 3.0, labels={"policy": "greedy"})
    last = metrana.get_last_step("loss")
    metrana.log("loss", 0.1, step=0 if last is None else last + 1)
    metrana.log_histogram("weights/l0", metrana.Histogram.from_numpy(
        np.histogram(np.array([0.1, 0.2, 0.9]), bins=2)), step=100)  # fmt: skip
    metrana.log_scatter("latents", [1.0, 2.0], [3.0, 4.0], step=100, x_title="pc1", y_title="pc2")
    metrana.log_config({"optimizer": {"name": "adam", "lr": 3e-4}, "batch_size": 256})
    metrana.set_tags(["baseline", "v2"])
    metrana.add_tags(["ablation"])
    metrana.remove_tags(["baseline"])
    metrana.set_description("LR sweep, seed 0")
    metrana.log_distributed("shared", 1.0, step=7)
    metrana.close()
    assert [s for s, _, _ in server.points("loss", run_name="forms")] == [0, 1, 2, 3, 4]
    assert [s for s, _, _ in server.points("loss2", run_name="forms")] == [100, 101, 102]
    assert [s for s, _, _ in server.points("loss3", run_name="forms")] == [10, 20, 30]
    assert server.points("reward", {"evaluation": "false"}, run_name="forms")[0][1] == 1.0
    assert server.points("reward", {"evaluation": "true"}, run_name="forms")[0][1] == 2.0
    assert server.points("shared", run_name="forms") == [(7, 1.0, None)]
    attributes = server.run("forms")["attributes"]
    assert attributes["config/optimizer/name"] == "adam" and attributes["config/batch_size"] == 256
    assert attributes["sys/description"] == "LR sweep, seed 0"
    assert server.authorizations[-1] == "Bearer key-from-env"


def test_init_arguments_and_metrana_variables(
    server: MetranaServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("METRANA_BACKPRESSURE_STRATEGY", "DropNew")  # CamelCase, as Metrana
    monkeypatch.setenv("METRANA_ORCHESTRATION_ID", "job-7")
    metrana.init("ws", "proj", "vars", default_dtype="float64", file=tmp_path / "copy.jsonl",
                 config={"seed": 0}, tags=["t"], description="d",
                 system_metrics_interval_secs=1)  # fmt: skip
    assert metrana.is_initialized() and not metrana.is_offline()
    assert telemetron.orchestration_id() == "job-7"
    assert '"drop_new"' in telemetron.describe_config()
    metrana.log("x", 0.1)  # default_dtype float64: exact
    # Metrana samples system metrics by default; so does the drop-in (first sample after 1 s).
    deadline = time.monotonic() + 30
    while not system_series(server, "vars") and time.monotonic() < deadline:
        metrana.flush(10)
    metrana.close()
    assert server.points("x", run_name="vars") == [(0, 0.1, None)]
    rss = server.points("system/process/rss_bytes", run_name="vars")
    assert rss and all(value > 0 for _, value, _ in rss)
    assert (tmp_path / "copy.jsonl").exists()
    assert not metrana.is_initialized()


def test_system_metrics_can_be_turned_off(
    server: MetranaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRANA_CAPTURE_SYSTEM_METRICS", "false")
    metrana.init("ws", "proj", "nosys")
    metrana.log("x", 1.0)
    metrana.close()
    assert not [
        s for s in server.run("nosys")["series"].values() if s["metric"].startswith("system/")
    ]


def test_calls_outside_init_raise_not_initialized(server: MetranaServer) -> None:
    with pytest.raises(metrana.MetranaNotInitializedError):
        metrana.log("loss", 1.0)
    metrana.init("ws", "proj", "closed")
    metrana.close()
    with pytest.raises(metrana.MetranaNotInitializedError):
        metrana.log_rl_episode("r", 1.0, 0)
    assert metrana.close() is None


def test_exceptions_are_telemetrons(server: MetranaServer) -> None:
    metrana.init("ws", "proj", "errors")
    with pytest.raises(metrana.MetranaValidationError):
        metrana.log("loss", float("nan"))
    assert issubclass(metrana.MetranaValidationError, telemetron.ValidationError)
    with pytest.raises(metrana.MetranaValidationError, match="micro- or nanoseconds"):
        metrana.log_rl_step("loss", 1.0, timestamp=1_700_000_000_000_000_000)  # 0.2.1's ns
    metrana.check_sender_errors()  # healthy: no error


def test_a_missing_api_key_is_refused(
    server: MetranaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRANA_API_KEY")
    with pytest.raises(metrana.NoMetranaApiKeyError, match="METRANA_API_KEY"):
        metrana.init("ws", "proj", "nokey")


@pytest.mark.parametrize(
    ("call", "feature"),
    [
        (lambda: metrana.init("ws", "p", "r", fork_from_run="x", fork_at_step=3), "forking"),
        (lambda: metrana.init("ws", "p", "r", connect_timeout_secs=1.0), "connect timeout"),
        (
            lambda: metrana.init("ws", "p", "r", disk=metrana.DiskConfig("/tmp/s", zstd_level=9)),
            "zstd level",
        ),
        (lambda: metrana.follow_spool, "follow_spool"),
        (lambda: metrana.failover_to_spool, "failover_to_spool"),
        (lambda: metrana.tracing, "metrana.tracing"),
        (lambda: metrana.upload_artifact, "artifact API"),
        (lambda: metrana.shutdown_logger(), "shutdown_logger"),
    ],
)
def test_what_is_not_supported_says_so(server: MetranaServer, call: Any, feature: str) -> None:
    with pytest.raises(NotImplementedError, match=feature):
        call()
    assert not metrana.is_initialized()


def test_rendering_without_upload(server: MetranaServer, tmp_path: Path) -> None:
    metrana.init("ws", "proj", "video", rendering_output_dir=tmp_path)
    frame = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(NotImplementedError, match="upload_renderings=False"):
        metrana.log_rendering(frame, 0, 0)
    metrana.close()
    metrana.init("ws", "proj", "video2", rendering_output_dir=tmp_path, upload_renderings=False)
    assert metrana.log_rendering(frame, 0, 0, env_id="e")
    metrana.close()
    assert list((tmp_path / "video2" / "e").glob("episode_0*.mp4"))


@pytest.fixture
def spool_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Metrana's spool variable, and not Telemetron's (which would outrank init's disk=)."""
    monkeypatch.delenv("TELEMETRON_SPOOL_DIR", raising=False)
    base = tmp_path / "metrana-spools"
    monkeypatch.setenv("METRANA_DISK_SPOOL_DIR", str(base))
    return base


def test_an_offline_run_is_delivered_by_replay_spool(
    server: MetranaServer, spool_base: Path
) -> None:
    metrana.init("ws", "proj", "offline-1", init_mode="offline")
    assert metrana.is_offline()
    for step in range(3):
        metrana.log("loss", float(step))
    metrana.flush()
    assert metrana.get_metrics().float_points_disk_persisted == 3
    info = metrana.close()
    assert info is not None and not metrana.is_offline()
    # Nothing reached the server; the spool says what is left, under METRANA_DISK_SPOOL_DIR.
    assert "offline-1" not in server.state["runs"]
    assert info.has_undelivered_spool and info.leftover_bytes > 0 and info.leftover_segments >= 1
    assert list(spool_base.glob("ws/proj/offline-1/metrana/w-*"))
    replayed = metrana.replay_spool(
        workspace_name="ws", project_name="proj", run_name="offline-1", timeout_secs=60
    )
    assert not replayed.has_undelivered_spool and replayed.leftover_bytes == 0
    assert [(s, v) for s, v, _ in server.points("loss", run_name="offline-1")] == [
        (0, 0.0), (1, 1.0), (2, 2.0)
    ]  # fmt: skip
    assert server.run("offline-1")["closed"] == ""
    assert replayed.report["delivered"] == 3
    again = metrana.replay_spool(run_name="offline-1")
    assert again.report["delivered"] == 0 and again.report["spools"] == []


def test_disk_options_become_the_spool(
    server: MetranaServer, spool_base: Path, tmp_path: Path
) -> None:
    disk = metrana.DiskConfig(
        tmp_path / "explicit", max_size_bytes=1 << 20, compression=metrana.DiskCompression.Off
    )
    metrana.init("ws", "proj", "disk-1", disk=disk, backpressure_strategy="spool_then_raise")
    shown = telemetron.describe_config()
    assert str(tmp_path / "explicit") in shown and "1048576" in shown
    assert '"spool_then_raise"' in shown
    metrana.log("x", 1.0)
    metrana.close()
    assert server.points("x", run_name="disk-1") == [(0, 1.0, None)]
    # disk=None: no spool, so an offline run cannot be, and spool_then_raise has nowhere to go.
    with pytest.raises(metrana.MetranaSpoolUnavailableError, match="offline"):
        metrana.init("ws", "proj", "disk-2", disk=None, init_mode="offline")
    with pytest.raises(telemetron.ConfigError, match="spool_then_raise"):
        metrana.init("ws", "proj", "disk-2", disk=None, backpressure_strategy="spool_then_raise")
    assert not metrana.is_initialized()


def test_an_unusable_explicit_spool_is_spool_unavailable(
    server: MetranaServer, spool_base: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(metrana.MetranaSpoolUnavailableError):
        metrana.init("ws", "proj", "disk-3", disk=blocked / "spool")
    assert not metrana.is_initialized()
