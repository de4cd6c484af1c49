"""``type: onelogger``: an existing OneLogger ``Exporter`` running under Telemetron's runtime.

    telemetron.configure(exporters=[
        {"type": "onelogger", "class": "nv_one_logger.exporter.file_exporter:FileExporter",
         "file_path": "out/onelogger.jsonl"},
    ])

The exporter (a team's W&B or in-house exporter, OneLogger's own file or OTel exporters) gets
OneLogger's ``Span`` / ``Event`` / ``ErrorEvent`` / ``TelemetryDataError`` objects built from
Telemetron's records, on Telemetron's exporter thread, with its batching, retries, health and
auto-disable. Span parents are the OneLogger spans built for the parent records; times are
Telemetron's (durations from its monotonic clock). Records OneLogger has no form for are not
passed on: metrics, logs and renderings (never handed to this exporter), events and errors
outside any span (``skipped`` counts them). ``class`` is ``"pkg.module:Class"`` or
OneLogger's dotted ``"pkg.module.Class"``; the other options are the class's keyword arguments
(``file_path`` becomes a ``Path``, as in OneLogger's config files).
"""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

from nv_one_logger.core.attributes import Attributes  # type: ignore[import-untyped]
from nv_one_logger.core.event import (  # type: ignore[import-untyped]
    ErrorEvent,
    Event,
    StandardEventName,
    TelemetryDataError,
)
from nv_one_logger.core.span import Span  # type: ignore[import-untyped]
from nv_one_logger.core.time import TracingTimestamp  # type: ignore[import-untyped]
from nv_one_logger.exporter.exporter import Exporter as OneLoggerExporter  # type: ignore[import-untyped]

from telemetron._exporter import Exporter
from telemetron.onelogger._convert import sanitized

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def resolve_exporter_class(path: str) -> type:
    """The OneLogger exporter class named ``pkg.module:Class`` or ``pkg.module.Class``."""
    if not isinstance(path, str) or not path:
        raise TypeError('`class` must name a OneLogger exporter class as "pkg.module:Class"')
    if ":" in path:
        module_name, _, qualname = path.partition(":")
    else:
        module_name, _, qualname = path.rpartition(".")
    if not module_name or not qualname:
        raise ValueError(f'{path!r} is not "pkg.module:Class" or "pkg.module.Class"')
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, OneLoggerExporter)):
        raise TypeError(f"{path!r} is not a subclass of nv_one_logger's Exporter")
    return obj


def adapter_for(path: str) -> type:
    """Checks ``path`` (at configuration time) and returns the adapter class to run it."""
    resolve_exporter_class(path)
    return OneLoggerExporterAdapter


def _timestamp(time_ns: int) -> Any:
    secs = time_ns / 1e9
    # Durations are Telemetron's (one monotonic clock behind its wall times): use the wall
    # time as the perf counter too.
    return TracingTimestamp.for_timestamp(secs, perf_counter=secs or 1e-9, validate_timestamp=False)


def _uuid(record: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(hex=record["trace_id"][:16] + record["span_id"])


def _attrs(values: dict[str, Any] | None) -> Any:
    return Attributes(sanitized(values) if values else None)


class OneLoggerExporterAdapter(Exporter):
    """Telemetron records → OneLogger objects → the wrapped OneLogger exporter."""

    def __init__(self, exporter_class: str, **kwargs: Any) -> None:
        cls = resolve_exporter_class(exporter_class)
        if isinstance(kwargs.get("file_path"), str):
            kwargs["file_path"] = Path(kwargs["file_path"])
        self.exporter: Any = cls(**kwargs)
        self._spans: dict[str, Any] = {}
        self.skipped = 0

    def initialize(self, context: dict[str, Any]) -> None:
        self.exporter.initialize()

    def export_start(self, span: dict[str, Any]) -> None:
        start = Event(
            StandardEventName.SPAN_START,
            _timestamp(span["time_ns"]),
            _attrs(span["start_event_attributes"]),
        )
        one = Span(
            id=_uuid(span),
            name=span["name"],
            start_event=start,
            parent_span=self._spans.get(span["parent_span_id"] or ""),
            span_attributes=_attrs(span["attributes"]),
        )
        self._spans[span["span_id"]] = one
        self.exporter.export_start(one)

    def export_stop(self, span: dict[str, Any]) -> None:
        one = self._spans.pop(span["span_id"], None)
        if one is None:  # started before this exporter (a restart): rebuilt from the stop
            start = Event(StandardEventName.SPAN_START, _timestamp(span["start_time_ns"]), None)
            one = Span(
                id=_uuid(span),
                name=span["name"],
                start_event=start,
                parent_span=self._spans.get(span["parent_span_id"] or ""),
            )
        one.add_attributes(_attrs(span.get("span_attributes")))
        one.stop(_attrs(span["attributes"]), _timestamp(span["time_ns"]))
        self.exporter.export_stop(one)

    def export_event(self, event: dict[str, Any]) -> None:
        one = self._spans.get(event["span_id"] or "")
        if one is None:
            self.skipped += 1
            return
        ev = Event(event["name"], _timestamp(event["time_ns"]), _attrs(event["attributes"]))
        one.add_event(ev)
        self.exporter.export_event(ev, one)

    def export_error(self, error: dict[str, Any]) -> None:
        one = self._spans.get(error["span_id"] or "")
        if one is None:
            self.skipped += 1
            return
        ev = ErrorEvent(
            timestamp=_timestamp(error["time_ns"]),
            error_message=error["message"],
            exception_type=error["exception_type"],
            exception_message=error["exception_message"],
            exception_traceback=error["traceback"],
        )
        one.add_event(ev)
        self.exporter.export_error(ev, one)

    def export_telemetry_data_error(self, error: dict[str, Any]) -> None:
        data_error = TelemetryDataError(
            _timestamp(error["time_ns"]),
            TelemetryDataError.ErrorType(error["error_type"]),
            error["message"],
        )
        self.exporter.export_telemetry_data_error(data_error)

    def close(self) -> None:
        self.exporter.close()
