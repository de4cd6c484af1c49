"""``get_logger``: log records with attributes and the current span's context."""

from __future__ import annotations

from telemetron import _runtime as _runtime_module
from telemetron._runtime import get_runtime
from telemetron._spans import _CURRENT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Attrs = Mapping[str, Any] | None

# Python `logging` levels; TRACE (5) maps to OpenTelemetry's TRACE severity.
TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL = 5, 10, 20, 30, 40, 50

_loggers: dict[str, Logger] = {}


class Logger:
    """Emits log records named after ``name`` (the instrumentation scope). Each record carries
    the current ``timed_span``'s trace and span ids; levels map to OpenTelemetry severities
    (DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def log(self, level: int, message: str, attributes: Attrs = None) -> None:
        """A record at a ``logging`` level (``10`` DEBUG ... ``50`` CRITICAL)."""
        runtime = _runtime_module._runtime or get_runtime()
        runtime.log(level, message, self.name, _CURRENT.get(), attributes)

    def trace(self, message: str, attributes: Attrs = None) -> None:
        self.log(TRACE, message, attributes)

    def debug(self, message: str, attributes: Attrs = None) -> None:
        self.log(DEBUG, message, attributes)

    def info(self, message: str, attributes: Attrs = None) -> None:
        self.log(INFO, message, attributes)

    def warning(self, message: str, attributes: Attrs = None) -> None:
        self.log(WARNING, message, attributes)

    warn = warning

    def error(self, message: str, attributes: Attrs = None) -> None:
        self.log(ERROR, message, attributes)

    def critical(self, message: str, attributes: Attrs = None) -> None:
        self.log(CRITICAL, message, attributes)

    fatal = critical

    def __repr__(self) -> str:
        return f"telemetron.Logger({self.name!r})"


def get_logger(name: str) -> Logger:
    """The logger called ``name`` (one instance per name)."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers.setdefault(name, Logger(name))
    return logger
