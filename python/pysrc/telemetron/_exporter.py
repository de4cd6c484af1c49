"""Base class for exporters written in Python."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Exporter:
    """Subclass and override what you need; configure with ``{"type": "python", "class":
    "pkg.module:ClassName", **kwargs}`` (kwargs go to ``__init__``).

    Every method is called on a runtime-owned thread that holds the GIL only for the call,
    never concurrently, in record order. Records are dicts with the file exporter's fields
    (``kind``, ``name``, ``trace_id``, ``span_id``, ``attributes``, ...). An exception counts as
    a failure in the exporter's health: the first sends it a telemetry data error, repeated ones
    disable it. ``close`` is called once, even on a disabled exporter.

    ``secret_options`` names the constructor options that are secrets (a DSN, a password):
    they are redacted in ``describe_config()``, ``config show``, reports and messages, as the
    built-in exporters' are (names that look secret are redacted anyway).
    """

    secret_options: tuple[str, ...] = ()

    def initialize(self, context: dict[str, Any]) -> None:
        """Called once before any export: ``name``, ``run_name``, ``restarts``."""

    def export_start(self, span: dict[str, Any]) -> None:
        """A span started."""

    def export_stop(self, span: dict[str, Any]) -> None:
        """A span stopped (with ``duration_ns`` and ``status``)."""

    def export_event(self, event: dict[str, Any]) -> None:
        """An event."""

    def export_error(self, error: dict[str, Any]) -> None:
        """An application error."""

    def export_telemetry_data_error(self, error: dict[str, Any]) -> None:
        """This exporter's (or every exporter's) telemetry can no longer be trusted."""

    def export_metric(self, points: dict[str, Any]) -> None:
        """Points of one series (``name``, ``scale``, ``labels``, ``steps``, ``values``, ...)."""

    def export_attributes(self, attributes: dict[str, Any]) -> None:
        """Run or environment attributes (``env_id``, ``episode``, ``updates``: [(path, value)])."""

    def export_log(self, log: dict[str, Any]) -> None:
        """A log record (``severity_number``, ``severity_text``, ``logger``, ``body``, ids)."""

    def export_rendering(self, rendering: dict[str, Any]) -> None:
        """A video of one environment's episode was finished (``path``, ``frames``, ...)."""

    def close(self) -> None:
        """Flush and release resources."""
