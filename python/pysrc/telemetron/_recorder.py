"""The Recorder API that training-telemetry libraries build on."""

from __future__ import annotations

from telemetron._runtime import exporter_health, get_runtime, metrics
from telemetron._spans import _CURRENT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal

    from telemetron._native import SpanRef

    Attrs = Mapping[str, Any] | None
    DataErrorKind = Literal["no_telemetry_data", "incomplete_telemetry_data"]


class Recorder:
    """OneLogger-style recorder over the process-wide runtime.

    ``start`` does not change the current span of ``timed_span``; pass ``parent=`` explicitly
    or rely on the default, the current span.

    Times (``start_time``, ``stop_time``, ``time``) are optional, in seconds since the Unix
    epoch as ``time.time()`` gives them (default: now): for spans measured elsewhere or
    bridged from another library. A span's duration is its stop time minus its start time.
    """

    def start(
        self,
        name: str,
        attributes: Attrs = None,
        parent: SpanRef | None = None,
        start_event_attributes: Attrs = None,
        *,
        start_time: float | None = None,
    ) -> SpanRef:
        """Start a span under ``parent`` (default: the current span) and return it."""
        parent = parent if parent is not None else _CURRENT.get()
        return get_runtime().start_span(
            name, parent, attributes, start_event_attributes, start_time
        )

    def stop(
        self,
        span: SpanRef,
        attributes: Attrs = None,
        *,
        cancelled: bool = False,
        span_attributes: Attrs = None,
        stop_time: float | None = None,
    ) -> None:
        """Stop ``span``; ``attributes`` go on its stop event, ``span_attributes`` are added to
        the span itself (after those of ``add_attributes``; a later value of a key wins)."""
        get_runtime().stop_span(span, attributes, cancelled, span_attributes, stop_time)

    def add_attributes(self, span: SpanRef, attributes: Attrs) -> None:
        """Add attributes to a running span. Every exporter receives them with the span's stop
        (OTLP span attributes, the file exporter's ``span_attributes``, Python exporters'
        ``span_attributes``); a span that is no longer running is reported and ignored."""
        get_runtime().update_span(span, attributes or {})

    def event(
        self,
        span: SpanRef | None,
        name: str,
        attributes: Attrs = None,
        *,
        time: float | None = None,
    ) -> None:
        """Record an event in ``span`` (or outside any span with None)."""
        get_runtime().event(span, name, attributes, time)

    def error(
        self,
        span: SpanRef | None,
        message: str,
        exception: BaseException | None = None,
        *,
        exception_type: str | None = None,
        exception_message: str | None = None,
        traceback: str | None = None,
        time: float | None = None,
    ) -> None:
        """Record an application error; with ``exception``, its type, message and traceback.

        An error carried from elsewhere (another library's error event) passes its parts as
        ``exception_type`` / ``exception_message`` / ``traceback`` instead; a type needs a
        message (``ValidationError`` otherwise).
        """
        if exception is not None:
            exception_type = type(exception).__name__
            exception_message = str(exception)
            traceback = "".join(
                __import__("traceback").format_exception(
                    type(exception), exception, exception.__traceback__
                )
            )
        get_runtime().error(span, message, exception_type, exception_message, traceback, time)

    def telemetry_data_error(
        self, message: str, kind: DataErrorKind = "incomplete_telemetry_data"
    ) -> None:
        """Tell every exporter not yet told that its telemetry can no longer be trusted."""
        get_runtime().telemetry_data_error(kind, message)

    def current_span(self) -> SpanRef | None:
        """The current span of this thread or asyncio task."""
        return _CURRENT.get()

    def metrics(self) -> dict[str, Any]:
        """Self-metrics of the runtime."""
        return metrics()

    def exporter_health(self) -> list[dict[str, Any]]:
        """Health of every exporter."""
        return exporter_health()


_RECORDER = Recorder()


def get_recorder() -> Recorder:
    """The recorder of the process-wide runtime."""
    return _RECORDER
