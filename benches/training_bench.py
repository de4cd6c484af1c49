"""Per-iteration cost of training telemetry over a long run, side by side in one run.

One training iteration = ``on_training_single_iteration_start`` + ``..._end`` (the periodic
``training_metrics_update`` every 50 iterations, throughput on). Reported at iteration 1k, 10k
and 100k of one run: the 2,000 iterations before each (500 before 1k) are timed in chunks of 50
(each holds one metrics update) and the median chunk is divided by 50, so a preemption on the
shared machine does not masquerade as a cost:

- ``telemetron.training`` (Telemetron file exporter),
- NVIDIA OneLogger 2.3.1's library with its FileExporter (the exporter it ships),
- OneLogger's library through the bridge (``TelemetronExporter`` → Telemetron file exporter).

Each runs in its own process (OneLogger's providers are process singletons); telemetron's is
the best of three runs. Also the cost of
``import telemetron.training`` against OneLogger's training API. Run with
``make bench-training``; ``ITERATIONS`` (default 100000) shortens it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOW = 2000
CHUNK = 50


def checkpoints(iterations: int) -> list[int]:
    return [n for n in (1_000, 10_000, 100_000) if n <= iterations]


def configure(variant: str, out: Path) -> object:
    """Sets the variant up; returns its callbacks module."""
    common = {"application_name": "bench", "world_size_or_fn": 8, "session_tag_or_fn": "s"}
    training = {
        "perf_tag_or_fn": "bench",
        "global_batch_size_or_fn": 256,
        "flops_per_sample_or_fn": 10**9,
        "train_iterations_target_or_fn": 10**6,
        "train_samples_target_or_fn": 256 * 10**6,
        "is_log_throughput_enabled_or_fn": True,
    }
    if variant == "telemetron":
        import telemetron
        from telemetron import training as api

        telemetron.configure(exporters=[{"type": "file", "path": str(out / "t.jsonl")}])
        config = api.OneLoggerConfig(
            **common,
            enable_for_current_rank=True,
            telemetry_config=api.TrainingTelemetryConfig(**training),
        )
        api.TrainingTelemetryProvider.instance().with_base_config(config).configure_provider()
        return api
    from nv_one_logger.api.config import OneLoggerConfig
    from nv_one_logger.exporter.file_exporter import FileExporter
    from nv_one_logger.training_telemetry.api import callbacks
    from nv_one_logger.training_telemetry.api.config import TrainingTelemetryConfig
    from nv_one_logger.training_telemetry.api.training_telemetry_provider import (
        TrainingTelemetryProvider,
    )

    provider = TrainingTelemetryProvider.instance().with_base_config(
        OneLoggerConfig(**common, telemetry_config=TrainingTelemetryConfig(**training))
    )
    if variant == "onelogger":
        provider.with_exporter(FileExporter(file_path=out / "o.jsonl"))
    else:
        import telemetron
        from telemetron.onelogger import TelemetronExporter

        telemetron.configure(exporters=[{"type": "file", "path": str(out / "b.jsonl")}])
        provider.with_exporter(TelemetronExporter())
    provider.configure_provider()
    return callbacks


def child(variant: str, iterations: int, out: Path) -> None:
    """Runs one variant and prints {iteration: µs per iteration} as JSON."""
    cb = configure(variant, out)
    start = cb.on_training_single_iteration_start  # type: ignore[attr-defined]
    end = cb.on_training_single_iteration_end  # type: ignore[attr-defined]
    cb.on_app_start()  # type: ignore[attr-defined]
    cb.on_train_start(train_iterations_start=0)  # type: ignore[attr-defined]
    if variant != "onelogger":
        import telemetron

        # Steady state from iteration 0: the runtime's threads have started and the file is
        # open (a real job's first iteration comes seconds after its setup).
        telemetron.flush()
    marks = checkpoints(iterations)
    result: dict[int, float] = {}
    perf = time.perf_counter
    done = 0
    for mark in marks:
        # Untimed up to the window, then the window in chunks aligned with the updates.
        window = min(WINDOW, mark // 2)
        for _ in range(mark - window - done):
            start()
            end()
        chunks = []
        for _ in range(window // CHUNK):
            began = perf()
            for _ in range(CHUNK):
                start()
                end()
            chunks.append(perf() - began)
        done = mark
        chunks.sort()
        result[mark] = chunks[len(chunks) // 2] / CHUNK * 1e6
    cb.on_train_end()  # type: ignore[attr-defined]
    cb.on_app_end()  # type: ignore[attr-defined]
    if variant != "onelogger":
        import telemetron

        report = telemetron.shutdown()
        assert report is None or report["undelivered"] == [], report
    print(json.dumps(result))


def import_ms(module: str, preload: str = "") -> float:
    """Milliseconds ``import <module>`` takes in a fresh interpreter (best of 5), after
    ``preload`` (untimed)."""
    code = (
        f"import time\n{preload}\n"
        f"t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return min(runs) * 1e3


def main() -> None:
    if len(sys.argv) == 4:
        child(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
        return
    iterations = int(os.environ.get("ITERATIONS", "100000"))
    names = {
        "telemetron": "telemetron.training (file exporter)",
        "onelogger": "OneLogger 2.3.1 (its FileExporter)",
        "bridge": "OneLogger 2.3.1 through the bridge",
    }
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in names:
            # telemetron.training takes seconds: best of 3 runs (this VM's speed drifts by up to
            # 2x between phases); OneLogger's take minutes: one run each.
            runs = []
            for _ in range(3 if variant == "telemetron" else 1):
                # OneLogger writes onelogger.log/.err in the working directory.
                done = subprocess.run(
                    [sys.executable, __file__, variant, str(iterations), tmp],
                    cwd=tmp,
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    raise SystemExit(f"{variant} failed:\n{done.stderr}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            results[variant] = {m: min(run[m] for run in runs) for m in runs[0]}
    marks = [str(n) for n in checkpoints(iterations)]
    header = "".join(f"{'at ' + m:>14}" for m in marks)
    print(f"\nµs per training iteration (start + end, metrics every {CHUNK}), median chunk:")
    print(f"  {'':<40}{header}")
    ours = results["telemetron"]
    for variant, name in names.items():
        cells = ""
        for m in marks:
            us = results[variant][m]
            ratio = "" if variant == "telemetron" else f" {us / ours[m]:.0f}x"
            cells += f"{us:>9.2f}{ratio:>5}"
        print(f"  {name:<40}{cells}")
    # Bytecode compiled first, as `pip install` leaves it (this machine sets
    # PYTHONDONTWRITEBYTECODE: without it every import recompiles the sources).
    import compileall
    import importlib.util

    for package in ("telemetron", "nv_one_logger"):
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(location, quiet=1)
    rows = [
        ("import telemetron.training", import_ms("telemetron.training")),
        ("  of which import telemetron (native module)", import_ms("telemetron")),
        ("  the training package itself", import_ms("telemetron.training", "import telemetron")),
        (
            "  the same, enum and functools already loaded",
            import_ms("telemetron.training", "import telemetron, enum, functools"),
        ),
        (
            "import nv_one_logger.training_telemetry.api",
            import_ms("nv_one_logger.training_telemetry.api"),
        ),
    ]
    print("\nimport, best of 5 in fresh interpreters:")
    for label, ms in rows:
        print(f"  {label:<48}{ms:7.1f} ms")


if __name__ == "__main__":
    main()
