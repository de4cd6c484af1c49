"""W3C Trace Context: inject a span into a carrier, extract it in another process, and the
worker's spans and logs join the launcher's trace."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import telemetron
from conftest import read_records
from telemetron import timed_span

Records = Callable[[], list[dict[str, Any]]]


def test_inject_writes_the_current_span_and_extract_reads_it_back(out: Path) -> None:
    assert telemetron.inject({}) == {}
    with timed_span("launch") as span:
        carrier = telemetron.inject({})
    assert carrier == {"traceparent": f"00-{span.trace_id}-{span.span_id}-01"}
    extracted = telemetron.extract({"TraceParent": carrier["traceparent"]})
    assert extracted.span == span


def test_an_extracted_context_parents_spans_and_logs_and_keeps_tracestate(
    records: Records,
) -> None:
    remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with telemetron.extract({"traceparent": remote, "tracestate": "vendor=abc"}) as parent:
        assert parent is not None and telemetron.current_span() == parent
        with timed_span("worker"):
            telemetron.get_logger("w").info("inside")
            forwarded = telemetron.inject({})
    assert telemetron.current_span() is None
    assert forwarded["tracestate"] == "vendor=abc"
    assert forwarded["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    got = records()
    start = next(r for r in got if r["kind"] == "span_start")
    assert start["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert start["parent_span_id"] == "00f067aa0ba902b7"
    log = next(r for r in got if r["kind"] == "log")
    assert (log["trace_id"], log["span_id"]) == (start["trace_id"], start["span_id"])


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    ],
)
def test_invalid_traceparents_are_ignored_or_raise_when_strict(value: str) -> None:
    extracted = telemetron.extract({"traceparent": value, "tracestate": "a=b"})
    assert (extracted.span, extracted.tracestate) == (None, None)
    with extracted as parent:
        assert parent is None and telemetron.current_span() is None
    with pytest.raises(telemetron.ValidationError, match="invalid traceparent"):
        telemetron.extract({"traceparent": value}, strict=True)


def test_a_worker_process_joins_the_launchers_trace(tmp_path: Path) -> None:
    launcher_out, worker_out = tmp_path / "launcher.jsonl", tmp_path / "worker.jsonl"
    telemetron.configure(exporters=[{"type": "file", "path": str(launcher_out)}])
    worker = textwrap.dedent(
        f"""
        import os, telemetron
        telemetron.configure(exporters=[{{"type": "file", "path": {str(worker_out)!r}}}])
        with telemetron.extract(os.environ):
            with telemetron.timed_span("worker_step"):
                pass
        telemetron.shutdown()
        """
    )
    with timed_span("launch") as launch:
        env = telemetron.inject(dict(os.environ))
        done = subprocess.run(
            [sys.executable, "-c", worker], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    telemetron.shutdown()
    step = next(r for r in read_records(worker_out) if r["kind"] == "span_start")
    assert (step["trace_id"], step["parent_span_id"]) == (launch.trace_id, launch.span_id)
    assert any(
        r["kind"] == "span_stop" and r["name"] == "worker_step" for r in read_records(worker_out)
    )
