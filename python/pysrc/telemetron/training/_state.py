"""What the training recorder knows about the job so far (OneLogger's ``_TrainingState``)."""

from __future__ import annotations

from telemetron.training._timer import MultiWindowTimer, Summary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


class ProductivityState:
    """The work a checkpoint holds, snapshot when its save starts."""

    __slots__ = (
        "train_iterations",
        "train_samples",
        "train_iterations_sec",
        "validation_iterations_sec",
        "train_tflops",
    )

    def __init__(
        self,
        train_iterations: int,
        train_samples: int,
        train_iterations_sec: float,
        validation_iterations_sec: float,
        train_tflops: float | None,
    ) -> None:
        self.train_iterations = train_iterations
        self.train_samples = train_samples
        self.train_iterations_sec = train_iterations_sec
        self.validation_iterations_sec = validation_iterations_sec
        self.train_tflops = train_tflops


class TrainingState:
    """Counters, timers and timestamps of the job (never reset, as in OneLogger)."""

    def __init__(self, timed_spans: Iterable[str]) -> None:
        self.timers = {name: MultiWindowTimer() for name in timed_spans}
        self.train_timer = self.timers["training_single_iteration"]
        self.train_iterations_start = 0
        # Including the iterations of a loaded checkpoint.
        self.completed_iterations_overall = 0
        self.train_samples_start = 0
        # This job's samples only.
        self.train_samples_processed = 0
        self.total_flops_current_job = 0
        self.train_tokens: int | None = None
        self.completed_flops_overall: int | None = None
        self.training_loop_start_wall: float | None = None
        self.first_finish_wall: float | None = None
        self.last_finish_wall: float | None = None
        self.first_save_success_wall: float | None = None
        self.latest_save_success_wall: float | None = None
        self.validation_interval_start = 0
        self.testing_interval_start = 0
        self.tflops_per_gpu = Summary()
        self.save_success_count = 0
        # Keyed by the global step at which each save started (async saves may overlap).
        self.productivity: dict[int, ProductivityState] = {}
        # The global step of the save in progress (for the save-time series).
        self.save_iteration = 0
