"""Environment frames to H.264 .mp4, side by side in one run: telemetron ``log_rendering``
(Rust, ffmpeg-next, encoded on runtime threads) against PyAV encoding inline, with the same
libx264 settings (yuv420p, preset medium, crf 23, 30 fps).

For each size (84x84, 256x256) and content (smooth moving gradient, uniform noise), 300 frames,
each handed over as a fresh array (a copy made outside the timed call, as ``env.render()`` gives):
- caller µs per frame: wall time inside the logging call (PyAV: ``from_ndarray`` + encode +
  mux). telemetron is shown warm (an episode after the first was encoded: frame buffers are
  recycled), with the caller thread's CPU time beside it (the wall time includes being
  time-sliced against the encoder threads on a 2-core machine), and cold (a fresh renderer's
  first burst, every buffer fresh memory);
- frames/s to a finished file: from the first frame of an episode until its .mp4 is complete
  (telemetron: until ``shutdown()`` has drained the renderer and closed the file);
- CPU: process CPU seconds for that episode, every thread included.
PyAV runs twice: with its defaults (libx264 threads auto) and with one thread, as the issue's
reference numbers were measured. telemetron encodes each video on one thread.

Run with ``make bench-render`` (release build, installs PyAV from PyPI). Prints ratios.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy's idle BLAS threads spin on a core

import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

FRAMES = 300
FPS = 30
CRF = 23
PRESET = "medium"


def frames_for(size: int, content: str) -> np.ndarray:
    if content == "noise":
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (FRAMES, size, size, 3), dtype=np.uint8)
    y, x = np.mgrid[0:size, 0:size]
    out = np.empty((FRAMES, size, size, 3), np.uint8)
    for t in range(FRAMES):
        g = (x * 2 + y + t * 3) % 256
        out[t] = np.stack([g, (g * 3 + t) % 256, 255 - g], axis=-1)
    return out


def log_episode(frames: np.ndarray, episode: int) -> tuple[float, float]:
    """Logs one episode; returns the caller's wall and thread-CPU seconds in ``log_rendering``."""
    import telemetron

    wall = cpu = 0.0
    for step, stored in enumerate(frames):
        frame = stored.copy()  # like env.render(): a fresh array, hot in the cache
        t0, c0 = time.perf_counter(), time.thread_time()
        telemetron.log_rendering(frame, step, episode)
        wall += time.perf_counter() - t0
        cpu += time.thread_time() - c0
    return wall, cpu


def run_telemetron(frames: np.ndarray, out: Path) -> dict[str, float]:
    import telemetron

    telemetron.configure(
        exporters=[{"type": "file", "path": str(out / "t.jsonl")}],
        run_name="bench",
        rendering_output_dir=str(out),
        rendering_preset=PRESET,
        rendering_crf=CRF,
        rendering_fps=FPS,
        rendering_queue_max_size=FRAMES,
        backpressure="block",
    )
    telemetron.log_rendering(frames[0][:2, :2], 0, 0, env_id="warmup")  # start the renderer
    cold, _ = log_episode(frames, 0)
    # Wait for episode 0 to be encoded: its buffers are then back in the pool.
    while (telemetron.rendering_metrics() or {}).get("frames_queued", 0) > 0:
        time.sleep(0.001)
    cpu0, began = time.process_time(), time.perf_counter()
    warm, warm_cpu = log_episode(frames, 1)
    report = telemetron.shutdown()
    done = time.perf_counter()
    assert report is not None and report["undelivered"] == [], report
    assert (out / "bench/0/episode_1.mp4").stat().st_size > 0
    return {
        "cold_us": cold / len(frames) * 1e6,
        "caller_us": warm / len(frames) * 1e6,
        "caller_cpu_us": warm_cpu / len(frames) * 1e6,
        "fps": len(frames) / (done - began),
        "cpu_s": time.process_time() - cpu0,
    }


def run_pyav(frames: np.ndarray, out: Path, threads: int) -> dict[str, float]:
    import av

    size = frames.shape[1]
    cpu0, began = time.process_time(), time.perf_counter()
    container: Any = av.open(str(out / "pyav.mp4"), mode="w")
    stream: Any = container.add_stream("libx264", rate=FPS)
    stream.width = stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.options = {"preset": PRESET, "crf": str(CRF)}
    stream.codec_context.thread_count = threads
    caller = 0.0
    for stored in frames:
        frame = stored.copy()  # like env.render(): a fresh array, hot in the cache
        t0 = time.perf_counter()
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in stream.encode(video_frame):
            container.mux(packet)
        caller += time.perf_counter() - t0
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    done = time.perf_counter()
    return {
        "caller_us": caller / len(frames) * 1e6,
        "fps": len(frames) / (done - began),
        "cpu_s": time.process_time() - cpu0,
    }


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.median([r[k] for r in runs])) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; medians are shown")
    args = parser.parse_args()
    print(f"{FRAMES} frames per case, libx264 {PRESET} crf {CRF}, {os.cpu_count()} CPUs")
    print(
        f"{'case':<16}{'library':<18}{'caller µs':>10}{'(CPU)':>7}{'(cold)':>8}{'frames/s':>10}"
        f"{'CPU s':>7}"
        f"{'caller ×':>10}{'frames/s ×':>12}"
    )
    for size in (84, 256):
        for content in ("smooth", "noise"):
            frames = frames_for(size, content)
            runs: dict[str, list[dict[str, float]]] = {"t": [], "auto": [], "one": []}
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    runs["t"].append(run_telemetron(frames, Path(tmp)))
                with tempfile.TemporaryDirectory() as tmp:
                    runs["auto"].append(run_pyav(frames, Path(tmp), 0))
                with tempfile.TemporaryDirectory() as tmp:
                    runs["one"].append(run_pyav(frames, Path(tmp), 1))
            t, auto, one = median(runs["t"]), median(runs["auto"]), median(runs["one"])
            case = f"{size}x{size} {content}"
            print(
                f"{case:<16}{'telemetron':<18}{t['caller_us']:>10.1f}{t['caller_cpu_us']:>7.1f}"
                f"{t['cold_us']:>8.1f}"
                f"{t['fps']:>10.0f}{t['cpu_s']:>7.2f}"
            )
            for name, p in (("pyav threads=auto", auto), ("pyav threads=1", one)):
                print(
                    f"{'':<16}{name:<18}{p['caller_us']:>10.1f}{'':>15}{p['fps']:>10.0f}"
                    f"{p['cpu_s']:>7.2f}{p['caller_us'] / t['caller_us']:>9.0f}×"
                    f"{t['fps'] / p['fps']:>11.2f}×"
                )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run (frames of all cases included): {rss:.0f} MB")


if __name__ == "__main__":
    main()
