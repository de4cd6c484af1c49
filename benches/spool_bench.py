"""The disk spool, side by side in one run: telemetron (the ``metrana`` exporter's spool)
against ``metrana-logging-engine`` 0.12 configured with its ``DiskConfig`` spool.

Per library, each phase in a process of its own (so RSS and CPU are its own):
- **up**: the reference server (``tests/metrana_server --count-only``) is up: µs per scalar
  ``log`` call (``SCALARS`` calls), the baseline;
- **down**: the server is away, everything goes to disk (an offline run: ``mode: offline`` /
  ``InitMode.Offline``): µs per scalar call, the RL burst (``ENVS`` × ``METRICS`` ×
  ``POINTS`` = 1.64 M points) ms to enqueue, seconds until everything is on disk (``flush``),
  MB/s to disk, bytes per point on disk, peak RSS;
- **replay**: a live server again: ``replay_spool`` (``telemetron.replay_spool`` /
  ``metrana_logging_engine.replay_spool``): points/s, and the server's count checked against
  what was logged.

Run with ``make bench-spool``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SCALARS = int(os.environ.get("SCALARS", "200000"))
ENVS = int(os.environ.get("ENVS", "1024"))
METRICS = int(os.environ.get("METRICS", "16"))
POINTS = int(os.environ.get("POINTS", "100"))
ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from metrics_bench import CountingServer  # noqa: E402


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def open_library(library: str, endpoint: str, spool: str, offline: bool) -> Any:
    """(log, rl, flush, close) of one library."""
    if library == "telemetron":
        import telemetron

        settings: dict[str, Any] = {"spool_dir": spool}
        if offline:
            settings["mode"] = "offline"
        telemetron.configure(
            exporters=[{"type": "metrana", "endpoint": endpoint, "api_key": "bench"}],
            workspace="bench", project="spool", run_name="telemetron", **settings,
        )  # fmt: skip
        log = telemetron.log
        step = telemetron.log_rl_environment_step
        return (
            lambda v: log("loss", v),
            lambda name, rl_step, envs, block: step(name, block, rl_step, env_id=envs),
            telemetron.flush,
            lambda: telemetron.shutdown(timeout=600),
        )
    import metrana_logging_engine as mle

    extra: dict[str, Any] = {"disk": mle.DiskConfig(spool)}
    if offline:
        extra["init_mode"] = mle.InitMode.Offline
    config = mle.Config(
        "bench", "bench", "spool", "engine", endpoint=endpoint,
        orchestration_id="bench-engine", **extra,
    )  # fmt: skip
    logger = mle.Logger(config)
    native = logger._inner
    one = np.zeros(1, dtype=np.float64)

    def scalar(v: float) -> None:
        one[0] = v
        native.log_std_floats("loss", "ML_STEP", one)

    return (
        scalar,
        lambda name, rl_step, envs, block: native.log_rl_floats(
            name, "ENVIRONMENT_STEP", rl_step, envs, block
        ),
        lambda: logger.flush(900.0),
        lambda: logger.close(900.0),
    )


def worker(library: str, phase: str, endpoint: str, spool: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if phase == "replay":
        began = time.perf_counter()
        if library == "telemetron":
            import telemetron

            report = telemetron.replay_spool(
                spool, exporters=[{"type": "metrana", "endpoint": endpoint, "api_key": "b"}],
                timeout=900,
            )  # fmt: skip
            assert report["remaining_bytes"] == 0, report
        else:
            import metrana_logging_engine as mle

            config = mle.Config(
                "bench", "bench", "spool", "engine", endpoint=endpoint,
                orchestration_id="bench-engine",
            )  # fmt: skip
            mle.replay_spool(spool, config, timeout_secs=900.0)
        out["replay_s"] = time.perf_counter() - began
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return out
    log, rl, flush, close = open_library(library, endpoint, spool, offline=phase == "down")
    values = [float(i % 97) * 0.5 for i in range(SCALARS)]
    began = time.perf_counter()
    for v in values:
        log(v)
    out["scalar_us"] = (time.perf_counter() - began) / SCALARS * 1e6
    flush()
    if phase == "down":
        envs = [f"env-{i}" for i in range(ENVS)]
        rng = np.random.default_rng(7)
        blocks = [rng.random((ENVS, POINTS), dtype=np.float32) for _ in range(METRICS)]
        began = time.perf_counter()
        for m, block in enumerate(blocks):
            rl(f"reward_{m}", 1, envs, block)
        out["burst_enqueue_ms"] = (time.perf_counter() - began) * 1e3
        flush()
        out["burst_on_disk_s"] = time.perf_counter() - began
    close()
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def phase(library: str, name: str, endpoint: str, spool: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", library, name, endpoint, spool],
        check=True, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(library: str) -> dict[str, Any]:
    burst = ENVS * METRICS * POINTS
    with tempfile.TemporaryDirectory() as work:
        server = CountingServer(work)
        try:
            up = phase(library, "up", server.endpoint, f"{work}/spool-up")
        finally:
            server.close()
        spool = f"{work}/spool"
        # Offline: no server at all.
        down = phase(library, "down", "http://127.0.0.1:9", spool)
        on_disk = dir_bytes(Path(spool))
        server = CountingServer(work)
        try:
            replay = phase(library, "replay", server.endpoint, spool)
            points, _, _ = server.points()
        finally:
            server.close()
    logged = SCALARS + burst
    assert points == logged, (library, points, logged)
    return {
        "scalar_us_up": up["scalar_us"],
        "scalar_us_down": down["scalar_us"],
        "down_vs_up": down["scalar_us"] / up["scalar_us"],
        "burst_enqueue_ms": down["burst_enqueue_ms"],
        "burst_on_disk_s": down["burst_on_disk_s"],
        "disk_mb_per_s": on_disk / 1e6 / down["burst_on_disk_s"],
        "bytes_per_point": on_disk / logged,
        "spool_mb": on_disk / 1e6,
        "replay_points_per_s": logged / replay["replay_s"],
        "rss_mb_down": down["rss_mb"],
        "rss_mb_replay": replay["rss_mb"],
    }


def main() -> None:
    print(
        f"{SCALARS} scalar calls + an RL burst of {ENVS} envs x {METRICS} metrics x {POINTS} "
        f"points = {ENVS * METRICS * POINTS} points, written to the spool of an offline run, then "
        "replayed to the reference server (--count-only)"
    )
    ours, engine = run("telemetron"), run("engine")
    print(f"\n{'':44}{'telemetron':>12}{'engine 0.12':>13}{'ratio':>8}")
    rows = [
        ("scalar µs/call, server up", "scalar_us_up", "{:.3f}", False),
        ("scalar µs/call, server down (to disk)", "scalar_us_down", "{:.3f}", False),
        ("down / up (target <= 1.5)", "down_vs_up", "{:.2f}", False),
        ("RL burst enqueue ms", "burst_enqueue_ms", "{:.1f}", False),
        ("RL burst until on disk s", "burst_on_disk_s", "{:.3f}", False),
        ("MB/s to disk", "disk_mb_per_s", "{:.1f}", True),
        ("bytes per point on disk (target <= 3)", "bytes_per_point", "{:.2f}", False),
        ("spool MB", "spool_mb", "{:.1f}", False),
        ("replay points/s", "replay_points_per_s", "{:,.0f}", True),
        ("peak RSS MB, down", "rss_mb_down", "{:.0f}", False),
        ("peak RSS MB, replay", "rss_mb_replay", "{:.0f}", False),
    ]
    for label, key, fmt, higher_better in rows:
        a, b = ours[key], engine[key]
        ratio = (a / b) if higher_better else (b / a)
        print(f"{label:44}{fmt.format(a):>12}{fmt.format(b):>13}{ratio:>7.2f}x")
    print("\n(ratio above 1: telemetron is faster or smaller)")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        print(json.dumps(worker(*sys.argv[2:6])))
    else:
        main()
