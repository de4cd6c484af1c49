"""Telemetron: an actor-based, multi-signal telemetry runtime for ML and RL jobs.

Record spans, events and errors for the price of a copy and an enqueue; a supervised Rust
actor system batches them and fans them out to every configured exporter.

    import telemetron
    telemetron.configure(exporters=[{"type": "file", "path": "out/run.jsonl"}])
    with telemetron.timed_span("train_epoch", span_attributes={"epoch": 1}):
        ...
    report = telemetron.shutdown()
"""

import sys as _sys

# The wheel is built for CPython's stable ABI (abi3), which a free-threaded CPython cannot load
# (it would fail below as a bare "No module named 'telemetron._native'").
if "t" in getattr(_sys, "abiflags", ""):
    raise ImportError(
        "telemetron's native module is built for CPython's stable ABI (abi3), which this "
        f"free-threaded CPython {_sys.version.split()[0]} cannot load; use a standard "
        "(GIL) CPython 3.10 or newer"
    )

from telemetron._attributes import (
    add_tags,
    log_attributes,
    log_config,
    log_env_attributes,
    remove_tags,
    set_description,
    set_tags,
)
from telemetron._distributions import Histogram, log_histogram, log_scatter, log_scatter3d
from telemetron._exporter import Exporter
from telemetron._logs import Logger, get_logger
from telemetron._metrics import get_last_step, log, log_distributed
from telemetron._native import (
    ConfigError,
    EnqueueError,
    ExporterError,
    QueueFullError,
    ShutdownError,
    SpanRef,
    TelemetronError,
    TelemetronWarning,
    ValidationError,
)
from telemetron._propagation import ExtractedContext, extract, inject
from telemetron._recorder import Recorder, get_recorder
from telemetron._rendering import log_rendering, rendering_metrics
from telemetron._rl import (
    get_env_last_rl_step_and_episode,
    log_rl_environment_step,
    log_rl_episode,
)
from telemetron._runtime import (
    configure,
    describe_config,
    exporter_health,
    flush,
    is_configured,
    logger_id,
    metrics,
    orchestration_id,
    run_name,
    shutdown,
)
from telemetron._spans import current_span, timed_span
from telemetron._spool import is_offline, replay_spool, spool_status

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # `telemetron.logging` imports the standard `logging` (milliseconds): only when asked for.
    if name == "logging":
        import importlib

        return importlib.import_module("telemetron.logging")
    raise AttributeError(f"module 'telemetron' has no attribute {name!r}")


__all__ = [
    "add_tags",
    "log_attributes",
    "log_config",
    "log_env_attributes",
    "remove_tags",
    "set_description",
    "set_tags",
    "ConfigError",
    "EnqueueError",
    "Exporter",
    "ExporterError",
    "ExtractedContext",
    "Histogram",
    "Logger",
    "QueueFullError",
    "Recorder",
    "ShutdownError",
    "SpanRef",
    "TelemetronError",
    "TelemetronWarning",
    "ValidationError",
    "configure",
    "current_span",
    "describe_config",
    "exporter_health",
    "extract",
    "flush",
    "get_env_last_rl_step_and_episode",
    "get_last_step",
    "get_logger",
    "get_recorder",
    "inject",
    "is_configured",
    "is_offline",
    "log",
    "log_distributed",
    "log_histogram",
    "log_rendering",
    "log_rl_environment_step",
    "log_rl_episode",
    "log_scatter",
    "log_scatter3d",
    "logger_id",
    "metrics",
    "orchestration_id",
    "rendering_metrics",
    "replay_spool",
    "run_name",
    "shutdown",
    "spool_status",
    "timed_span",
]
