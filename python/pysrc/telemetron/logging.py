"""``TelemetronHandler``: a standard ``logging.Handler`` that forwards records to Telemetron.

    import logging
    from telemetron.logging import TelemetronHandler
    logging.getLogger().addHandler(TelemetronHandler())

Each record becomes a log record with the logger's name, the message, the level as an
OpenTelemetry severity, the current ``timed_span``'s ids, ``code.*`` / ``thread.*`` /
``process.pid`` attributes, ``exception.type`` / ``exception.message`` /
``exception.stacktrace`` when it carries exception info, and the record's ``extra=`` fields
(primitive values as they are, anything else as its ``str``). The handler never raises: a
failure goes to ``logging.Handler.handleError``.
"""

from __future__ import annotations

import logging

from telemetron import _runtime as _runtime_module
from telemetron._runtime import get_runtime
from telemetron._spans import _CURRENT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TelemetronHandler"]

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_PRIMITIVE = (bool, int, float, str)


def _attribute(value: Any) -> Any:
    if isinstance(value, _PRIMITIVE):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return str(value)


class TelemetronHandler(logging.Handler):
    """Forwards ``logging`` records to the process-wide Telemetron runtime."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            attributes: dict[str, Any] = {
                "code.filepath": record.pathname,
                "code.function": record.funcName,
                "code.lineno": record.lineno,
                "thread.name": record.threadName,
            }
            if record.thread is not None:
                attributes["thread.id"] = record.thread
            if record.process is not None:
                attributes["process.pid"] = record.process
            if record.exc_info and record.exc_info[0] is not None:
                exc_type, exc, _ = record.exc_info
                attributes["exception.type"] = exc_type.__qualname__
                attributes["exception.message"] = str(exc)
                attributes["exception.stacktrace"] = (
                    self.formatter.formatException(record.exc_info)
                    if self.formatter
                    else logging.Formatter().formatException(record.exc_info)
                )
            for key, value in record.__dict__.items():
                if key not in _STANDARD and not key.startswith("_"):
                    attributes[key] = _attribute(value)
            runtime = _runtime_module._runtime or get_runtime()
            runtime.log(
                record.levelno, record.getMessage(), record.name, _CURRENT.get(), attributes
            )
        except Exception:
            self.handleError(record)
