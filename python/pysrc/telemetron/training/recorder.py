"""``TrainingRecorder``: the callbacks' logic, with OneLogger 2.3.1's record names and formulas.

Every ``on_*`` method takes (wall seconds, perf-counter seconds) and holds the recorder's lock,
so callbacks from several threads (an async checkpoint saver) keep the state consistent. The
per-iteration work is a few field updates: it does not grow with the length of the run.
"""

from __future__ import annotations

import os

from telemetron.training._errors import TrainingTelemetryError, check
from telemetron.training._metrics import MetricSeries
from telemetron.training._names import CheckPointStrategy
from telemetron.training._spans import SpanRecorder, TrainingSpan, timestamp
from telemetron.training._state import ProductivityState, TrainingState
from telemetron.training.config import custom_metadata_list

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from enum import Enum
    from typing import Any

    from telemetron.training._names import ExportCustomizationMode
    from telemetron.training.config import OneLoggerConfig, TrainingTelemetryConfig

ITERATION = "training_single_iteration"
VALIDATION_ITERATION = "validation_single_iteration"
SAVE_SYNC = "checkpoint_save_sync"
SAVE_ASYNC = "checkpoint_save_async"
LOAD = "checkpoint_load"
_TIMED = (ITERATION, VALIDATION_ITERATION, SAVE_SYNC, SAVE_ASYNC, LOAD)


def _hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


class TrainingRecorder(SpanRecorder):
    """Records a training job: spans, periodic metric events, metric series."""

    def __init__(
        self,
        config: OneLoggerConfig,
        export_customization_mode: ExportCustomizationMode,
        span_name_filter: Iterable[str | Enum] | None,
        version: str,
    ) -> None:
        super().__init__(export_customization_mode, span_name_filter)
        self._config = config
        self._version = version
        self._state = TrainingState(_TIMED)
        self._series = MetricSeries()

    # ----- generic recorder API (OneLogger's Recorder, for custom spans) -----

    def start(
        self,
        span_name: str | Enum,
        span_attributes: Mapping[str, Any] | None = None,
        start_event_attributes: Mapping[str, Any] | None = None,
        start_time: float | None = None,
        parent_span: TrainingSpan | None = None,
    ) -> TrainingSpan:
        """Starts a span (``start_time`` in seconds since the epoch, default now)."""
        from telemetron.training._names import name_str

        wall, perf = timestamp(None if start_time is None else start_time * 1000.0)
        name = name_str(span_name)
        with self._lock:
            timer = self._state.timers.get(name)
            check(timer is None or timer.is_active, f"Timer for span {name} is not active.")
            return self.start_at(
                name, wall, perf, span_attributes, start_event_attributes, parent_span
            )

    def stop(
        self,
        span: TrainingSpan,
        stop_event_attributes: Mapping[str, Any] | None = None,
        stop_time: float | None = None,
    ) -> None:
        """Stops a span (``stop_time`` in seconds since the epoch, default now)."""
        wall, perf = timestamp(None if stop_time is None else stop_time * 1000.0)
        with self._lock:
            self._stop(span, wall, perf, stop_event_attributes)

    def event(
        self,
        span: TrainingSpan,
        name: str | Enum,
        attributes: Mapping[str, Any] | None = None,
        time: float | None = None,
    ) -> None:
        """Records an event on a running span (``time`` in seconds since the epoch)."""
        wall, _ = timestamp(None if time is None else time * 1000.0)
        with self._lock:
            self.event_at(span, name, attributes, wall)

    def error(
        self, span: TrainingSpan, error_message: str, exception: BaseException | None = None
    ) -> None:
        """Records an application error on a running span."""
        wall, _ = timestamp(None)
        with self._lock:
            self.error_at(span, error_message, exception, wall)

    def telemetry_data_error(self, error_message: str) -> None:
        """Tells every exporter that this run's telemetry is incomplete."""
        from telemetron._runtime import get_runtime

        get_runtime().telemetry_data_error("incomplete_telemetry_data", error_message)

    def close(self) -> None:
        """Stops every running span (newest first) and flushes the exporters."""
        with self._lock:
            if self._closed:
                return
            wall, perf = timestamp(None)
            for span in reversed(self.open_spans()):
                self._stop(span, wall, perf, None)
            self._closed = True
        from telemetron._runtime import flush

        flush()

    def _stop(
        self, span: TrainingSpan, wall: float, perf: float, attributes: Mapping[str, Any] | None
    ) -> None:
        timer = self._state.timers.get(span.name) if span is not None else None
        if timer is not None and timer.is_active:
            # A span stopped without its end callback (an exception, a missing call).
            timer.stop(perf)
            self.error_at(
                span,
                f"Timer for span {span.name} was automatically stopped because the span is "
                "being stopped. This may indicate that the corresponding on_xxx_end method was "
                "not called correctly. If the program exited properly, please double-check your "
                "on_xxx_end callback. If the program exited abnormally (e.g., due to an "
                "exception), this is expected.",
                None,
                wall,
            )
        self.stop_at(span, wall, perf, attributes)

    # ----- application -----

    def training_config(self) -> TrainingTelemetryConfig:
        """The training config; an error before it is set."""
        config = self._config.telemetry_config
        if config is None:
            raise TrainingTelemetryError(
                "Training telemetry config must be set before the start of training. See "
                "TrainingTelemetryProvider.set_training_telemetry_config."
            )
        return config

    def on_app_start(self, wall: float, perf: float) -> TrainingSpan:
        with self._lock:
            span = self.start_at("application", wall, perf)
            conf = self._config
            attributes: dict[str, Any] = {
                "world_size": conf.world_size,
                "one_logger_training_telemetry_version": self._version,
                "enable_for_current_rank": conf.enable_for_current_rank,
                "session_tag": conf.session_tag,
                "is_baseline_run": conf.is_baseline_run,
                "summary_data_schema_version": conf.summary_data_schema_version,
                "node_name": _hostname(),
                "rank": _rank(),
            }
            metadata = custom_metadata_list(conf.custom_metadata)
            if metadata is not None:
                attributes["custom_metadata"] = metadata
            self.event_at(span, "one_logger_initialization", attributes, wall)
            if conf.telemetry_config is not None:
                self.update_training_config(conf.telemetry_config)
            return span

    def on_app_end(self, wall: float, perf: float) -> None:
        with self._lock:
            self._stop(self.active_span("application"), wall, perf, None)
        self.close()

    def update_training_config(self, config: TrainingTelemetryConfig) -> None:
        """Emits ``update_training_telemetry_config`` on the application span."""
        wall, _ = timestamp(None)
        with self._lock:
            app = self._by_name.get("application")
            check(
                app is not None,
                "Cannot update training metrics: Please call on_app_start() before calling this "
                "method.",
            )
            assert app is not None
            if config.is_log_throughput_enabled:
                self._state.completed_flops_overall = 0
            attributes: dict[str, Any] = {
                "perf_tag": config.perf_tag,
                "global_batch_size": config.global_batch_size,
                "log_every_n_train_iterations": config.log_every_n_train_iterations,
            }
            optional = {
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
            }
            attributes.update((k, v) for k, v in optional.items() if v is not None)
            self.event_at(app, "update_training_telemetry_config", attributes, wall)

    # ----- spans without state of their own -----

    def on_plain_start(self, name: str, wall: float, perf: float) -> TrainingSpan:
        with self._lock:
            return self.start_at(name, wall, perf)

    def on_plain_end(self, name: str, wall: float, perf: float) -> None:
        with self._lock:
            self._stop(self.active_span(name), wall, perf, None)

    def on_timed_start(self, name: str, wall: float, perf: float) -> TrainingSpan:
        with self._lock:
            self._state.timers[name].start(perf)
            return self.start_at(name, wall, perf)

    def on_timed_end(self, name: str, wall: float, perf: float) -> None:
        with self._lock:
            self._state.timers[name].stop(perf)
            self._stop(self.active_span(name), wall, perf, None)

    # ----- training loop -----

    def on_training_loop_start(
        self,
        train_iterations_start: int,
        train_samples_start: int,
        train_iterations_target: int | None,
        train_samples_target: int | None,
        train_tokens_target: int | None,
        wall: float,
        perf: float,
    ) -> TrainingSpan:
        check(
            train_iterations_start >= 0,
            f"Invalid value for train_iterations_start: {train_iterations_start}",
        )
        check(
            train_samples_start >= 0,
            f"Invalid value for train_samples_start: {train_samples_start}",
        )
        config = self.training_config()
        with self._lock:
            state = self._state
            state.training_loop_start_wall = wall
            state.train_iterations_start = train_iterations_start
            state.train_samples_start = train_samples_start
            state.completed_iterations_overall = train_iterations_start
            state.validation_interval_start = train_iterations_start
            state.testing_interval_start = train_iterations_start
            if config.is_log_throughput_enabled:
                flops = config.flops_per_sample
                check(flops and flops > 0, "flops_per_sample must be > 0 for throughput metrics")
                assert flops is not None
                state.completed_flops_overall = (
                    train_iterations_start * config.global_batch_size * flops
                )
                state.total_flops_current_job = 0
            attributes: dict[str, Any] = {
                "train_iterations_start": train_iterations_start,
                "train_samples_start": train_samples_start,
            }
            optional = {
                "train_tokens_target": train_tokens_target,
                "completed_floating_point_operations_overall": state.completed_flops_overall,
                "train_iterations_target": train_iterations_target,
                "train_samples_target": train_samples_target,
            }
            attributes.update((k, v) for k, v in optional.items() if v is not None)
            self._series.interval_start(state)
            return self.start_at("training_loop", wall, perf, attributes)

    def on_training_single_iteration_start(self, wall: float, perf: float) -> TrainingSpan:
        with self._lock:
            self._state.train_timer.start(perf)
            return self.start_at(ITERATION, wall, perf)

    def on_training_single_iteration_end(self, wall: float, perf: float) -> None:
        config = self.training_config()
        with self._lock:
            state = self._state
            duration = state.train_timer.stop(perf)
            state.completed_iterations_overall += 1
            batch = config.global_batch_size
            state.train_samples_processed += batch
            seq_length = config.seq_length
            if seq_length:
                state.train_tokens = seq_length * state.train_samples_processed
            state.last_finish_wall = wall
            if state.first_finish_wall is None:
                state.first_finish_wall = wall
            if config.is_log_throughput_enabled:
                self._count_flops(config, batch)
            self._series.iteration(duration)
            every = config.log_every_n_train_iterations
            latest = state.completed_iterations_overall - 1
            if latest > 0 and (latest + 1) % every == 0:
                self._training_metrics_update(latest, every)
            self._stop(self.active_span(ITERATION), wall, perf, None)

    def _count_flops(self, config: TrainingTelemetryConfig, batch: int) -> None:
        state = self._state
        flops_per_sample = config.flops_per_sample
        check(flops_per_sample and flops_per_sample > 0, "flops_per_sample must be > 0")
        assert flops_per_sample is not None and state.completed_flops_overall is not None
        flops = batch * flops_per_sample
        state.completed_flops_overall += flops
        state.total_flops_current_job += flops
        total_time = state.train_timer.total_time_sec
        check(total_time > 0, "train_iterations_time_total must be greater than 0")
        state.tflops_per_gpu.add(
            float(state.total_flops_current_job) / (total_time * 10**12 * self._config.world_size)
        )

    def _training_metrics_update(self, latest: int, every: int) -> None:
        state = self._state
        timer = state.train_timer
        attributes: dict[str, Any] = {
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
        optional = {
            "train_tokens": state.train_tokens,
            "completed_floating_point_operations_overall": state.completed_flops_overall,
            "train_throughput_per_gpu": state.tflops_per_gpu.latest,
            "train_throughput_per_gpu_max": state.tflops_per_gpu.max,
            "train_throughput_per_gpu_min": state.tflops_per_gpu.min,
            "first_logged_train_iterations_finish_timestamp_sec": state.first_finish_wall,
            "last_logged_train_iterations_finish_timestamp_sec": state.last_finish_wall,
        }
        attributes.update((k, v) for k, v in optional.items() if v is not None)
        loop = self.active_span("training_loop")
        self.event_at(loop, "training_metrics_update", attributes, _wall_now())
        self._series.training_update(state, self.training_config(), self._config.world_size, latest)

    def on_training_loop_end(self, wall: float, perf: float) -> None:
        self.on_plain_end("training_loop", wall, perf)

    # ----- validation and testing -----

    def on_validation_start(self, wall: float, perf: float) -> TrainingSpan:
        with self._lock:
            self._series.validation_start(self._state)
            return self.start_at("validation_loop", wall, perf)

    def on_validation_end(self, wall: float, perf: float) -> None:
        with self._lock:
            state = self._state
            loop = self.active_span("validation_loop")
            completed = state.completed_iterations_overall
            timer = state.timers[VALIDATION_ITERATION]
            attributes: dict[str, Any] = {
                "current_iteration": max(0, completed - 1),
                "interval": completed - state.validation_interval_start,
            }
            if timer.total_window_count > 0:
                attributes["avg_iteration_time_sec"] = timer.avg_window_duration_sec
                attributes["min_iteration_time_sec"] = timer.min_window_duration_sec
                attributes["max_iteration_time_sec"] = timer.max_window_duration_sec
                attributes["total_iteration_time_sec"] = timer.total_time_sec
            self.event_at(loop, "validation_metrics_update", attributes, _wall_now())
            state.validation_interval_start = completed
            self._series.validation_end(state, max(0, completed - 1))
            self._stop(loop, wall, perf, None)

    def on_testing_end(self, wall: float, perf: float) -> None:
        with self._lock:
            state = self._state
            loop = self.active_span("testing_loop")
            completed = state.completed_iterations_overall
            attributes = {
                "current_iteration": max(0, completed - 1),
                "interval": completed - state.testing_interval_start,
            }
            self.event_at(loop, "testing_metrics_update", attributes, _wall_now())
            state.testing_interval_start = completed
            self._stop(loop, wall, perf, None)

    # ----- checkpoints -----

    def _save_span_name(self, config: TrainingTelemetryConfig) -> str:
        strategy = config.save_checkpoint_strategy
        return SAVE_SYNC if strategy is CheckPointStrategy.SYNC else SAVE_ASYNC

    def on_save_checkpoint_start(
        self, current_iteration: int, wall: float, perf: float
    ) -> TrainingSpan:
        config = self.training_config()
        name = self._save_span_name(config)
        with self._lock:
            if not config.is_save_checkpoint_enabled:
                # OneLogger raises "Timer ... is not active" here; saves are simply not timed.
                return self.start_at(name, wall, perf)
            state = self._state
            flops = state.completed_flops_overall
            state.productivity[current_iteration] = ProductivityState(
                state.completed_iterations_overall,
                state.train_samples_start + state.train_samples_processed,
                state.train_timer.total_time_sec,
                state.timers[VALIDATION_ITERATION].total_time_sec,
                None if flops is None else float(flops) / 10**12,
            )
            timer = state.timers[name]
            timer.start(perf)
            attributes = {
                "checkpoint_strategy": config.save_checkpoint_strategy,
                "current_iteration": current_iteration,
                "save_checkpoint_attempt_count": timer.total_window_count,
            }
            span = self.start_at(name, wall, perf, attributes)
            state.save_iteration = current_iteration
            return span

    def on_save_checkpoint_success(self, current_iteration: int, wall: float) -> None:
        config = self.training_config()
        if not config.is_save_checkpoint_enabled:
            return
        with self._lock:
            sync = config.save_checkpoint_strategy is CheckPointStrategy.SYNC
            # Async: the save outlives its span, so the event goes on the application span.
            span = self.active_span(SAVE_SYNC if sync else "application")
            state = self._state
            state.save_success_count += 1
            state.latest_save_success_wall = wall
            if state.first_save_success_wall is None:
                state.first_save_success_wall = wall
            productivity = state.productivity.pop(current_iteration, None) or ProductivityState(
                0, 0, 0, 0, 0
            )
            attributes: dict[str, Any] = {
                "checkpoint_strategy": config.save_checkpoint_strategy,
                "current_iteration": current_iteration,
                "first_successful_save_checkpoint_timestamp_sec": state.first_save_success_wall,
                "latest_successful_save_checkpoint_timestamp_sec": wall,
                "save_checkpoint_success_count": state.save_success_count,
                "productive_train_iterations": productivity.train_iterations,
                "productive_train_samples": productivity.train_samples,
                "productive_train_iterations_sec": productivity.train_iterations_sec,
                "productive_validation_iterations_sec": productivity.validation_iterations_sec,
            }
            if productivity.train_tflops is not None:
                attributes["productive_train_tflops"] = productivity.train_tflops
            if state.training_loop_start_wall:
                attributes["training_start_timestamp_sec"] = state.training_loop_start_wall
            self.event_at(span, "save_checkpoint_success", attributes, wall)

    def on_save_checkpoint_end(self, wall: float, perf: float) -> None:
        config = self.training_config()
        name = self._save_span_name(config)
        with self._lock:
            span = self.active_span(name)
            if config.is_save_checkpoint_enabled:
                timer = self._state.timers[name]
                duration = timer.stop(perf)
                attributes = {
                    "save_checkpoint_sync_time_total_sec": timer.total_time_sec,
                    "save_checkpoint_sync_time_min_sec": timer.min_window_duration_sec,
                    "save_checkpoint_sync_time_max_sec": timer.max_window_duration_sec,
                }
                self.event_at(span, "sync_checkpoint_metrics_update", attributes, _wall_now())
                self._series.checkpoint_saved(duration, self._state.save_iteration)
            self._stop(span, wall, perf, None)


def _rank() -> int:
    from telemetron.training.config import current_rank

    return current_rank()


def _wall_now() -> float:
    """Wall seconds now: OneLogger stamps its metric update events with the current time."""
    return timestamp(None)[0]
