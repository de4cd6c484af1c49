"""What Telemetron costs a process before it records much, side by side in one run.

For each interpreter given (``--python LABEL=PATH``, default: this one), in a fresh process,
best of 5 (bytecode compiled first, as ``pip install`` leaves it):
- ``import telemetron``: ms, RSS it adds (and of it, the private "anonymous" part: the rest is
  the module's file pages, shared with the page cache), shared libraries it maps (FFmpeg's?);
- after ``configure()`` with the file exporter, one span and a flush: the RSS telemetron added
  since before its import, and the process's whole RSS.
The library a Metrana user would have instead, ``metrana_logging_engine`` 0.12, is measured
the same way (import, then ``Logger(Config(...))`` connected to the Metrana reference server,
``tests/metrana_server --count-only``, in another process).

    python benches/footprint_bench.py --python before=/path/to/venv/bin/python \
        --python after=.venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from metrics_bench import CountingServer

PROBE = r"""
import json, os, sys, time
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * page / 1e6
def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
def mapped():
    names = set()
    for line in open("/proc/self/maps"):
        f = line.split()
        if len(f) >= 6 and ".so" in os.path.basename(f[5]):
            names.add(f[5])
    return names
library, out, endpoint = sys.argv[1], sys.argv[2], sys.argv[3]
r0, a0, m0 = rss(), anon(), mapped()
t0 = time.perf_counter()
if library == "telemetron":
    import telemetron
else:
    import metrana_logging_engine as mle
t1 = time.perf_counter()
r1, a1, m1 = rss(), anon(), mapped()
if library == "telemetron":
    telemetron.configure(exporters=[{"type": "file", "path": out}], run_name="footprint")
    with telemetron.timed_span("s"):
        pass
    telemetron.flush()
else:
    logger = mle.Logger(mle.Config("k", "ws", "p", "footprint", endpoint=endpoint,
                                   orchestration_id="footprint"))
r2 = rss()
new = sorted(os.path.basename(p) for p in m1 - m0)
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "import_mb": r1 - r0, "import_anon_mb": a1 - a0,
                  "libs": len(new),
                  "ffmpeg_libs": [n for n in new if n.startswith(("libav", "libx264", "libsw"))],
                  "configured_mb": r2 - r0, "process_mb": r2}))
"""


def measure(python: str, library: str, endpoint: str = "", runs: int = 5) -> dict[str, float]:
    subprocess.run(
        [python, "-c", "import compileall, importlib.util as u; "
         f"[compileall.compile_dir(p, quiet=1) for p in u.find_spec({library!r})"
         ".submodule_search_locations]"],
        check=True, capture_output=True,
    )  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            done = subprocess.run(
                [python, "-c", PROBE, library, str(Path(tmp) / f"run{i}.jsonl"), endpoint],
                capture_output=True, text=True, check=True, cwd=tmp,
            )  # fmt: skip
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = {
        k: min(r[k] for r in results)
        for k in ("import_ms", "import_mb", "import_anon_mb", "configured_mb")
    }
    best["process_mb"] = min(r["process_mb"] for r in results)
    best["libs"] = results[0]["libs"]
    best["ffmpeg_libs"] = len(results[0]["ffmpeg_libs"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[], metavar="LABEL=PATH")
    parser.add_argument("--engine", default=sys.executable, help="interpreter with the engine")
    args = parser.parse_args()
    pythons = dict(p.split("=", 1) for p in args.python) or {"telemetron": sys.executable}
    rows = {f"telemetron ({label})": measure(py, "telemetron") for label, py in pythons.items()}
    with tempfile.TemporaryDirectory() as state:
        server = CountingServer(state)
        try:
            engine = measure(args.engine, "metrana_logging_engine", server.endpoint)
            rows["metrana-logging-engine 0.12"] = engine
        finally:
            server.close()
    print(f"{'':36}{'import ms':>10}{'import MB':>10}{'of it anon':>11}{'libs':>6}{'FFmpeg':>7}"
          f"{'configured MB':>14}{'process MB':>11}")  # fmt: skip
    for name, r in rows.items():
        cells = (
            f"{r['import_ms']:>10.2f}{r['import_mb']:>10.2f}{r['import_anon_mb']:>11.2f}"
            f"{r['libs']:>6}{r['ffmpeg_libs']:>7}"
        )
        print(f"{name:36}{cells}{r['configured_mb']:>14.2f}{r['process_mb']:>11.2f}")
    print("\n(configured MB: RSS added since before the import, after configure() with the file")
    print(" exporter + one span + flush; the engine: after Logger(Config(...)); best of 5 each)")


if __name__ == "__main__":
    main()
