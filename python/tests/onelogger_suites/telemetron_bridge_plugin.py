"""pytest plugin: NVIDIA's own OneLogger test suites with Telemetron behind their mock exporter.

Their conftests build ``MagicMock(spec=Exporter)``. Loaded with ``-p telemetron_bridge_plugin``
(before their conftests import ``MagicMock``), this plugin makes every such mock
``MagicMock(spec=Exporter, wraps=TelemetronExporter())``: each call their tests assert on also
runs the bridge into a real Telemetron runtime (a file exporter under
``$TELEMETRON_SUITE_OUT``). At the end it reports how many calls reached Telemetron and what the
runtime recorded; a bridge exception would surface as OneLogger exporter failures (extra
``export_telemetry_data_error`` calls) and fail their call-sequence assertions.
"""

from __future__ import annotations

import json
import os
import unittest.mock
from pathlib import Path
from typing import Any

import pytest
from nv_one_logger.exporter.exporter import Exporter  # type: ignore[import-untyped]

import telemetron
from telemetron.onelogger import TelemetronExporter

_MagicMock = unittest.mock.MagicMock
BRIDGES = 0


class BridgedMagicMock(_MagicMock):  # type: ignore[misc,valid-type]
    """``MagicMock(spec=Exporter)`` wrapping a ``TelemetronExporter``; any other mock as is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        global BRIDGES
        spec = kwargs.get("spec", args[0] if args else None)
        if spec is Exporter and kwargs.get("wraps") is None:
            kwargs["wraps"] = TelemetronExporter()
            BRIDGES += 1
        super().__init__(*args, **kwargs)


def _out() -> Path:
    return Path(os.environ.get("TELEMETRON_SUITE_OUT", "telemetron-suite.jsonl"))


def pytest_configure(config: pytest.Config) -> None:
    unittest.mock.MagicMock = BridgedMagicMock  # type: ignore[misc]
    telemetron.configure(exporters=[{"type": "file", "path": str(_out())}])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report = telemetron.shutdown() or {}
    runtime = report.get("metrics", {}).get("runtime", {})
    added = {kind: c["added"] for kind, c in runtime.items() if c["added"]}
    lines = sum(1 for _ in _out().open()) if _out().exists() else 0
    summary = {
        "bridged_mock_exporters": BRIDGES,
        "calls_into_telemetron": dict(sorted(TelemetronExporter.calls.items())),
        "records_added": added,
        "file_lines": lines,
        "undelivered": report.get("undelivered"),
    }
    terminalreporter.write_sep("=", "Telemetron bridge")
    terminalreporter.write_line(json.dumps(summary, indent=1))
