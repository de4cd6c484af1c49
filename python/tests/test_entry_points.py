"""Installed packages contribute exporter configs and exporter classes through entry points."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import read_records, run_python

PLUGIN = "telemetron_test_plugin"


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin")
    out = root / "from-entry-point.jsonl"
    pkg = root / PLUGIN
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            f"""
            import telemetron

            SEEN = []

            def default_config():
                return {{"exporters": [{{"type": "file", "path": {str(out)!r}}},
                                      {{"type": "python", "class": "collector"}}],
                        "project": "from-plugin"}}

            class Collector(telemetron.Exporter):
                def export_event(self, event):
                    SEEN.append(event["name"])
                    with open({str(root / "collected.txt")!r}, "a") as f:
                        f.write(event["name"] + "\\n")
            """
        )
    )
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "{PLUGIN.replace("_", "-")}"
            version = "0.0.1"
            [project.entry-points."telemetron.exporter_configs"]
            test = "{PLUGIN}:default_config"
            [project.entry-points."telemetron.exporters"]
            collector = "{PLUGIN}:Collector"
            [tool.setuptools]
            packages = ["{PLUGIN}"]
            """
        )
    )
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-build-isolation",
        "--no-deps",
        str(root),
    ]
    subprocess.run(pip, check=True, timeout=300)
    yield root
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "-q", "-y", PLUGIN.replace("_", "-")],
        check=False,
    )


def test_entry_point_config_is_the_lowest_layer_and_classes_resolve(installed_plugin: Path):
    code = """
        import telemetron
        telemetron.get_recorder().event(None, "hello-plugin")
        print(telemetron.describe_config())
        telemetron.shutdown()
    """
    result = run_python(code, installed_plugin)
    assert result.returncode == 0, result.stderr
    assert "exporters:  (registry entry point test)" in result.stdout
    assert 'project = "from-plugin"  (registry entry point test)' in result.stdout
    events = [
        r["name"]
        for r in read_records(installed_plugin / "from-entry-point.jsonl")
        if r["kind"] == "event"
    ]
    assert events == ["hello-plugin"]
    assert (installed_plugin / "collected.txt").read_text().split() == ["hello-plugin"]


def test_code_layer_replaces_entry_point_exporters(installed_plugin: Path, tmp_path: Path):
    target = str(tmp_path / "code.jsonl")
    code = f"""
        import telemetron
        telemetron.configure(exporters=[{{"type": "file", "path": {target!r}}}])
        telemetron.get_recorder().event(None, "from-code")
        telemetron.shutdown()
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["name"] for r in read_records(tmp_path / "code.jsonl") if r["kind"] == "event"] == [
        "from-code"
    ]
