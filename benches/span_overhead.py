"""Per-span cost of a timed block in Python, side by side in one run.

telemetron ``timed_span`` (file exporter on) against NVIDIA OneLogger's ``timed_span`` with its
FileExporter, the OpenTelemetry Python SDK (BatchSpanProcessor + OTLP gRPC exporter to a closed
local port) and pytracingx (OTLP trace sink to a closed local port). Also the cost of
``import telemetron``. Run with ``make bench-python`` (installs the competitors from PyPI and
builds the extension in release mode).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

CLOSED_PORT = "127.0.0.1:9"


def per_span_us(make_span: Callable[[], AbstractContextManager[object]], n: int) -> float:
    for _ in range(min(n, 2000)):  # warm up
        with make_span():
            pass
    began = time.perf_counter()
    for _ in range(n):
        with make_span():
            pass
    return (time.perf_counter() - began) / n * 1e6


def bench_telemetron(out: Path, n: int) -> float:
    import telemetron

    telemetron.configure(exporters=[{"type": "file", "path": str(out / "telemetron.jsonl")}])
    result = per_span_us(lambda: telemetron.timed_span("step"), n)
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report
    return result


def bench_onelogger(out: Path, n: int) -> float:
    from nv_one_logger.api.config import OneLoggerConfig
    from nv_one_logger.api.one_logger_provider import OneLoggerProvider
    from nv_one_logger.api.timed_span import timed_span
    from nv_one_logger.exporter.file_exporter import FileExporter
    from nv_one_logger.recorder.default_recorder import DefaultRecorder

    config = OneLoggerConfig(
        application_name="bench", world_size_or_fn=1, session_tag_or_fn="bench"
    )
    recorder = DefaultRecorder(exporters=[FileExporter(file_path=out / "onelogger.jsonl")])
    OneLoggerProvider.instance().configure(config, recorder)
    result = per_span_us(lambda: timed_span("step"), n)
    recorder.close()
    return result


def bench_otel_sdk(n: int) -> float:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=CLOSED_PORT, insecure=True, timeout=1)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    result = per_span_us(lambda: tracer.start_as_current_span("step"), n)
    provider.shutdown()
    return result


def bench_pytracingx(n: int) -> float:
    import pytracingx

    sink = pytracingx.TraceSink(endpoint=f"http://{CLOSED_PORT}", protocol="grpc")
    pytracingx.init(pytracingx.Config("bench", console_output=False, sinks=[sink]))
    result = per_span_us(lambda: pytracingx.start_span("step"), n)
    pytracingx.shutdown()
    return result


def import_cost() -> tuple[float, float]:
    """Milliseconds and MB of resident memory that ``import telemetron`` adds (best of 5).

    The package's bytecode is compiled first, as ``pip install`` does: where
    PYTHONDONTWRITEBYTECODE is set and nothing was compiled, every import recompiles the
    sources, which measures the compiler rather than the import (≈ 5 ms here).
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("telemetron")
    assert spec is not None and spec.submodule_search_locations is not None
    for location in spec.submodule_search_locations:
        compileall.compile_dir(location, quiet=1)
    code = (
        "import time, os\n"
        "page = os.sysconf('SC_PAGE_SIZE')\n"
        "def rss(): return int(open('/proc/self/statm').read().split()[1]) * page\n"
        "r0 = rss(); t0 = time.perf_counter()\n"
        "import telemetron\n"
        "print((time.perf_counter() - t0) * 1e3, (rss() - r0) / 1e6)\n"
    )
    runs = []
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        ms, mb = map(float, result.stdout.split())
        runs.append((ms, mb))
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main() -> None:
    n = int(os.environ.get("SPANS", "50000"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        os.chdir(out)  # OneLogger writes onelogger.log/.err into the working directory
        results = {
            "telemetron timed_span (file exporter)": bench_telemetron(out, 4 * n),
            "OneLogger timed_span (FileExporter)": bench_onelogger(out, n),
            "OpenTelemetry SDK (BatchSpanProcessor + OTLP gRPC)": bench_otel_sdk(n),
            "pytracingx (OTLP trace sink)": bench_pytracingx(n),
        }
    ours = results["telemetron timed_span (file exporter)"]
    print(f"\nper span (enter + exit), {n} spans each ({4 * n} for telemetron):")
    for name, us in results.items():
        ratio = "" if us == ours else f"  ({us / ours:.1f}x telemetron)"
        print(f"  {name:<52} {us:8.2f} µs{ratio}")
    ms, mb = import_cost()
    print(f"\nimport telemetron: {ms:.2f} ms, +{mb:.2f} MB RSS (best of 5)")


if __name__ == "__main__":
    main()
