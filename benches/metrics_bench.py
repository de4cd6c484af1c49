"""Metric logging into Metrana ingestion, side by side in one run: telemetron (``log`` and
``log_rl_environment_step`` through the ``metrana`` exporter) against ``metrana-logging-engine``
0.12 (its native ``Logger`` methods, and its NumPy-normalizing wrapper).

Both send to the same reference ingestion server (``tests/metrana_server --count-only``: a
separate process that validates the stream and counts points, storing nothing), a fresh one for
each library. Each library runs in its own process so that RSS and CPU are its own.

Measured per library:
- µs per single-point scalar call (``SCALARS`` calls);
- the RL burst, twice (burst 1 creates the series, burst 2 continues them): ``ENVS``
  environments × ``METRICS`` metrics × ``POINTS`` values per call (one ``[ENVS, POINTS]`` block
  per metric): ms to enqueue, seconds from the first call until the server acknowledged
  everything (flush), client CPU ns per point (every thread of the process, from the first
  call to the end of the flush); and peak RSS.
The server's point count is checked against what was logged. Run with ``make bench-metrics``.
To compare telemetron builds in the same run (each installed in its own venv with NumPy), name
their interpreters: ``--telemetron before=/venv-a/bin/python --telemetron after=.venv/bin/python``
(default: this interpreter); the engine runs in this one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SCALARS = int(os.environ.get("SCALARS", "200000"))
ENVS = int(os.environ.get("ENVS", "1024"))
METRICS = int(os.environ.get("METRICS", "16"))
POINTS = int(os.environ.get("POINTS", "100"))
ROOT = Path(__file__).parents[1]


class CountingServer:
    """The reference server in another process, counting points."""

    def __init__(self, state_dir: str) -> None:
        # At nice 19: it stands in for a remote service, which would not take the client's
        # cores (on 2 cores at equal priority it slows every client thread, the caller's too).
        self.proc = subprocess.Popen(
            ["nice", "-n", "19", sys.executable, str(ROOT / "tests" / "metrana_server"),
             "--state", f"{state_dir}/state.json", "--count-only"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline().split()
        assert ready[:1] == ["READY"], ready
        self.endpoint = f"http://127.0.0.1:{ready[1]}"

    def points(self) -> tuple[int, int, int]:
        """Points, requests and request bytes the server took."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("POINTS\n")
        self.proc.stdin.flush()
        _, points, requests, size = self.proc.stdout.readline().split()
        return int(points), int(requests), int(size)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # A stream a killed client left open can hold its graceful shutdown: never leave
            # it running (it holds the bench's stdout).
            print("reference server did not stop in 30 s: killed", file=sys.stderr)
            self.proc.kill()
            self.proc.wait()


class Contender:
    """What the worker calls, per library."""

    scalar_modes: dict[str, Callable[[float], None]]
    rl: Callable[[str, int, list[str], np.ndarray], None]
    flush: Callable[[], None]
    close: Callable[[], None]


def telemetron_contender(endpoint: str) -> Contender:
    import telemetron

    telemetron.configure(
        exporters=[{"type": "metrana", "endpoint": endpoint, "api_key": "bench"}],
        workspace="bench", project="metrics", run_name="telemetron",
    )  # fmt: skip
    c = Contender()
    log = telemetron.log
    c.scalar_modes = {"log": lambda v: log("loss", v)}
    step = telemetron.log_rl_environment_step
    c.rl = lambda name, rl_step, envs, block: step(name, block, rl_step, episode=None, env_id=envs)
    c.flush = lambda: telemetron.flush(timeout=900.0)  # as long as the engine's flush may take
    c.close = lambda: telemetron.shutdown()
    return c


def engine_contender(endpoint: str) -> Contender:
    import metrana_logging_engine as mle

    config = mle.Config(
        "bench", "bench", "metrics", "engine", endpoint=endpoint,
        orchestration_id="bench-engine",
    )  # fmt: skip
    logger = mle.Logger(config)
    native = logger._inner
    one = np.zeros(1, dtype=np.float64)

    def native_scalar(v: float) -> None:
        one[0] = v
        native.log_std_floats("loss_native", "ML_STEP", one)

    c = Contender()
    c.scalar_modes = {
        "log_std_floats (native)": native_scalar,
        "log_std_floats (NumPy wrapper)": lambda v: logger.log_std_floats(
            "loss_wrapper", "ML_STEP", [v]
        ),
    }
    c.rl = lambda name, rl_step, envs, block: native.log_rl_floats(
        name, "ENVIRONMENT_STEP", rl_step, envs, block
    )
    c.flush = lambda: logger.flush(900.0)
    c.close = lambda: logger.close(900.0)
    return c


def rss_now_mb() -> float:
    """The process's resident set now (not its peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(library: str, endpoint: str) -> dict[str, Any]:
    c = telemetron_contender(endpoint) if library == "telemetron" else engine_contender(endpoint)
    out: dict[str, Any] = {"scalar_us": {}, "rss_configured_mb": rss_now_mb()}
    values = [float(i % 97) * 0.5 for i in range(SCALARS)]
    for mode, call in c.scalar_modes.items() if SCALARS else ():  # SCALARS=0: bursts only
        before = rss_now_mb()
        began = time.perf_counter()
        for v in values:
            call(v)
        out["scalar_us"][mode] = (time.perf_counter() - began) / SCALARS * 1e6
        # What the scalar points still in flight hold (most of them: the server is slower);
        # for the engine, of its first mode, the native call (as telemetron's `log`).
        out.setdefault("scalar_rss_mb", rss_now_mb() - before)
        c.flush()
    out.setdefault("scalar_rss_mb", 0.0)  # SCALARS=0
    envs = [f"env-{i}" for i in range(ENVS)]
    rng = np.random.default_rng(7)
    blocks = [rng.random((ENVS, POINTS), dtype=np.float32) for _ in range(METRICS)]
    for rl_step in (1, 2):  # the first burst creates the series; the next one reuses them
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        cpu0, began = time.process_time(), time.perf_counter()
        for m, block in enumerate(blocks):
            c.rl(f"reward_{m}", rl_step, envs, block)
        enqueued = time.perf_counter()
        # Page faults of the whole process while the caller enqueued (its own and the
        # exporter's, which runs meanwhile): fresh memory is what makes a first burst slow.
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
        c.flush()
        acked = time.perf_counter()
        cpu = time.process_time() - cpu0
        burst = ENVS * METRICS * POINTS
        out.update(
            {
                f"burst{rl_step}_enqueue_ms": (enqueued - began) * 1e3,
                f"burst{rl_step}_enqueue_faults": faults,
                f"burst{rl_step}_acked_s": acked - began,
                f"burst{rl_step}_cpu_ns_per_point": cpu / burst * 1e9,
            }
        )
    c.close()
    out.update(
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        logged_points=2 * burst + SCALARS * len(c.scalar_modes),
    )
    return out


def run(library: str, python: str = sys.executable) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as state_dir:
        server = CountingServer(state_dir)
        try:
            done = subprocess.run(
                [python, __file__, "--worker", library, server.endpoint],
                check=True, stdout=subprocess.PIPE, text=True,
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # no idle BLAS threads spinning
            )  # fmt: skip
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            points, requests, size = server.points()
            result.update(server_points=points, requests=requests, request_mb=size / 1e6)
        finally:
            server.close()
    assert result["server_points"] == result["logged_points"], result
    return result


def main(builds: dict[str, str]) -> None:
    print(
        f"{SCALARS} scalar calls; RL burst {ENVS} envs x {METRICS} metrics x {POINTS} points "
        f"= {ENVS * METRICS * POINTS} points; reference server --count-only, one per library"
    )
    results = {label: run("telemetron", python) for label, python in builds.items()}
    engine = run("engine")
    for label, ours in results.items():
        name = "telemetron" if len(builds) == 1 else f"telemetron ({label})"
        compare(name, ours, engine)


def compare(name: str, ours: dict[str, Any], engine: dict[str, Any]) -> None:
    print(f"\n{name:50}{'telemetron':>12}{'engine 0.12':>13}{'ratio':>8}")
    for mode, us in engine["scalar_us"].items():
        t = ours["scalar_us"]["log"]
        print(f"{'scalar µs/call, engine ' + mode:50}{t:>12.3f}{us:>13.3f}{us / t:>7.1f}x")
    rows = [
        (f"burst {n} {label}", f"burst{n}_{key}", fmt)
        for n in (1, 2)
        for label, key, fmt in (
            ("enqueue ms", "enqueue_ms", "{:.1f}"),
            ("page faults while enqueuing", "enqueue_faults", "{:d}"),
            ("enqueue→acked s", "acked_s", "{:.3f}"),
            ("client CPU ns/point", "cpu_ns_per_point", "{:.1f}"),
        )
    ]
    rows += [
        ("RSS after configure MB", "rss_configured_mb", "{:.1f}"),
        ("RSS added by the scalar calls, before flush MB", "scalar_rss_mb", "{:.1f}"),
        ("peak RSS MB", "rss_mb", "{:.0f}"),
        ("requests the server took (whole run)", "requests", "{:d}"),
        ("request MB the server took (whole run)", "request_mb", "{:.1f}"),
    ]
    for label, key, fmt in rows:
        a, b = ours[key], engine[key]
        ratio = f"{b / a:>7.1f}x" if a else "       -"
        print(f"{label:50}{fmt.format(a):>12}{fmt.format(b):>13}{ratio}")
    print("(ratio = engine / telemetron: above 1 means telemetron is faster or smaller)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--telemetron", action="append", default=[], metavar="LABEL=PYTHON")
        args = parser.parse_args()
        main(dict(b.split("=", 1) for b in args.telemetron) or {"telemetron": sys.executable})
