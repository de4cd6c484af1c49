"""Two or more telemetron builds, interleaved: the caller's cost of a scalar ``log`` (without and
with an explicit ``step``) and of a ``timed_span`` with the file exporter. This machine's speed
drifts within minutes, so builds are only compared in alternating fresh processes, never
against a figure from another run.

    python benches/ab_caller.py --python plain=/venv-a/bin/python --python lto=/venv-b/bin/python

Each round runs every build once (in the order given, reversed every other round); each run
prints the best of 5 × ``CALLS`` calls for each. The summary gives each build's range and
median over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess

PROBE = r"""
import os, tempfile, time, telemetron
telemetron.configure(exporters=[{"type": "file", "path": tempfile.mktemp(suffix=".jsonl")}],
                     run_name="ab")
n = int(os.environ.get("CALLS", "40000"))
def best(body):
    times = []
    for _ in range(5):
        began = time.perf_counter()
        body()
        times.append((time.perf_counter() - began) / n * 1e6)
        telemetron.flush()
    return min(times)
def logs():
    for _ in range(n):
        telemetron.log("loss", 0.5)
def stepped():
    base = stepped.next
    for i in range(n):
        telemetron.log("stepped", 0.5, step=base + i)
    stepped.next = base + n
stepped.next = 0
def spans():
    for _ in range(n):
        with telemetron.timed_span("step"):
            pass
print(best(logs), best(stepped), best(spans))
telemetron.shutdown()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", required=True, metavar="LABEL=PATH")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    builds = [tuple(b.split("=", 1)) for b in args.python]
    seen: dict[str, list[tuple[float, ...]]] = {label: [] for label, _ in builds}
    for round_ in range(args.rounds):
        for label, python in builds if round_ % 2 == 0 else builds[::-1]:
            out = subprocess.run([python, "-c", PROBE], check=True, capture_output=True, text=True)
            log_us, stepped_us, span_us = (float(x) for x in out.stdout.split())
            seen[label].append((log_us, stepped_us, span_us))
            print(
                f"round {round_ + 1} {label:12} log {log_us:.3f} µs  log(step=) {stepped_us:.3f} µs"
                f"  timed_span {span_us:.3f} µs"
            )
    for label, runs in seen.items():
        for i, what in enumerate(("log", "log(step=)", "timed_span")):
            xs = [r[i] for r in runs]
            print(
                f"{label:12} {what:10} {min(xs):.3f}–{max(xs):.3f} µs, "
                f"median {statistics.median(xs):.3f} ({len(xs)} runs)"
            )


if __name__ == "__main__":
    main()
