"""Spans of the training library on Telemetron's Recorder API: identity, parentage, filtering.

A span that is not exported (the default blacklist: iterations, forward/backward passes...) costs
no record at all; spans started under it are parented to its nearest exported ancestor, so an
exporter never sees a parent it was not given. A thread that never started a span (an async
checkpoint saver) parents its spans to the running training loop, else the application.
"""

from __future__ import annotations

import _thread
import time
from contextvars import ContextVar

from telemetron import _runtime as _runtime_module
from telemetron._spans import _CURRENT
from telemetron.training._errors import TrainingTelemetryError
from telemetron.training._names import STANDARD_SPAN_NAMES, ExportCustomizationMode, name_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from enum import Enum
    from typing import Any

    from telemetron._native import Runtime, SpanRef

    Attrs = Mapping[str, Any] | None

_time = time.time
_perf = time.perf_counter
# One fixed offset between the perf-counter and wall-clock axes, taken at import (as the Rust
# runtime's clock: one wall-clock anchor advanced by the monotonic clock). "Now" reads only the
# perf counter; explicit times land on the perf axis exactly, so durations between given times
# are exact (OneLogger reads both clocks at every call: a preemption between the two reads
# skews its durations).
PERF_MINUS_WALL = _perf() - _time()

# A context without a span of its own (another thread) parents to the first of these running.
_THREAD_PARENTS = ("training_loop", "application")


def _runtime() -> Runtime:
    return _runtime_module._runtime or _runtime_module.get_runtime()


class TrainingSpan:
    """A span of the training library. ``ref`` is its Telemetron ``SpanRef``, or None when its
    name is not exported (then nothing about it is recorded). An unexported training iteration
    is one object reused by every iteration (a fresh object per iteration cost a quarter of
    the iteration's telemetry)."""

    __slots__ = (
        "name",
        "ref",
        "anchor",
        "outer",
        "parent_span",
        "start_wall",
        "start_perf",
        "active",
    )

    def __init__(
        self,
        name: str,
        ref: SpanRef | None,
        anchor: SpanRef | None,
        outer: SpanRef | None,
        parent_span: TrainingSpan | None,
        start_wall: float,
        start_perf: float,
    ) -> None:
        self.name = name
        self.ref = ref
        # The nearest exported span at or above this one: the parent of spans started under it.
        self.anchor = anchor
        # Telemetron's current span when it started, restored when it stops.
        self.outer = outer
        self.parent_span = parent_span
        self.start_wall = start_wall
        self.start_perf = start_perf
        self.active = True

    @property
    def name_str(self) -> str:
        """The span's name."""
        return self.name

    def add_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Adds attributes to the running span (exported with its stop)."""
        if self.ref is not None:
            _runtime().update_span(self.ref, dict(attributes))

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"TrainingSpan({self.name!r}, {state}, ref={self.ref!r})"


def timestamp(time_msec: float | None) -> tuple[float, float]:
    """(wall seconds, perf-counter seconds) now, or for an explicit time in ms since the epoch.

    An explicit time must be within 10 hours of now (OneLogger's docstring; its code checks 10
    minutes): it catches seconds or microseconds passed as milliseconds.
    """
    if time_msec is None:
        perf = _perf()
        return perf - PERF_MINUS_WALL, perf
    wall = time_msec / 1000.0
    if not abs(wall - _time()) <= 36000.0:  # also refuses NaN
        raise TrainingTelemetryError(
            f"time {time_msec!r} ms is not within 10 hours of now; "
            "pass milliseconds since the Unix epoch"
        )
    return wall, wall + PERF_MINUS_WALL


def msec(wall: float) -> int:
    """OneLogger's ``timestamp_msec``: whole milliseconds, truncated."""
    return int(wall * 1000)


class SpanRecorder:
    """Starts and stops spans, keeps parentage per context, and filters by name. Thread-safe."""

    def __init__(
        self, mode: ExportCustomizationMode, span_name_filter: Iterable[str | Enum] | None
    ) -> None:
        self._lock = _thread.RLock()
        self._latest: ContextVar[TrainingSpan | None] = ContextVar(
            "telemetron_training_span", default=None
        )
        self._open: dict[TrainingSpan, None] = {}
        self._by_name: dict[str, TrainingSpan] = {}
        self._closed = False
        names = frozenset(name_str(n) for n in span_name_filter or ())
        if mode is ExportCustomizationMode.EXPORT_ALL_SPANS:
            self._exported, self._filter = True, frozenset[str]()
        elif mode in (
            ExportCustomizationMode.WHITELIST_SPANS,
            ExportCustomizationMode.BLACKLIST_SPANS,
        ):
            if not names:
                raise TrainingTelemetryError(f"{mode.name} needs a non-empty span_name_filter")
            self._exported, self._filter = mode is ExportCustomizationMode.BLACKLIST_SPANS, names
        else:
            raise TrainingTelemetryError(f"invalid export customization mode {mode!r}")

    def should_export(self, name: str) -> bool:
        """Whether spans of this name (and their events) are recorded."""
        return (name in self._filter) is not self._exported

    def get_active_spans_by_name(self, name: str | Enum) -> list[TrainingSpan]:
        """Every running span with this name."""
        text = name_str(name)
        with self._lock:
            return [s for s in self._open if s.name == text]

    def active_span(self, name: str) -> TrainingSpan:
        """The one running span of a standard name."""
        span = self._by_name.get(name)
        if span is None:
            raise TrainingTelemetryError(
                f"Expected to have one and only one span named {name} but found 0."
            )
        return span

    def _parent(self, span: TrainingSpan | None) -> TrainingSpan | None:
        """The nearest running span from this context's latest, else the thread fallback."""
        while span is not None and not span.active:
            span = span.parent_span
        if span is None:
            by_name = self._by_name
            for name in _THREAD_PARENTS:
                span = by_name.get(name)
                if span is not None:
                    break
        return span

    def start_at(
        self,
        name: str,
        wall: float,
        perf: float,
        span_attributes: Attrs = None,
        start_event_attributes: Attrs = None,
        parent_span: TrainingSpan | None = None,
    ) -> TrainingSpan:
        """Starts a span at (wall, perf); the caller holds the lock."""
        if self._closed:
            raise TrainingTelemetryError("Recorder is already closed.")
        standard = name in STANDARD_SPAN_NAMES
        if standard and name in self._by_name:
            raise TrainingTelemetryError(
                f"Cannot start span {name} while 1 span(s) with the same name is already active."
                " Please ensure the callback is called correctly."
            )
        parent = parent_span
        if parent is None:
            parent = self._latest.get()
            if parent is None or not parent.active:
                parent = self._parent(parent)
        outer = _CURRENT.get()
        above = parent.anchor if parent is not None else outer
        if (name in self._filter) is not self._exported:
            start_attrs = {"timestamp_msec": msec(wall)}
            if start_event_attributes:
                start_attrs.update(start_event_attributes)
            ref: SpanRef | None = _runtime().start_span(
                name, above, span_attributes, start_attrs, wall
            )
            anchor = ref
        else:
            ref, anchor = None, above
        span = TrainingSpan(name, ref, anchor, outer, parent, wall, perf)
        self._open[span] = None
        if standard:
            self._by_name[name] = span
        self._latest.set(span)
        if anchor is not outer:
            _CURRENT.set(anchor)
        return span

    def start_reused(self, span: TrainingSpan, wall: float, perf: float) -> TrainingSpan:
        """Starts ``span`` again: the one object of a standard name that is not exported (the
        training iteration), on the hot path. Nothing is recorded and no object is made; it is
        not this context's latest span, so a span started inside it is parented to its parent:
        the same nearest recorded ancestor. The caller holds the lock."""
        if self._closed:
            raise TrainingTelemetryError("Recorder is already closed.")
        name = span.name
        if span.active or name in self._by_name:
            raise TrainingTelemetryError(
                f"Cannot start span {name} while 1 span(s) with the same name is already active."
                " Please ensure the callback is called correctly."
            )
        parent = self._latest.get()
        if parent is None or not parent.active:
            parent = self._parent(parent)
        span.parent_span = parent
        span.anchor = span.outer = parent.anchor if parent is not None else _CURRENT.get()
        span.start_wall = wall
        span.start_perf = perf
        span.active = True
        self._open[span] = None
        self._by_name[name] = span
        return span

    def stop_at(
        self,
        span: TrainingSpan,
        wall: float,
        perf: float,
        stop_event_attributes: Attrs = None,
    ) -> None:
        """Stops a span at (wall, perf), adding ``duration_msec``; the caller holds the lock."""
        if span is None or not span.active:
            raise TrainingTelemetryError(f"Span {span!r} is not active")
        span.active = False
        del self._open[span]
        if self._by_name.get(span.name) is span:
            del self._by_name[span.name]
        ref = span.ref
        if ref is not None:
            stop_attrs = {"timestamp_msec": msec(wall)}
            if stop_event_attributes:
                stop_attrs.update(stop_event_attributes)
            duration = {"duration_msec": int((perf - span.start_perf) * 1000)}
            _runtime().stop_span(ref, stop_attrs, False, duration, wall)
        if self._latest.get() is span:
            parent = span.parent_span
            while parent is not None and not parent.active:
                parent = parent.parent_span
            self._latest.set(parent)
            if _CURRENT.get() is not span.outer:
                _CURRENT.set(span.outer)

    def event_at(
        self, span: TrainingSpan, name: str | Enum, attributes: Attrs, wall: float
    ) -> None:
        """Records an event on a running span (nothing when the span is not exported)."""
        if span is None or not span.active:
            raise TrainingTelemetryError("Cannot add an event to a span that is not running.")
        if span.ref is not None:
            attrs = dict(attributes) if attributes else {}
            attrs["timestamp_msec"] = msec(wall)
            _runtime().event(span.ref, name_str(name), attrs, wall)

    def error_at(
        self,
        span: TrainingSpan,
        message: str,
        exception: BaseException | None,
        wall: float,
    ) -> None:
        """Records an application error on a running span."""
        if span is None or not span.active:
            raise TrainingTelemetryError("Cannot add an event to a span that is not running.")
        if span.ref is None:
            return
        if exception is None:
            _runtime().error(span.ref, message, None, None, None, wall)
            return
        import traceback

        tb = "".join(
            traceback.format_exception(type(exception), exception, exception.__traceback__)
        )
        _runtime().error(span.ref, message, type(exception).__name__, str(exception), tb, wall)

    def open_spans(self) -> list[TrainingSpan]:
        """Running spans, oldest first."""
        return list(self._open)
