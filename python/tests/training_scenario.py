"""A scripted fake training run, driven through ``telemetron.training`` or through OneLogger's
own library (bridged into Telemetron), with the same calls and a virtual clock: every callback
gets an explicit time, so both libraries see identical durations.

    python training_scenario.py {telemetron|onelogger} OUT.jsonl {sync|async} {enabled|disabled}

Records go to a Telemetron file exporter at OUT.jsonl. A resumed job (iteration 5), init phases,
a checkpoint load, 30 iterations (one of them raising inside a custom span), validation every
10 iterations, a checkpoint every 15 (async successes reported from another thread), testing.
"""

from __future__ import annotations

import sys
import threading
import time
from enum import Enum
from typing import Any

import telemetron


class Names(str, Enum):
    """A custom span name as an enum member: OneLogger 2.3.1 raises TypeError for a plain str
    custom name on Python 3.10/3.11 (``"custom" in StandardTrainingJobSpanName``)."""

    CUSTOM = "custom_step"

    def __str__(self) -> str:
        return str(self.value)


class Clock:
    """Milliseconds since the epoch, starting five minutes ago (OneLogger accepts ±10 min)."""

    def __init__(self) -> None:
        self.ms = (time.time() - 300.0) * 1000.0

    def tick(self, ms: float) -> float:
        self.ms += ms
        return self.ms


def setup(library: str, strategy: str, enabled: bool) -> tuple[Any, Any, Any]:
    """Configures the library; returns (callbacks module, timed_span, attributes type)."""
    common: dict[str, Any] = {
        "application_name": "scenario",
        "world_size_or_fn": 4,
        "session_tag_or_fn": "session-1",
        "custom_metadata": {"team": "rl", "attempt": 2},
        "enable_for_current_rank": enabled,
    }
    training: dict[str, Any] = {
        "perf_tag_or_fn": "perf-1",
        "global_batch_size_or_fn": 32,
        "micro_batch_size_or_fn": 4,
        "seq_length_or_fn": 128,
        "flops_per_sample_or_fn": 1000,
        "train_iterations_target_or_fn": 40,
        "train_samples_target_or_fn": 1280,
        "log_every_n_train_iterations": 10,
        "is_log_throughput_enabled_or_fn": True,
    }
    if library == "telemetron":
        from telemetron import training as api

        api.TrainingTelemetryProvider.instance().with_base_config(
            api.OneLoggerConfig(
                **common,
                telemetry_config=api.TrainingTelemetryConfig(
                    **training, save_checkpoint_strategy=strategy
                ),
            )
        ).configure_provider()
        return api, api.timed_span, dict
    from nv_one_logger.api.config import OneLoggerConfig
    from nv_one_logger.api.timed_span import timed_span
    from nv_one_logger.core.attributes import Attributes
    from nv_one_logger.training_telemetry.api import callbacks
    from nv_one_logger.training_telemetry.api.checkpoint import CheckPointStrategy
    from nv_one_logger.training_telemetry.api.config import TrainingTelemetryConfig
    from nv_one_logger.training_telemetry.api.training_telemetry_provider import (
        TrainingTelemetryProvider,
    )

    from telemetron.onelogger import TelemetronExporter

    TrainingTelemetryProvider.instance().with_base_config(
        OneLoggerConfig(
            **common,
            telemetry_config=TrainingTelemetryConfig(
                **training, save_checkpoint_strategy=CheckPointStrategy(strategy)
            ),
        )
    ).with_exporter(TelemetronExporter()).configure_provider()
    # OneLogger needs its Attributes type (a plain dict breaks Span.attributes).
    return callbacks, timed_span, Attributes


def run(cb: Any, timed_span: Any, attrs: Any, strategy: str, use_timed_span: bool) -> None:
    clock = Clock()
    cb.on_app_start(start_time_msec=clock.ms)
    for start, end in [
        (cb.on_distributed_init_start, cb.on_distributed_init_end),
        (cb.on_model_init_start, cb.on_model_init_end),
        (cb.on_dataloader_init_start, cb.on_dataloader_init_end),
        (cb.on_optimizer_init_start, cb.on_optimizer_init_end),
        (cb.on_load_checkpoint_start, cb.on_load_checkpoint_end),
    ]:
        start(start_time_msec=clock.tick(5))
        end(finish_time_msec=clock.tick(20))
    cb.on_train_start(train_iterations_start=5, start_time_msec=clock.tick(5))
    for it in range(30):
        cb.on_training_single_iteration_start(start_time_msec=clock.tick(2))
        try:
            if it == 12 and use_timed_span:
                with timed_span(Names.CUSTOM, span_attributes=attrs({"iteration": it})):
                    raise ValueError("bad batch")
        except ValueError:
            pass
        finally:
            cb.on_training_single_iteration_end(finish_time_msec=clock.tick(100 + (it % 3) * 10))
        if (it + 1) % 10 == 0:
            cb.on_validation_start(start_time_msec=clock.tick(1))
            for _ in range(3):
                cb.on_validation_single_iteration_start(start_time_msec=clock.tick(1))
                cb.on_validation_single_iteration_end(finish_time_msec=clock.tick(20))
            cb.on_validation_end(finish_time_msec=clock.tick(1))
        if (it + 1) % 15 == 0:
            step = 5 + it + 1
            cb.on_save_checkpoint_start(global_step=step, start_time_msec=clock.tick(1))
            if strategy == "sync":
                cb.on_save_checkpoint_success(global_step=step, time_msec=clock.tick(30))
                cb.on_save_checkpoint_end(finish_time_msec=clock.tick(10))
            else:
                cb.on_save_checkpoint_end(finish_time_msec=clock.tick(10))
                done = clock.tick(50)
                saver = threading.Thread(
                    target=cb.on_save_checkpoint_success, args=(step, done), name="saver"
                )
                saver.start()
                saver.join()
    cb.on_train_end(finish_time_msec=clock.tick(5))
    cb.on_testing_start(start_time_msec=clock.tick(5))
    cb.on_testing_end(finish_time_msec=clock.tick(40))
    cb.on_app_end(finish_time_msec=clock.tick(5))


def main(library: str, out: str, strategy: str, enabled: str) -> None:
    telemetron.configure(exporters=[{"type": "file", "path": out}])
    cb, timed_span, attrs = setup(library, strategy, enabled == "enabled")
    # OneLogger's timed_span raises AttributeError on a disabled rank (a defect not reproduced
    # by telemetron.training): it is only used where it works.
    use_timed_span = enabled == "enabled" or library == "telemetron"
    run(cb, timed_span, attrs, strategy, use_timed_span)
    report = telemetron.shutdown()
    assert report is None or report["undelivered"] == [], report


if __name__ == "__main__":
    main(*sys.argv[1:])
