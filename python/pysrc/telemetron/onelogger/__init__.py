"""NVIDIA OneLogger and Telemetron, both ways (``pip install 'telemetron[onelogger]'``).

- ``TelemetronExporter``: a OneLogger exporter; OneLogger runs unchanged and records into
  Telemetron (registered under OneLogger's ``nv_one_logger.exporter_configs`` entry point, so
  ``with_export_config()`` picks it up with no code change).
- ``{"type": "onelogger", "class": "pkg.module:TheirExporter", ...}``: an existing OneLogger
  exporter runs as a Telemetron exporter (``OneLoggerExporterAdapter``).

Needs ``nv-one-logger-core``; importing this module without it raises ``ImportError`` naming
the extra.
"""

try:
    import nv_one_logger.exporter.exporter  # type: ignore[import-untyped]  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "telemetron.onelogger needs nv-one-logger-core: pip install 'telemetron[onelogger]'"
    ) from exc

from telemetron.onelogger.adapter import OneLoggerExporterAdapter, adapter_for
from telemetron.onelogger.bridge import TelemetronExporter, TelemetronExporterConfig

__all__ = [
    "OneLoggerExporterAdapter",
    "TelemetronExporter",
    "TelemetronExporterConfig",
    "adapter_for",
]
