"""The training metrics as metric series, so they reach Metrana, OTLP and TensorBoard as curves.

Logged at each ``training_metrics_update`` with the iteration as the step:
``train/iteration_time_sec`` (mean over the iterations since the previous update),
``train/iteration_time_min_sec`` / ``train/iteration_time_max_sec`` (same interval),
``train/samples_per_sec``, ``train/tokens_per_sec`` (with ``seq_length``) and
``train/throughput_tflops_per_gpu`` (with throughput logging). At the end of a validation loop:
``validation/iteration_time_sec`` (mean over that loop's timed iterations); at the end of a
checkpoint save: ``checkpoint/save_time_sec``. Unlike the event attributes, which keep
OneLogger's job-cumulative formulas, the series describe each interval. They are logged as
distributed series (explicit steps), so a step seen twice (two validations at one iteration, a
restarted job) is recorded rather than refused.
"""

from __future__ import annotations

from telemetron import _runtime as _runtime_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from telemetron.training._state import TrainingState
    from telemetron.training.config import TrainingTelemetryConfig

_INF = float("inf")


class MetricSeries:
    """Interval accumulators and the calls that log them."""

    __slots__ = (
        "_time",
        "_count",
        "_samples",
        "_flops",
        "interval_min",
        "interval_max",
        "_val_time",
        "_val_count",
        "_warned",
    )

    def __init__(self) -> None:
        self._time = 0.0
        self._count = 0
        self._samples = 0
        self._flops = 0
        # Updated inline by the recorder's iteration end (the hot path).
        self.interval_min = _INF
        self.interval_max = 0.0
        self._val_time = 0.0
        self._val_count = 0
        self._warned = False

    def interval_start(self, state: TrainingState) -> None:
        """A training loop starts: intervals count from here."""
        timer = state.train_timer
        self._time, self._count = timer.total_time_sec, timer.total_window_count
        self._samples, self._flops = state.train_samples_processed, state.total_flops_current_job
        self.interval_min, self.interval_max = _INF, 0.0

    def training_update(
        self, state: TrainingState, config: TrainingTelemetryConfig, world_size: int, step: int
    ) -> None:
        """Logs the interval since the previous update at ``step``."""
        timer = state.train_timer
        seconds = timer.total_time_sec - self._time
        count = timer.total_window_count - self._count
        values: dict[str, float] = {}
        if count > 0 and seconds > 0:
            samples = state.train_samples_processed - self._samples
            values["train/iteration_time_sec"] = seconds / count
            values["train/iteration_time_min_sec"] = self.interval_min
            values["train/iteration_time_max_sec"] = self.interval_max
            values["train/samples_per_sec"] = samples / seconds
            seq_length = config.seq_length
            if seq_length:
                values["train/tokens_per_sec"] = samples * seq_length / seconds
            if config.is_log_throughput_enabled:
                flops = state.total_flops_current_job - self._flops
                values["train/throughput_tflops_per_gpu"] = flops / (seconds * 1e12 * world_size)
        self._log(values, step)
        self.interval_start(state)

    def validation_start(self, state: TrainingState) -> None:
        """A validation loop starts."""
        timer = state.timers["validation_single_iteration"]
        self._val_time, self._val_count = timer.total_time_sec, timer.total_window_count

    def validation_end(self, state: TrainingState, step: int) -> None:
        """A validation loop ended at training iteration ``step``."""
        timer = state.timers["validation_single_iteration"]
        count = timer.total_window_count - self._val_count
        if count > 0:
            mean = (timer.total_time_sec - self._val_time) / count
            self._log({"validation/iteration_time_sec": mean}, step)

    def checkpoint_saved(self, seconds: float, step: int) -> None:
        """A save (its part on the training thread) took ``seconds`` at ``step``."""
        self._log({"checkpoint/save_time_sec": seconds}, step)

    def _log(self, values: dict[str, float], step: int) -> None:
        if not values:
            return
        runtime = _runtime_module._runtime or _runtime_module.get_runtime()
        for name, value in values.items():
            try:
                runtime.log_metric(name, value, None, step, None, None, None, None, False)
            except Exception as exc:  # noqa: BLE001 - refused points are counted by the runtime
                if not self._warned:
                    self._warned = True
                    import logging

                    logging.getLogger("telemetron.training").warning(
                        "training metric %s at step %s was refused (%s); later refusals are "
                        "counted in telemetron.metrics() only",
                        name,
                        step,
                        exc,
                    )
