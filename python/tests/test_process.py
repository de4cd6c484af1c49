"""Process-level behaviour: fork safety, atexit, import cost."""

from __future__ import annotations

import os

import telemetron
from conftest import read_records, run_python


def test_fork_child_gets_its_own_runtime_and_parent_is_untouched(tmp_path):
    parent_out = tmp_path / "parent.jsonl"
    child_out = tmp_path / "child.jsonl"
    telemetron.configure(exporters=[{"type": "file", "path": str(parent_out)}])
    with telemetron.timed_span("before-fork"):
        pass
    pid = os.fork()
    if pid == 0:  # the child: a fresh runtime on first use
        code = 1
        try:
            telemetron.configure(exporters=[{"type": "file", "path": str(child_out)}])
            with telemetron.timed_span("in-child"):
                pass
            report = telemetron.shutdown(timeout=5)
            code = 0 if report is not None and report["undelivered"] == [] else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with telemetron.timed_span("after-fork"):
        pass
    telemetron.shutdown()
    parent_names = [r["name"] for r in read_records(parent_out) if r["kind"] == "span_stop"]
    assert parent_names == ["before-fork", "after-fork"]
    child_names = [r["name"] for r in read_records(child_out) if r["kind"] == "span_stop"]
    assert child_names == ["in-child"]


def test_import_does_not_import_numpy(tmp_path):
    result = run_python("import sys, telemetron; print('numpy' in sys.modules)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_forgotten_shutdown_is_closed_at_exit(tmp_path):
    code = """
        import telemetron
        telemetron.configure(exporters=[{"type": "file", "path": "out.jsonl"}])
        for i in range(1000):
            telemetron.get_recorder().event(None, "e", {"i": i})
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    events = [r for r in read_records(tmp_path / "out.jsonl") if r["kind"] == "event"]
    assert len(events) == 1000, "atexit flushed everything"


def test_a_forked_child_exiting_normally_does_not_wait_on_the_parents_runtime(tmp_path):
    # With close_timeout_secs=600, closing the inherited runtime in the child would hang far
    # past the subprocess timeout; the fork hook must make the child leave it alone.
    code = """
        import os, sys
        import telemetron
        telemetron.configure(exporters=[{"type": "file", "path": "parent.jsonl"}],
                             close_timeout_secs=600)
        with telemetron.timed_span("parent-span"):
            pass
        pid = os.fork()
        if pid == 0:
            with telemetron.timed_span("child-span"):  # a fresh default runtime in the child
                pass
            sys.exit(0)  # atexit + interpreter teardown, not os._exit
        _, status = os.waitpid(pid, 0)
        telemetron.shutdown()
        print(os.waitstatus_to_exitcode(status))
    """
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
    parent = [
        r["name"] for r in read_records(tmp_path / "parent.jsonl") if r["kind"] == "span_stop"
    ]
    assert parent == ["parent-span"]


def test_config_show_prints_sources_and_errors_name_the_file(tmp_path):
    (tmp_path / "telemetron.yaml").write_text(
        "project: cli\nexporters:\n  - {type: file, path: x.jsonl}\n"
    )
    shown = subprocess_run(["config", "show"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert 'project = "cli"  (file ./telemetron.yaml)' in shown.stdout
    assert "exporters:  (file ./telemetron.yaml)" in shown.stdout
    (tmp_path / "bad.yaml").write_text("exporters: [\n")
    bad = subprocess_run(["config", "show", "--file", "bad.yaml"], tmp_path)
    assert bad.returncode == 2
    assert "bad.yaml:" in bad.stderr
    listed = subprocess_run(["exporters"], tmp_path)
    assert "file" in listed.stdout and "python" in listed.stdout


def subprocess_run(args, cwd):
    import subprocess
    import sys

    command = [sys.executable, "-m", "telemetron", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)
