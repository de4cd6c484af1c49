"""The attribute sets of OneLogger's training events, key for key (``?`` keys only when known).

Each function builds one event's attributes from the recorder's state, as OneLogger 2.3.1's
``*Attributes.create`` does.
"""

from __future__ import annotations

import os

from telemetron.training.config import current_rank, custom_metadata_list

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from telemetron.training._state import ProductivityState, TrainingState
    from telemetron.training.config import OneLoggerConfig, TrainingTelemetryConfig


def _with_known(attributes: dict[str, Any], optional: dict[str, Any]) -> dict[str, Any]:
    attributes.update((k, v) for k, v in optional.items() if v is not None)
    return attributes


def _hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


def one_logger_initialization(config: OneLoggerConfig, version: str) -> dict[str, Any]:
    """``one_logger_initialization`` (on ``application``)."""
    attributes = {
        "world_size": config.world_size,
        "one_logger_training_telemetry_version": version,
        "enable_for_current_rank": config.enable_for_current_rank,
        "session_tag": config.session_tag,
        "is_baseline_run": config.is_baseline_run,
        "summary_data_schema_version": config.summary_data_schema_version,
        "node_name": _hostname(),
        "rank": current_rank(),
    }
    return _with_known(
        attributes, {"custom_metadata": custom_metadata_list(config.custom_metadata)}
    )


def update_training_telemetry_config(config: TrainingTelemetryConfig) -> dict[str, Any]:
    """``update_training_telemetry_config`` (on ``application``)."""
    attributes = {
        "perf_tag": config.perf_tag,
        "global_batch_size": config.global_batch_size,
        "log_every_n_train_iterations": config.log_every_n_train_iterations,
    }
    return _with_known(
        attributes,
        {
            "micro_batch_size": config.micro_batch_size,
            "seq_length": config.seq_length,
            "flops_per_sample": config.flops_per_sample,
            "train_iterations_target": config.train_iterations_target,
            "train_samples_target": config.train_samples_target,
            "checkpoint_strategy": config.save_checkpoint_strategy,
            "is_train_iterations_enabled": config.is_train_iterations_enabled,
            "is_validation_iterations_enabled": config.is_validation_iterations_enabled,
            "is_test_iterations_enabled": config.is_test_iterations_enabled,
            "is_save_checkpoint_enabled": config.is_save_checkpoint_enabled,
            "is_log_throughput_enabled": config.is_log_throughput_enabled,
            "custom_metadata": custom_metadata_list(config.custom_metadata),
        },
    )


def training_loop(
    state: TrainingState,
    train_iterations_target: int | None,
    train_samples_target: int | None,
    train_tokens_target: int | None,
) -> dict[str, Any]:
    """The ``training_loop`` span's attributes."""
    attributes = {
        "train_iterations_start": state.train_iterations_start,
        "train_samples_start": state.train_samples_start,
    }
    return _with_known(
        attributes,
        {
            "train_tokens_target": train_tokens_target,
            "completed_floating_point_operations_overall": state.completed_flops_overall,
            "train_iterations_target": train_iterations_target,
            "train_samples_target": train_samples_target,
        },
    )


def training_metrics_update(state: TrainingState, latest: int, every: int) -> dict[str, Any]:
    """``training_metrics_update`` (on ``training_loop``): cumulative over the job, as in
    OneLogger, whose timers are never reset."""
    timer = state.train_timer
    attributes = {
        "train_iterations_start": state.train_iterations_start,
        "current_iteration": latest,
        "num_iterations": timer.total_window_count,
        "train_samples_start": state.train_samples_start,
        "num_train_samples": state.train_samples_processed,
        "interval": every,
        "avg_iteration_time_sec": timer.avg_window_duration_sec,
        "min_iteration_time_sec": timer.min_window_duration_sec,
        "max_iteration_time_sec": timer.max_window_duration_sec,
        "total_iteration_time_sec": timer.total_time_sec,
        "total_flops": state.total_flops_current_job,
    }
    tflops = state.tflops_per_gpu
    return _with_known(
        attributes,
        {
            "train_tokens": state.train_tokens,
            "completed_floating_point_operations_overall": state.completed_flops_overall,
            "train_throughput_per_gpu": tflops.latest,
            "train_throughput_per_gpu_max": tflops.max,
            "train_throughput_per_gpu_min": tflops.min,
            "first_logged_train_iterations_finish_timestamp_sec": state.first_finish_wall,
            "last_logged_train_iterations_finish_timestamp_sec": state.last_finish_wall,
        },
    )


def validation_metrics_update(state: TrainingState) -> dict[str, Any]:
    """``validation_metrics_update`` (on ``validation_loop``)."""
    completed = state.completed_iterations_overall
    attributes: dict[str, Any] = {
        "current_iteration": max(0, completed - 1),
        "interval": completed - state.validation_interval_start,
    }
    timer = state.timers["validation_single_iteration"]
    if timer.total_window_count > 0:
        attributes["avg_iteration_time_sec"] = timer.avg_window_duration_sec
        attributes["min_iteration_time_sec"] = timer.min_window_duration_sec
        attributes["max_iteration_time_sec"] = timer.max_window_duration_sec
        attributes["total_iteration_time_sec"] = timer.total_time_sec
    return attributes


def testing_metrics_update(state: TrainingState) -> dict[str, Any]:
    """``testing_metrics_update`` (on ``testing_loop``)."""
    completed = state.completed_iterations_overall
    return {
        "current_iteration": max(0, completed - 1),
        "interval": completed - state.testing_interval_start,
    }


def save_checkpoint_success(
    state: TrainingState,
    config: TrainingTelemetryConfig,
    current_iteration: int,
    productivity: ProductivityState,
) -> dict[str, Any]:
    """``save_checkpoint_success``: the productive work the checkpoint holds."""
    attributes = {
        "checkpoint_strategy": config.save_checkpoint_strategy,
        "current_iteration": current_iteration,
        "first_successful_save_checkpoint_timestamp_sec": state.first_save_success_wall,
        "latest_successful_save_checkpoint_timestamp_sec": state.latest_save_success_wall,
        "save_checkpoint_success_count": state.save_success_count,
        "productive_train_iterations": productivity.train_iterations,
        "productive_train_samples": productivity.train_samples,
        "productive_train_iterations_sec": productivity.train_iterations_sec,
        "productive_validation_iterations_sec": productivity.validation_iterations_sec,
    }
    return _with_known(
        attributes,
        {
            "productive_train_tflops": productivity.train_tflops,
            # OneLogger leaves it out when falsy (a loop started at epoch 0 never happens).
            "training_start_timestamp_sec": state.training_loop_start_wall or None,
        },
    )


def sync_checkpoint_metrics_update(state: TrainingState, span_name: str) -> dict[str, Any]:
    """``sync_checkpoint_metrics_update``: every save's training-thread time so far."""
    timer = state.timers[span_name]
    return {
        "save_checkpoint_sync_time_total_sec": timer.total_time_sec,
        "save_checkpoint_sync_time_min_sec": timer.min_window_duration_sec,
        "save_checkpoint_sync_time_max_sec": timer.max_window_duration_sec,
    }
