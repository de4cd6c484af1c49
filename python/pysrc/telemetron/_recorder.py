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
    """

    def start(
        self,
        name: str,
        attributes: Attrs = None,
        parent: SpanRef | None = None,
        start_event_attributes: Attrs = None,
    ) -> SpanRef:
        """Start a span under ``parent`` (default: the current span) and return it."""
        parent = parent if parent is not None else _CURRENT.get()
        return get_runtime().start_span(name, parent, attributes, start_event_attributes)

    def stop(self, span: SpanRef, attributes: Attrs = None, *, cancelled: bool = False) -> None:
        """Stop ``span``; ``attributes`` go on its stop event."""
        get_runtime().stop_span(span, attributes, cancelled)

    def event(self, span: SpanRef | None, name: str, attributes: Attrs = None) -> None:
        """Record an event in ``span`` (or outside any span with None)."""
        get_runtime().event(span, name, attributes)

    def error(
        self, span: SpanRef | None, message: str, exception: BaseException | None = None
    ) -> None:
        """Record an application error; with ``exception``, its type, message and traceback."""
        if exception is None:
            get_runtime().error(span, message)
            return
        tb = "".join(
            __import__("traceback").format_exception(
                type(exception), exception, exception.__traceback__
            )
        )
        get_runtime().error(span, message, type(exception).__name__, str(exception), tb)

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
