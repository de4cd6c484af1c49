"""The training callbacks, with OneLogger's names and arguments.

Each is a no-op returning None while recording is off (a disabled rank, an unconfigured
provider, after a quiet disable). An exception inside telemetry code goes through the configured
``error_handling_strategy``. ``*_time_msec`` arguments are milliseconds since the Unix epoch and
must be within 10 hours of now.
"""

from __future__ import annotations

import time

from telemetron.training._errors import check
from telemetron.training._spans import PERF_MINUS_WALL, timestamp
from telemetron.training.provider import TrainingTelemetryProvider

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from telemetron.training._spans import TrainingSpan
    from telemetron.training.recorder import TrainingRecorder

    R = TypeVar("R")

_perf = time.perf_counter


def _run(name: str, call: Callable[[TrainingRecorder], R]) -> R | None:
    provider = TrainingTelemetryProvider.instance()
    recorder = provider.live
    if recorder is None:
        provider.skipped(name)
        return None
    try:
        return call(recorder)
    except Exception as exc:  # noqa: BLE001 - the error strategy decides
        provider.failed(name, exc)
        return None


def on_app_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """The application starts: span ``application`` and event ``one_logger_initialization``."""
    return _run("on_app_start", lambda r: r.on_app_start(*timestamp(start_time_msec)))


def on_app_end(finish_time_msec: float | None = None) -> None:
    """The application ends: stops every running span and flushes the exporters."""
    provider = TrainingTelemetryProvider.instance()
    if provider.live is None and provider.disabled_by_error:
        provider.finish_after_error()
        return
    _run("on_app_end", lambda r: r.on_app_end(*timestamp(finish_time_msec)))


def _plain_start(name: str, callback: str, time_msec: float | None) -> TrainingSpan | None:
    return _run(callback, lambda r: r.on_plain_start(name, *timestamp(time_msec)))


def _plain_end(name: str, callback: str, time_msec: float | None) -> None:
    _run(callback, lambda r: r.on_plain_end(name, *timestamp(time_msec)))


def on_distributed_init_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``distributed_code_initialization`` starts."""
    return _plain_start(
        "distributed_code_initialization", "on_distributed_init_start", start_time_msec
    )


def on_distributed_init_end(finish_time_msec: float | None = None) -> None:
    """Span ``distributed_code_initialization`` ends."""
    _plain_end("distributed_code_initialization", "on_distributed_init_end", finish_time_msec)


def on_model_init_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``model_initialization`` starts."""
    return _plain_start("model_initialization", "on_model_init_start", start_time_msec)


def on_model_init_end(finish_time_msec: float | None = None) -> None:
    """Span ``model_initialization`` ends."""
    _plain_end("model_initialization", "on_model_init_end", finish_time_msec)


def on_dataloader_init_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``data_loader_initialization`` starts."""
    return _plain_start("data_loader_initialization", "on_dataloader_init_start", start_time_msec)


def on_dataloader_init_end(finish_time_msec: float | None = None) -> None:
    """Span ``data_loader_initialization`` ends."""
    _plain_end("data_loader_initialization", "on_dataloader_init_end", finish_time_msec)


def on_optimizer_init_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``optimizer_initialization`` starts."""
    return _plain_start("optimizer_initialization", "on_optimizer_init_start", start_time_msec)


def on_optimizer_init_end(finish_time_msec: float | None = None) -> None:
    """Span ``optimizer_initialization`` ends."""
    _plain_end("optimizer_initialization", "on_optimizer_init_end", finish_time_msec)


def on_load_checkpoint_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``checkpoint_load`` starts (timed)."""
    return _run(
        "on_load_checkpoint_start",
        lambda r: r.on_timed_start("checkpoint_load", *timestamp(start_time_msec)),
    )


def on_load_checkpoint_end(finish_time_msec: float | None = None) -> None:
    """Span ``checkpoint_load`` ends."""
    _run(
        "on_load_checkpoint_end",
        lambda r: r.on_timed_end("checkpoint_load", *timestamp(finish_time_msec)),
    )


def _evaluate(value: Any) -> Any:
    return value() if callable(value) else value


def on_train_start(
    train_iterations_start: int,
    train_samples_start: int | None = None,
    train_iterations_target_or_fn: int | Callable[[], int] | None = None,
    train_samples_target_or_fn: int | Callable[[], int] | None = None,
    start_time_msec: float | None = None,
) -> TrainingSpan | None:
    """Span ``training_loop`` starts. ``train_samples_start`` defaults to
    ``train_iterations_start × global_batch_size``; the targets default to the config's and
    are required with throughput logging."""

    def start(recorder: TrainingRecorder) -> TrainingSpan:
        config = recorder.training_config()
        check(train_iterations_start is not None, "train_iterations_start is required.")
        samples_start = (
            train_samples_start
            if train_samples_start is not None
            else train_iterations_start * config.global_batch_size
        )
        iterations_target = (
            _evaluate(train_iterations_target_or_fn)
            if train_iterations_target_or_fn is not None
            else config.train_iterations_target
        )
        samples_target = (
            _evaluate(train_samples_target_or_fn)
            if train_samples_target_or_fn is not None
            else config.train_samples_target
        )
        if config.is_log_throughput_enabled:
            check(
                iterations_target and iterations_target > 0,
                "train_iterations_target is required and must be a positive integer.",
            )
            check(
                samples_target is not None and samples_target > 0,
                "train_samples_target is required and must be a positive integer.",
            )
        seq_length = config.seq_length
        tokens_target = seq_length * samples_target if seq_length and samples_target else None
        return recorder.on_training_loop_start(
            train_iterations_start,
            samples_start,
            iterations_target,
            samples_target,
            tokens_target,
            *timestamp(start_time_msec),
        )

    return _run("on_train_start", start)


def on_train_end(finish_time_msec: float | None = None) -> None:
    """Span ``training_loop`` ends."""
    _run("on_train_end", lambda r: r.on_training_loop_end(*timestamp(finish_time_msec)))


def on_training_single_iteration_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """One training iteration starts (span ``training_single_iteration``, not exported by
    default)."""
    # The hot path: no helper calls between the caller and the recorder.
    provider = TrainingTelemetryProvider._instance
    recorder = None if provider is None else provider.live
    if recorder is None:
        TrainingTelemetryProvider.instance().skipped("on_training_single_iteration_start")
        return None
    try:
        if start_time_msec is None:
            perf = _perf()
            return recorder.on_training_single_iteration_start(perf - PERF_MINUS_WALL, perf)
        return recorder.on_training_single_iteration_start(*timestamp(start_time_msec))
    except Exception as exc:  # noqa: BLE001 - the error strategy decides
        TrainingTelemetryProvider.instance().failed("on_training_single_iteration_start", exc)
        return None


def on_training_single_iteration_end(finish_time_msec: float | None = None) -> None:
    """One training iteration ends; every ``log_every_n_train_iterations`` iterations this emits
    ``training_metrics_update`` and the ``train/...`` metric series."""
    provider = TrainingTelemetryProvider._instance
    recorder = None if provider is None else provider.live
    if recorder is None:
        TrainingTelemetryProvider.instance().skipped("on_training_single_iteration_end")
        return
    try:
        if finish_time_msec is None:
            perf = _perf()
            recorder.on_training_single_iteration_end(perf - PERF_MINUS_WALL, perf)
        else:
            recorder.on_training_single_iteration_end(*timestamp(finish_time_msec))
    except Exception as exc:  # noqa: BLE001 - the error strategy decides
        TrainingTelemetryProvider.instance().failed("on_training_single_iteration_end", exc)


def on_validation_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``validation_loop`` starts."""
    return _run("on_validation_start", lambda r: r.on_validation_start(*timestamp(start_time_msec)))


def on_validation_end(finish_time_msec: float | None = None) -> None:
    """Span ``validation_loop`` ends, with ``validation_metrics_update``."""
    _run("on_validation_end", lambda r: r.on_validation_end(*timestamp(finish_time_msec)))


def on_validation_single_iteration_start(
    start_time_msec: float | None = None,
) -> TrainingSpan | None:
    """One validation iteration starts (timed)."""
    return _run(
        "on_validation_single_iteration_start",
        lambda r: r.on_timed_start("validation_single_iteration", *timestamp(start_time_msec)),
    )


def on_validation_single_iteration_end(finish_time_msec: float | None = None) -> None:
    """One validation iteration ends."""
    _run(
        "on_validation_single_iteration_end",
        lambda r: r.on_timed_end("validation_single_iteration", *timestamp(finish_time_msec)),
    )


def on_testing_start(start_time_msec: float | None = None) -> TrainingSpan | None:
    """Span ``testing_loop`` starts."""
    return _plain_start("testing_loop", "on_testing_start", start_time_msec)


def on_testing_end(finish_time_msec: float | None = None) -> None:
    """Span ``testing_loop`` ends, with ``testing_metrics_update``."""
    _run("on_testing_end", lambda r: r.on_testing_end(*timestamp(finish_time_msec)))


def on_save_checkpoint_start(
    global_step: int, start_time_msec: float | None = None
) -> TrainingSpan | None:
    """Span ``checkpoint_save_sync`` or ``checkpoint_save_async`` (by strategy) starts; the
    work done so far is remembered under ``global_step``."""
    return _run(
        "on_save_checkpoint_start",
        lambda r: r.on_save_checkpoint_start(global_step, *timestamp(start_time_msec)),
    )


def on_save_checkpoint_success(global_step: int, time_msec: float | None = None) -> None:
    """The checkpoint of ``global_step`` is saved (any thread): event
    ``save_checkpoint_success`` on the sync save span, or on ``application`` for async saves."""
    _run(
        "on_save_checkpoint_success",
        lambda r: r.on_save_checkpoint_success(global_step, timestamp(time_msec)[0]),
    )


def on_save_checkpoint_end(finish_time_msec: float | None = None) -> None:
    """The save span ends, with ``sync_checkpoint_metrics_update``."""
    _run("on_save_checkpoint_end", lambda r: r.on_save_checkpoint_end(*timestamp(finish_time_msec)))
