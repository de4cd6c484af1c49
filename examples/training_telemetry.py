"""A fake training loop recorded two ways into one Telemetron run:

1. ``telemetron.training``: OneLogger's callbacks and record names, natively on Telemetron;
2. NVIDIA OneLogger's own library, unchanged, with ``TelemetronExporter`` underneath
   (skipped when ``nv-one-logger-training-telemetry`` is not installed).

The ``system_metrics`` plugin samples the host alongside. Records go to a JSON Lines file;
the summary printed at the end counts spans, events and metric series by name.

    python examples/training_telemetry.py [--steps 200] [--out telemetron-out/training.jsonl]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from pathlib import Path

import telemetron
from telemetron import training


def fake_work(seconds: float) -> None:
    time.sleep(seconds)


def run_native(steps: int) -> None:
    """The loop with ``telemetron.training``."""
    config = training.OneLoggerConfig(
        application_name="fake-llm",
        world_size_or_fn=1,
        session_tag_or_fn="example",
        telemetry_config=training.TrainingTelemetryConfig(
            perf_tag_or_fn="fake-llm-tiny",
            global_batch_size_or_fn=32,
            seq_length_or_fn=512,
            flops_per_sample_or_fn=6 * 125_000_000 * 512,
            train_iterations_target_or_fn=steps,
            train_samples_target_or_fn=32 * steps,
            is_log_throughput_enabled_or_fn=True,
            log_every_n_train_iterations=20,
            save_checkpoint_strategy="async",
        ),
    )
    training.TrainingTelemetryProvider.instance().with_base_config(config).configure_provider()
    with training.application():
        with training.model_init():
            fake_work(0.01)
        with training.training_loop(train_iterations_start=0):
            for step in range(steps):
                with training.training_iteration():
                    with training.timed_span("forward_backward"):
                        fake_work(0.002)
                if (step + 1) % 100 == 0:
                    with training.validation_loop():
                        for _ in range(5):
                            with training.validation_iteration():
                                fake_work(0.001)
                if (step + 1) % 50 == 0:
                    # An async save: the loop waits only for the snapshot; the upload finishes
                    # on another thread and reports its success from there.
                    with training.checkpoint_save(global_step=step + 1):
                        fake_work(0.003)
                    uploader = threading.Thread(
                        target=training.on_save_checkpoint_success, args=(step + 1,)
                    )
                    uploader.start()
                    uploader.join()


def run_onelogger(steps: int) -> bool:
    """The same loop with OneLogger's library, recording into Telemetron."""
    try:
        from nv_one_logger.api.config import OneLoggerConfig
        from nv_one_logger.training_telemetry.api.config import TrainingTelemetryConfig
        from nv_one_logger.training_telemetry.api.context import (
            application,
            training_iteration,
            training_loop,
        )
        from nv_one_logger.training_telemetry.api.training_telemetry_provider import (
            TrainingTelemetryProvider,
        )

        from telemetron.onelogger import TelemetronExporter
    except ImportError:
        return False
    config = OneLoggerConfig(
        application_name="fake-llm-onelogger",
        world_size_or_fn=1,
        session_tag_or_fn="example",
        telemetry_config=TrainingTelemetryConfig(
            perf_tag_or_fn="fake-llm-tiny", global_batch_size_or_fn=32
        ),
    )
    provider = TrainingTelemetryProvider.instance().with_base_config(config)
    provider.with_exporter(TelemetronExporter()).configure_provider()
    with application(), training_loop(train_iterations_start=0):
        for _ in range(steps):
            with training_iteration():
                fake_work(0.002)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("telemetron-out/training.jsonl"))
    args = parser.parse_args()
    telemetron.configure(
        exporters=[{"type": "file", "path": str(args.out)}],
        plugins=[{"type": "system_metrics", "interval_secs": 0.5}],
        run_name="training-example",
    )
    run_native(args.steps)
    bridged = run_onelogger(args.steps)
    report = telemetron.shutdown()
    assert report is not None
    counts: Counter[str] = Counter()
    for line in args.out.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] in ("span_stop", "event", "metric"):
            counts[f"{record['kind']} {record['name']}"] += 1
    print(f"{args.out}: {sum(counts.values())} records; undelivered: {report['undelivered']}")
    if not bridged:
        print("(OneLogger part skipped: pip install 'telemetron[onelogger]')")
    for name, n in sorted(counts.items()):
        print(f"  {n:6d}  {name}")


if __name__ == "__main__":
    main()
