"""``TrainingRecorder``: the callbacks' logic, with OneLogger 2.3.1's record names and formulas.

Every ``on_*`` method takes (wall seconds, perf-counter seconds) and holds the recorder's lock,
so callbacks from several threads (an async checkpoint saver) keep the state consistent. The
per-iteration work is a few field updates: it does not grow with the length of the run.
"""

from __future__ import annotations

from telemetron._native import TelemetronError
from telemetron.training import _event_attributes as events
from telemetron.training._errors import TrainingTelemetryError, check
from telemetron.training._metrics import MetricSeries
from telemetron.training._names import CheckPointStrategy
from telemetron.training._spans import SpanRecorder, TrainingSpan, timestamp
from telemetron.training._state import ProductivityState, TrainingState

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
        # Iterations are not exported by default: one span object serves them all.
        self._iteration: TrainingSpan | None = None
        if not self.should_export(ITERATION):
            self._iteration = TrainingSpan(ITERATION, None, None, None, None, 0.0, 0.0)
            self._iteration.active = False

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
        from telemetron import _runtime

        if not _runtime.is_configured():  # never start a runtime only to flush it
            return
        try:
            _runtime.flush()
        except TelemetronError as exc:
            # An exporter's failure is the runtime's to count and report, not the job's.
            import logging

            logging.getLogger("telemetron.training").warning("flush at close: %s", exc)

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
            attributes = events.one_logger_initialization(self._config, self._version)
            self.event_at(span, "one_logger_initialization", attributes, wall)
            if self._config.telemetry_config is not None:
                self.update_training_config(self._config.telemetry_config)
            return span

    def on_app_end(self, wall: float, perf: float) -> None:
        with self._lock:
            self._stop(self.active_span("application"), wall, perf, None)
        self.close()

    def update_training_config(self, config: TrainingTelemetryConfig) -> None:
        """Emits ``update_training_telemetry_config`` on the application span."""
        with self._lock:
            app = self._by_name.get("application")
            if app is None:
                raise TrainingTelemetryError(
                    "Cannot update training metrics: Please call on_app_start() before calling "
                    "this method."
                )
            if config.is_log_throughput_enabled:
                self._state.completed_flops_overall = 0
            attributes = events.update_training_telemetry_config(config)
            self.event_at(app, "update_training_telemetry_config", attributes, _wall_now())

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
            attributes = events.training_loop(
                state, train_iterations_target, train_samples_target, train_tokens_target
            )
            self._series.interval_start(state)
            return self.start_at("training_loop", wall, perf, attributes)

    # The hot path, two calls per iteration: the lock taken explicitly (a ``with`` costs twice
    # as much), config values read without properties (a ``*_or_fn`` callable is still called
    # every time, as OneLogger does).

    def on_training_single_iteration_start(self, wall: float, perf: float) -> TrainingSpan:
        lock = self._lock
        lock.acquire()
        try:
            timer = self._state.train_timer
            if timer.current_start is not None:
                raise TrainingTelemetryError("Cannot start timer since it is already active")
            timer.current_start = perf
            timer.total_window_count += 1
            reused = self._iteration
            if reused is not None:
                return self.start_reused(reused, wall, perf)
            return self.start_at(ITERATION, wall, perf)
        finally:
            lock.release()

    def on_training_single_iteration_end(self, wall: float, perf: float) -> None:
        config = self._config.telemetry_config
        if config is None:
            self.training_config()  # raises, saying what to do
            return
        lock = self._lock
        lock.acquire()
        try:
            state = self._state
            timer = state.train_timer
            started = timer.current_start
            if started is None or perf < started:
                timer.stop(perf)  # raises the timer's error
                return
            # MultiWindowTimer.stop, inline.
            timer.current_start = None
            duration = perf - started
            timer.latest_window_duration_sec = duration
            if duration < timer.min_window_duration_sec:
                timer.min_window_duration_sec = duration
            if duration > timer.max_window_duration_sec:
                timer.max_window_duration_sec = duration
            timer.total_time_sec += duration
            state.completed_iterations_overall += 1
            batch = config.global_batch_size_or_fn
            if callable(batch):
                batch = batch()
            state.train_samples_processed += batch
            seq_length = config.seq_length_or_fn
            if seq_length is not None:
                if callable(seq_length):
                    seq_length = seq_length()
                if seq_length:
                    state.train_tokens = seq_length * state.train_samples_processed
            state.last_finish_wall = wall
            if state.first_finish_wall is None:
                state.first_finish_wall = wall
            throughput = config.is_log_throughput_enabled_or_fn
            if throughput and (not callable(throughput) or throughput()):
                self._count_flops(config, batch)
            series = self._series
            if duration < series.interval_min:
                series.interval_min = duration
            if duration > series.interval_max:
                series.interval_max = duration
            every = config.log_every_n_train_iterations
            latest = state.completed_iterations_overall - 1
            if latest > 0 and (latest + 1) % every == 0:
                self._training_metrics_update(latest, every)
            span = self._by_name.get(ITERATION)
            if span is None:
                self.active_span(ITERATION)  # raises, naming the span
                return
            self.stop_at(span, wall, perf, None)
        finally:
            lock.release()

    def _count_flops(self, config: TrainingTelemetryConfig, batch: int) -> None:
        """OneLogger's throughput: this job's FLOPs / (iteration seconds × 1e12 × world size)."""
        state = self._state
        per_sample = config.flops_per_sample_or_fn
        if callable(per_sample):
            per_sample = per_sample()
        overall = state.completed_flops_overall
        if not per_sample or per_sample <= 0 or overall is None:
            raise TrainingTelemetryError("flops_per_sample must be > 0 for throughput metrics")
        flops = batch * per_sample
        state.completed_flops_overall = overall + flops
        state.total_flops_current_job += flops
        total_time = state.train_timer.total_time_sec
        if total_time <= 0:
            raise TrainingTelemetryError("train_iterations_time_total must be greater than 0")
        world_size = self._config.world_size_or_fn
        if callable(world_size):
            world_size = world_size()
        state.tflops_per_gpu.add(state.total_flops_current_job / (total_time * 1e12 * world_size))

    def _training_metrics_update(self, latest: int, every: int) -> None:
        state = self._state
        attributes = events.training_metrics_update(state, latest, every)
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
            attributes = events.validation_metrics_update(state)
            self.event_at(loop, "validation_metrics_update", attributes, _wall_now())
            state.validation_interval_start = state.completed_iterations_overall
            self._series.validation_end(state, attributes["current_iteration"])
            self._stop(loop, wall, perf, None)

    def on_testing_end(self, wall: float, perf: float) -> None:
        with self._lock:
            state = self._state
            loop = self.active_span("testing_loop")
            attributes = events.testing_metrics_update(state)
            self.event_at(loop, "testing_metrics_update", attributes, _wall_now())
            state.testing_interval_start = state.completed_iterations_overall
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
            # No snapshot (a success without its start): zeros, as OneLogger reports.
            productivity = state.productivity.pop(current_iteration, None) or ProductivityState(
                0, 0, 0, 0, 0
            )
            attributes = events.save_checkpoint_success(
                state, config, current_iteration, productivity
            )
            self.event_at(span, "save_checkpoint_success", attributes, wall)

    def on_save_checkpoint_end(self, wall: float, perf: float) -> None:
        config = self.training_config()
        name = self._save_span_name(config)
        with self._lock:
            span = self.active_span(name)
            if config.is_save_checkpoint_enabled:
                duration = self._state.timers[name].stop(perf)
                attributes = events.sync_checkpoint_metrics_update(self._state, name)
                self.event_at(span, "sync_checkpoint_metrics_update", attributes, _wall_now())
                self._series.checkpoint_saved(duration, self._state.save_iteration)
            self._stop(span, wall, perf, None)


def _wall_now() -> float:
    """Wall seconds now: OneLogger stamps its metric update events with the current time."""
    return timestamp(None)[0]
