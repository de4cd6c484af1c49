"""Exporters written in Python: configured in code or YAML, health like any other."""

from __future__ import annotations

import json
from typing import Any

import telemetron
from conftest import read_records

SEEN: dict[str, list[dict[str, Any]]] = {}


class ListExporter(telemetron.Exporter):
    def __init__(self, key: str = "default") -> None:
        self.key = key
        self.closed = False

    def initialize(self, context: dict[str, Any]) -> None:
        SEEN[self.key] = [{"kind": "init", **context}]

    def export_start(self, span: dict[str, Any]) -> None:
        SEEN[self.key].append(span)

    def export_stop(self, span: dict[str, Any]) -> None:
        SEEN[self.key].append(span)

    def export_event(self, event: dict[str, Any]) -> None:
        SEEN[self.key].append(event)

    def close(self) -> None:
        SEEN[self.key].append({"kind": "closed"})


class RaisingExporter(telemetron.Exporter):
    def export_event(self, event: dict[str, Any]) -> None:
        raise RuntimeError("backend is down")

    def export_telemetry_data_error(self, error: dict[str, Any]) -> None:
        SEEN.setdefault("raising-tde", []).append(error)


def test_python_exporter_in_code_receives_records():
    telemetron.configure(
        exporters=[{"type": "python", "class": ListExporter, "key": "code"}], run_name="py-run"
    )
    with telemetron.timed_span("s"):
        telemetron.get_recorder().event(telemetron.current_span(), "e", {"x": 1})
    telemetron.shutdown()
    seen = SEEN["code"]
    assert seen[0] == {"kind": "init", "name": "python", "run_name": "py-run", "restarts": 0}
    assert [r["kind"] for r in seen[1:]] == ["span_start", "event", "span_stop", "closed"]
    assert seen[2]["attributes"] == {"x": 1}


def test_raising_exporter_is_disabled_while_file_keeps_everything(tmp_path):
    out = tmp_path / "run.jsonl"
    telemetron.configure(
        exporters=[
            {"type": "python", "class": RaisingExporter, "batch_max_size": 1},
            {"type": "file", "path": str(out)},
        ],
    )
    rec = telemetron.get_recorder()
    for i in range(20):
        rec.event(None, "e", {"i": i})
    try:
        telemetron.flush()
    except telemetron.ExporterError as exc:
        assert "disabled" in str(exc)
    health = {h["name"]: h for h in telemetron.exporter_health()}
    assert health["python"]["total_failures"] == 5
    assert "RuntimeError: backend is down" in health["python"]["disabled"]
    report = telemetron.shutdown()
    assert [r["attributes"]["i"] for r in read_records(out)] == list(range(20))
    assert (
        len(SEEN["raising-tde"]) == 1
        and SEEN["raising-tde"][0]["error_type"] == "no_telemetry_data"
    )
    assert any(u["exporter"] == "python" for u in report["undelivered"])


def test_yaml_type_python_exporter(tmp_path, monkeypatch):
    config = tmp_path / "telemetron.yaml"
    config.write_text(
        "run_name: yaml-run\nexporters:\n"
        "  - type: python\n    class: test_python_exporter:ListExporter\n    key: yaml\n"
    )
    monkeypatch.chdir(tmp_path)
    telemetron.configure()
    telemetron.get_recorder().event(None, "from-yaml")
    telemetron.shutdown()
    assert [r.get("name") for r in SEEN["yaml"] if r["kind"] == "event"] == ["from-yaml"]
    assert json.dumps(SEEN["yaml"][0]["run_name"]) == '"yaml-run"'


def test_unknown_python_class_is_a_config_error():
    import pytest

    with pytest.raises(telemetron.ConfigError, match="no_such_module"):
        telemetron.configure(exporters=[{"type": "python", "class": "no_such_module:Nope"}])
