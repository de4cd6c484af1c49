"""log_rendering: NumPy frames become H.264 .mp4 files (checked with ffprobe), finished videos
reach the exporters, bad frames raise ValidationError naming the problem, close drains or
skips and reports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron
from conftest import read_records


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,pix_fmt,width,height,nb_read_frames,avg_frame_rate",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stream: dict[str, Any] = json.loads(out.stdout)["streams"][0]
    return stream


def first_frame_gray(path: Path, width: int, height: int) -> np.ndarray:
    """Decodes the first frame back to 8-bit gray."""
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    telemetron.configure(
        exporters=[{"type": "file", "path": str(tmp_path / "run.jsonl")}],
        run_name="r1",
        rendering_output_dir=str(tmp_path / "videos"),
        rendering_preset="ultrafast",
        rendering_fps=15,
    )
    return tmp_path


def gradient(h: int, w: int, step: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 2 + y + step * 4) % 256).astype(np.uint8)


def test_rgb_and_gray_frames_become_videos_and_records(run: Path) -> None:
    for step in range(30):
        g = gradient(64, 96, step)
        assert telemetron.log_rendering(np.stack([g, g // 2, 255 - g], axis=-1), step, 0, env_id=3)
        assert telemetron.log_rendering(g, 1000 + step, 5, env_id="gray")
        assert telemetron.log_rendering(g[:, :, None], step, 0, env_id="gray1")
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    final = report["rendering"]
    assert (final["frames_encoded"], final["videos_finished"], final["frames_queued"]) == (90, 3, 0)

    rgb = ffprobe(run / "videos/r1/3/episode_0.mp4")
    assert (rgb["codec_name"], rgb["pix_fmt"], rgb["width"], rgb["height"]) == (
        "h264",
        "yuv420p",
        96,
        64,
    )
    assert (rgb["nb_read_frames"], rgb["avg_frame_rate"]) == ("30", "15/1")
    assert ffprobe(run / "videos/r1/gray/episode_5.mp4")["nb_read_frames"] == "30"
    assert ffprobe(run / "videos/r1/gray1/episode_0.mp4")["nb_read_frames"] == "30"

    renderings = {
        r["env_id"]: r for r in read_records(run / "run.jsonl") if r["kind"] == "rendering"
    }
    assert set(renderings) == {"3", "gray", "gray1"}
    gray = renderings["gray"]
    assert (gray["episode"], gray["frames"], gray["rl_step_first"], gray["rl_step_last"]) == (
        5,
        30,
        1000,
        1029,
    )
    assert gray["path"] == str(run / "videos/r1/gray/episode_5.mp4")
    assert gray["bytes"] == (run / "videos/r1/gray/episode_5.mp4").stat().st_size
    assert gray["duration_secs"] == 2.0


def test_strided_views_and_array_likes_are_copied_as_the_caller_sees_them(run: Path) -> None:
    base = gradient(128, 64, 0)
    view = base.T[::2, ::2]  # (32, 64), non-contiguous: transposed and strided
    assert not view.flags["C_CONTIGUOUS"]

    class TensorLike:  # like a CPU torch tensor: no __array_interface__, only __array__
        def __init__(self, a: np.ndarray) -> None:
            self.a = a

        def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
            return self.a

    for step in range(4):
        telemetron.log_rendering(view, step, 0, env_id="view")
        telemetron.log_rendering(TensorLike(np.ascontiguousarray(view)), step, 0, env_id="tensor")
    telemetron.shutdown()
    for env in ("view", "tensor"):
        decoded = first_frame_gray(run / f"videos/r1/{env}/episode_0.mp4", 64, 32).astype(int)
        # Lossy, and limited-range YUV: close, not equal. A wrong copy differs by ~100.
        assert np.abs(decoded - view.astype(int)).mean() < 4, env


def test_bad_frames_raise_validation_errors_and_lose_nothing_else(run: Path) -> None:
    good = gradient(32, 32, 0)
    telemetron.log_rendering(good, 0, 0, env_id="a")
    cases: list[tuple[Any, str]] = [
        (good.astype(np.float32), "dtype must be uint8, got float32"),
        (np.zeros((32, 33), np.uint8), "width 33 is odd"),
        (np.zeros((2, 32, 32, 3), np.uint8), "rank 4"),
        (np.zeros((32, 32, 4), np.uint8), "4 channels"),
        (np.zeros((64, 32), np.uint8), "changed from 32x32 Gray8 to 32x64 Gray8"),
        ("not an array", "invalid frame"),
    ]
    for frame, message in cases:
        with pytest.raises(telemetron.ValidationError, match=message):
            telemetron.log_rendering(frame, 1, 0, env_id="a")
    with pytest.raises(telemetron.ValidationError, match="env_id"):
        telemetron.log_rendering(good, 1, 0, env_id="../up")
    with pytest.raises(telemetron.ValidationError, match="env_id"):
        telemetron.log_rendering(good, 1, 0, env_id=1.5)  # type: ignore[arg-type]
    telemetron.log_rendering(good, 1, 0, env_id="a")
    metrics = telemetron.rendering_metrics()
    assert metrics is not None and metrics["frames_refused"] == 8
    telemetron.shutdown()
    assert ffprobe(run / "videos/r1/a/episode_0.mp4")["nb_read_frames"] == "2"


def test_an_unwritable_output_dir_raises_exporter_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    telemetron.configure(exporters=[], rendering_output_dir=str(blocker))
    with pytest.raises(telemetron.ExporterError, match="not writable"):
        telemetron.log_rendering(gradient(16, 16, 0), 0, 0)
    telemetron.shutdown()


def test_skip_drain_drops_queued_frames_and_reports_them(tmp_path: Path) -> None:
    telemetron.configure(
        exporters=[],
        run_name="r1",
        rendering_output_dir=str(tmp_path),
        rendering_max_concurrent_encoders=1,
        skip_drain_render_on_close=True,
    )
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (200, 256, 256, 3), dtype=np.uint8)
    for step, frame in enumerate(frames):
        assert telemetron.log_rendering(frame, step, 0)
    report = telemetron.shutdown()
    assert report is not None
    lost = [u for u in report["undelivered"] if u["exporter"] == "renderer"]
    assert len(lost) == 1 and "skip_drain_render_on_close" in lost[0]["reason"], report
    encoded = 200 - lost[0]["records"]
    assert lost[0]["records"] > 0
    if encoded:
        assert ffprobe(tmp_path / "r1/0/episode_0.mp4")["nb_read_frames"] == str(encoded)


class CollectRenderings(telemetron.Exporter):
    seen: list[dict[str, Any]] = []

    def export_rendering(self, rendering: dict[str, Any]) -> None:
        CollectRenderings.seen.append(rendering)


def test_python_exporters_receive_renderings(tmp_path: Path) -> None:
    seen = CollectRenderings.seen
    telemetron.configure(
        exporters=[CollectRenderings],
        rendering_output_dir=str(tmp_path),
        rendering_preset="ultrafast",
    )
    for episode in range(2):
        for step in range(3):
            telemetron.log_rendering(gradient(16, 16, step), 10 * episode + step, episode, env_id=0)
    telemetron.shutdown()
    assert [(r["env_id"], r["episode"], r["frames"]) for r in seen] == [("0", 0, 3), ("0", 1, 3)]


def test_raise_backpressure_raises_queue_full_and_counts_it(tmp_path: Path) -> None:
    telemetron.configure(
        exporters=[],
        rendering_output_dir=str(tmp_path),
        rendering_queue_max_size=1,
        rendering_max_concurrent_encoders=1,
        backpressure="raise",
    )
    frame = np.random.default_rng(1).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    with pytest.raises(telemetron.QueueFullError, match="1 frames"):
        for step in range(200):
            telemetron.log_rendering(frame, step, 0)
    report = telemetron.shutdown()
    assert report is not None
    final = report["rendering"]
    assert final["frames_dropped"] == 1
    assert final["frames_encoded"] == final["frames_enqueued"] == final["frames_added"] - 1
