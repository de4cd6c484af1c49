"""``TelemetronExporter``: a OneLogger ``Exporter`` that records into Telemetron.

OneLogger (its recorder, its training callbacks) runs unchanged; this exporter forwards every
start, stop, event, error and telemetry data error to Telemetron's Recorder API with
OneLogger's own timestamps, so Telemetron's exporters (file, OTLP, Kafka, Metrana, ...) carry
the OneLogger stream. A OneLogger span maps to a Telemetron span: its parent is the nearest
ancestor this exporter was given (a span under a blacklisted one is parented to what the
backend saw), its initial attributes go on the start, its updated attributes (with
``duration_msec``) on the stop. Unknown spans (a stop or event after a re-``initialize``) are
tolerated: a stop of an unknown span records the whole span then. ``close`` flushes Telemetron's
exporters and leaves the runtime running; a missing ``close`` loses nothing (Telemetron closes
at exit).
"""

from __future__ import annotations

import _thread
from collections import Counter

from nv_one_logger.exporter.exporter import Exporter, ExportError  # type: ignore[import-untyped]
from overrides import override

from telemetron._native import TelemetronError, ValidationError
from telemetron._recorder import get_recorder
from telemetron.onelogger._convert import attributes, sanitized, seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TypeVar

    from telemetron._native import SpanRef

    R = TypeVar("R")


def _with_sanitized_attributes(
    call: Callable[[Callable[[dict[str, Any]], dict[str, Any]]], R],
) -> R:
    """Runs ``call`` with attributes as given; if Telemetron refuses a value OneLogger allows
    (NaN, a huge int, a mixed list), once more with such values as text."""
    try:
        return call(lambda values: values)
    except (ValidationError, TypeError, OverflowError):
        return call(sanitized)


class TelemetronExporter(Exporter):  # type: ignore[misc]
    """A OneLogger exporter recording into Telemetron.

    ``TrainingTelemetryProvider.instance().with_exporter(TelemetronExporter())``, or nothing at
    all with ``with_export_config()``: the ``nv_one_logger.exporter_configs`` entry point of
    the ``telemetron`` package adds it (add it one way, not both: each instance records).

    Without arguments it records into the process's Telemetron runtime (``telemetron.configure``,
    a Telemetron config file, or the default file exporter). ``exporters`` (Telemetron exporter
    entries) or ``config_file`` configure that runtime when OneLogger initializes this exporter,
    which is how a OneLogger exporter config file chooses Telemetron's backends.
    """

    #: Calls that reached Telemetron, by method, over every instance in the process.
    calls: Counter[str] = Counter()

    def __init__(
        self,
        exporters: Sequence[Mapping[str, Any]] | None = None,
        config_file: str | None = None,
        flush_timeout_secs: float = 10.0,
        **settings: Any,
    ) -> None:
        super().__init__()
        self._exporters = None if exporters is None else [dict(e) for e in exporters]
        self._config_file = config_file
        self._settings = settings
        self._flush_timeout = float(flush_timeout_secs)
        self._refs: dict[Any, SpanRef] = {}
        self._lock = _thread.allocate_lock()

    def _count(self, method: str) -> None:
        TelemetronExporter.calls[method] += 1

    @override
    def initialize(self) -> None:
        """Configures Telemetron when this exporter was given a configuration; calling it again
        (OneLogger re-initializing) keeps the spans already started."""
        self._count("initialize")
        if self._exporters is not None or self._config_file is not None or self._settings:
            import telemetron

            try:
                telemetron.configure(
                    exporters=self._exporters,
                    config_file=self._config_file,
                    reconfigure=True,
                    **self._settings,
                )
            except TelemetronError as exc:
                raise ExportError(f"cannot configure Telemetron: {exc}") from exc

    def _parent(self, span: Any) -> SpanRef | None:
        parent = getattr(span, "parent_span", None)
        while parent is not None:
            ref = self._refs.get(parent.id)
            if ref is not None:
                return ref
            parent = getattr(parent, "parent_span", None)
        return None

    def _ref(self, span: Any) -> SpanRef | None:
        """The span's Telemetron span, else its nearest known ancestor's."""
        if span is None:
            return None
        ref = self._refs.get(getattr(span, "id", None))
        return ref if ref is not None else self._parent(span)

    def _start(self, span: Any) -> SpanRef:
        start = span.start_event
        span_attrs = attributes(_initial(span))
        start_attrs = attributes(start.attributes)
        parent = self._parent(span)
        ref = _with_sanitized_attributes(
            lambda clean: get_recorder().start(
                span.name_str,
                clean(span_attrs),
                parent,
                clean(start_attrs),
                start_time=seconds(start.timestamp),
            )
        )
        with self._lock:
            self._refs[span.id] = ref
        return ref

    @override
    def export_start(self, span: Any) -> None:
        """A OneLogger span started."""
        self._count("export_start")
        self._start(span)

    @override
    def export_stop(self, span: Any) -> None:
        """A OneLogger span stopped: its updated attributes (``duration_msec``...) go with it."""
        self._count("export_stop")
        with self._lock:
            ref = self._refs.pop(span.id, None)
        if ref is None:  # never seen started (re-initialized, or a start that failed)
            ref = self._start(span)
            with self._lock:
                self._refs.pop(span.id, None)
        stop = span.stop_event
        stop_attrs = attributes(stop.attributes) if stop is not None else {}
        updated = attributes(span.updated_attributes)
        stop_time = seconds(stop.timestamp) if stop is not None else None
        _with_sanitized_attributes(
            lambda clean: get_recorder().stop(
                ref, clean(stop_attrs), span_attributes=clean(updated), stop_time=stop_time
            )
        )

    @override
    def export_event(self, event: Any, span: Any) -> None:
        """An event of a running span."""
        self._count("export_event")
        values = attributes(event.attributes)
        ref = self._ref(span)
        _with_sanitized_attributes(
            lambda clean: get_recorder().event(
                ref, event.name_str, clean(values), time=seconds(event.timestamp)
            )
        )

    @override
    def export_error(self, event: Any, span: Any) -> None:
        """An application error of a running span."""
        self._count("export_error")
        exception_type = getattr(event, "exception_type", None)
        exception_message = getattr(event, "exception_message", None)
        if exception_type and not exception_message:
            exception_message = ""
        get_recorder().error(
            self._ref(span),
            str(getattr(event, "error_message", "")),
            exception_type=exception_type,
            exception_message=exception_message,
            traceback=getattr(event, "exception_traceback", None),
            time=seconds(event.timestamp),
        )

    @override
    def export_telemetry_data_error(self, error: Any) -> None:
        """This run's telemetry is incomplete (or absent)."""
        self._count("export_telemetry_data_error")
        kind = getattr(getattr(error, "error_type", None), "value", None)
        get_recorder().telemetry_data_error(
            str(error.error_message),
            "no_telemetry_data" if kind == "no_telemetry_data" else "incomplete_telemetry_data",
        )

    @override
    def close(self) -> None:
        """Flushes Telemetron's exporters; the runtime keeps running (``telemetron.shutdown``
        or process exit closes it)."""
        self._count("close")
        import telemetron

        if telemetron.is_configured():
            try:
                telemetron.flush(self._flush_timeout)
            except TelemetronError as exc:
                raise ExportError(f"Telemetron flush failed: {exc}") from exc


def _initial(span: Any) -> Any:
    """A span's attributes as given at its start, without later updates. Read directly:
    ``Span.attributes`` fails for a span created with a plain dict (OneLogger merges with
    ``type(initial).merge``)."""
    initial = getattr(span, "_initial_attributes", None)
    return initial if initial is not None else span.attributes


class TelemetronExporterConfig:
    """The ``nv_one_logger.exporter_configs`` entry point: ``with_export_config()`` adds a
    ``TelemetronExporter`` recording into the process's Telemetron runtime."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """OneLogger's exporter config form."""
        return {
            "class_name": "telemetron.onelogger.TelemetronExporter",
            "config": {},
            "enabled": True,
        }
