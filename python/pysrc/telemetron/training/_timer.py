"""Timers over many windows (iterations, saves) and a running min/max/latest summary.

Same statistics as OneLogger's ``MultiWindowTimer``: never reset, so its "per N iterations"
numbers are cumulative over the job. Durations come from ``time.perf_counter``.
"""

from __future__ import annotations

from telemetron.training._errors import TrainingTelemetryError

_INF = float("inf")


class MultiWindowTimer:
    """Total, count, min, max and mean of non-overlapping windows."""

    __slots__ = (
        "current_start",
        "total_window_count",
        "total_time_sec",
        "min_window_duration_sec",
        "max_window_duration_sec",
        "latest_window_duration_sec",
    )

    def __init__(self) -> None:
        self.current_start: float | None = None
        self.total_window_count = 0
        self.total_time_sec = 0.0
        self.min_window_duration_sec = _INF
        self.max_window_duration_sec = 0.0
        self.latest_window_duration_sec = 0.0

    @property
    def is_active(self) -> bool:
        """A window is open."""
        return self.current_start is not None

    @property
    def avg_window_duration_sec(self) -> float:
        """Mean over windows started so far (OneLogger's formula: an open window counts)."""
        count = self.total_window_count
        return self.total_time_sec / count if count else 0.0

    def start(self, perf: float) -> None:
        """Opens a window at perf-counter time ``perf``."""
        if self.current_start is not None:
            raise TrainingTelemetryError("Cannot start timer since it is already active")
        self.current_start = perf
        self.total_window_count += 1

    def stop(self, perf: float) -> float:
        """Closes the open window at ``perf`` and returns its duration in seconds."""
        start = self.current_start
        if start is None:
            raise TrainingTelemetryError("Cannot stop timer since it is not active")
        self.current_start = None
        if perf < start:
            raise TrainingTelemetryError(
                "Cannot stop timer with a stop time that is before the start time "
                f"({perf - start:.6f} s)"
            )
        duration = perf - start
        self.latest_window_duration_sec = duration
        if duration < self.min_window_duration_sec:
            self.min_window_duration_sec = duration
        if duration > self.max_window_duration_sec:
            self.max_window_duration_sec = duration
        self.total_time_sec += duration
        return duration


class Summary:
    """Latest, min and max of a series of values (None until the first)."""

    __slots__ = ("latest", "min", "max")

    def __init__(self) -> None:
        self.latest: float | None = None
        self.min: float | None = None
        self.max: float | None = None

    def add(self, value: float) -> None:
        """Takes one value."""
        self.latest = value
        if self.min is None or value < self.min:
            self.min = value
        if self.max is None or value > self.max:
            self.max = value
