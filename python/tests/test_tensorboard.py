"""The TensorBoard exporter, read by the real ``tensorboard`` package: its EventAccumulator
sees every scalar, RL scalar, histogram, text and the HParams session with exact steps and
values; a ``tensorboard`` server answers its HTTP scalars endpoint with the logged points; a
torn tail of an event file does not stop TensorBoard from reading the rest."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import telemetron

ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def f32(v: float) -> float:
    return float(np.float32(v))


def record_run(logdir: Path) -> None:
    telemetron.configure(
        exporters=[{"type": "tensorboard", "logdir": str(logdir)}], run_name="tb-run"
    )
    telemetron.log("loss", [0.5, 0.25, 0.125], labels={"split": "train"})
    telemetron.log("acc", 0.1, step=10)
    telemetron.log("acc", 0.9, step=20, timestamp=1_700_000_000_000)
    telemetron.log_rl_environment_step(
        "reward", np.array([1.5, -2.0]), 3, episode=None, env_id=["a", "b"]
    )
    telemetron.log_rl_environment_step(
        "reward", np.array([2.5, -1.0]), 4, episode=None, env_id=["a", "b"]
    )
    telemetron.log_histogram("weights", (np.array([3, 0, 7]), np.array([-1.0, 0.0, 0.5, 2.0])), 5)
    telemetron.log_config({"lr": 3e-4, "optimizer": "adam", "layers": 12, "amp": True})
    with telemetron.timed_span("train_step"):
        pass
    with telemetron.timed_span("train_step"):
        pass
    telemetron.get_logger("trainer.data").warning("shard 3 is slow")
    with pytest.raises(ValueError), telemetron.timed_span("validate"):
        raise ValueError("bad batch")
    report = telemetron.shutdown(timeout=10)
    assert report is not None and report["undelivered"] == [], report


def accumulate(logdir: Path) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(
        str(logdir), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0}
    )
    acc.Reload()
    return acc


def test_every_mapping_reads_back_in_tensorboard(tmp_path: Path) -> None:
    logdir = tmp_path / "tb"
    record_run(logdir)
    files = sorted(p.name for p in logdir.iterdir())
    assert len(files) == 1 and re.fullmatch(
        r"events\.out\.tfevents\.\d{10}\.[\w-]+\.\d+\.0000", files[0]
    ), files
    assert (logdir / files[0]).stat().st_mode & 0o777 == 0o640
    acc = accumulate(logdir)
    tags = acc.Tags()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in tags["scalars"]}
    assert scalars["loss/split=train"] == [(0, 0.5), (1, 0.25), (2, 0.125)]
    assert scalars["acc"] == [(10, f32(0.1)), (20, f32(0.9))]
    assert acc.Scalars("acc")[1].wall_time == 1_700_000_000.0
    assert scalars["reward/env_a"] == [(3, 1.5), (4, 2.5)]
    assert scalars["reward/env_b"] == [(3, -2.0), (4, -1.0)]
    durations = scalars["spans/train_step/duration_ms"]
    assert [s for s, _ in durations] == [0, 1] and all(0 < v < 1000 for _, v in durations)
    assert "spans/validate/duration_ms" in scalars

    (hist,) = acc.Histograms("weights")
    assert hist.step == 5
    h = hist.histogram_value
    assert list(h.bucket_limit) == [-1.0, 0.0, 0.5, 2.0]
    assert list(h.bucket) == [0.0, 3.0, 0.0, 7.0]
    assert h.num == 10

    texts = {
        tag: [(e.step, e.tensor_proto.string_val[0].decode()) for e in acc.Tensors(tag)]
        for tag in tags["tensors"]
        if tag != "_hparams_/session_start_info"
    }
    assert texts["logs/trainer.data"] == [(0, "**WARN** shard 3 is slow")]
    ((step, error),) = texts["errors"]
    assert step == 0 and error.startswith("Error in validate: bad batch (ValueError)")

    from tensorboard.plugins.hparams import plugin_data_pb2

    content = acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    hp = dict(data.session_start_info.hparams)
    assert hp["config/lr"].number_value == 3e-4
    assert hp["config/optimizer"].string_value == "adam"
    assert hp["config/layers"].number_value == 12
    assert hp["config/amp"].bool_value is True


def test_a_torn_tail_keeps_the_rest_readable(tmp_path: Path) -> None:
    logdir = tmp_path / "tb"
    record_run(logdir)
    (event_file,) = logdir.iterdir()
    data = event_file.read_bytes()
    event_file.write_bytes(data[:-7])  # cut inside the last record (validate's duration)
    acc = accumulate(logdir)
    assert [(e.step, e.value) for e in acc.Scalars("loss/split=train")] == [
        (0, 0.5),
        (1, 0.25),
        (2, 0.125),
    ]
    assert "errors" in acc.Tags()["tensors"]
    assert "spans/validate/duration_ms" not in acc.Tags()["scalars"]


def test_the_tensorboard_server_answers_its_scalars_endpoint(tmp_path: Path) -> None:
    logdir = tmp_path / "runs"
    record_run(logdir / "tb-run")
    tb = Path(sys.executable).with_name("tensorboard")
    proc = subprocess.Popen(
        [
            str(tb),
            "--logdir",
            str(logdir),
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--load_fast",
            "false",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            url = m.group(1) if m else None
        assert url, "tensorboard did not print its address"
        query = f"{url}/data/plugin/scalars/scalars?run=tb-run&tag=loss%2Fsplit%3Dtrain"
        points = None
        while time.monotonic() < deadline:  # the server loads the logdir in the background
            try:
                with urllib.request.urlopen(query, timeout=5) as resp:
                    points = json.loads(resp.read())
                break
            except Exception:  # noqa: BLE001 - not loaded yet (400 until the run appears)
                time.sleep(0.2)
        assert points is not None, "the scalars endpoint never answered"
        assert [(step, value) for _, step, value in points] == [(0, 0.5), (1, 0.25), (2, 0.125)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
