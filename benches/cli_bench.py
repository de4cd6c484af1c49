"""``make bench-cli``: reading a large file export, and the TensorBoard exporter's cost.

1. Makes an export of ``--mb`` MB (default 1024): spans (a root per 1,000 steps, each step a
   span) and metric batches, through the real runtime with ``block`` backpressure (nothing
   dropped). Then, side by side on that file, each in its own process: ``telemetron inspect
   --json``, ``telemetron timeline``, ``jq -c .`` (the everyday tool, streaming) and pandas
   ``read_json(lines=True, chunksize=...)`` (streaming, so it fits in memory). MB/s and peak RSS.
2. Caller cost per scalar and scalars/s to disk: ``telemetron.log`` with the TensorBoard
   exporter against ``tensorboardX.SummaryWriter.add_scalar`` (and ``torch.utils.tensorboard``
   when torch is installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import telemetron

TELEMETRON = str(Path(sys.executable).with_name("telemetron"))


def make_export(path: Path, mb: int) -> None:
    telemetron.configure(
        exporters=[{"type": "file", "path": str(path)}], backpressure="block", run_name="bench"
    )
    target = mb << 20
    step = 0
    while True:
        with telemetron.timed_span("epoch", span_attributes={"epoch": step // 1000}):
            for _ in range(1000):
                with telemetron.timed_span("train_step", span_attributes={"step": step}):
                    pass
                step += 1
            telemetron.log("loss", [1.0 / (1 + step + i) for i in range(256)])
        if step % 20_000 == 0:
            telemetron.flush()
            if path.stat().st_size >= target:
                break
    telemetron.shutdown(timeout=120)


def measure(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{cmd[0]} failed ({status}): {err}")
    return elapsed, usage.ru_maxrss / 1024


PANDAS = """
import sys, pandas as pd
n = 0
for chunk in pd.read_json(sys.argv[1], lines=True, chunksize=100_000):
    n += len(chunk)
print(n)
"""


def read_bench(path: Path) -> None:
    size_mb = path.stat().st_size / 2**20
    print(f"\nexport: {size_mb:.0f} MB, {sum(1 for _ in path.open('rb')):,} lines")
    rows = []
    out = path.with_suffix(".trace.json")
    runs = [
        ("telemetron inspect --json", [TELEMETRON, "inspect", str(path), "--json"]),
        ("telemetron timeline", [TELEMETRON, "timeline", str(path), "-o", str(out)]),
        ("jq -c .", ["jq", "-c", ".", str(path)]),
        ("pandas read_json(lines, chunks)", [sys.executable, "-c", PANDAS, str(path)]),
    ]
    for name, cmd in runs:
        if shutil.which(cmd[0]) is None:
            rows.append((name, None, None))
            continue
        seconds, rss = measure(cmd)
        rows.append((name, seconds, rss))
    base = rows[0][1]
    print(f"{'reader':34} {'s':>8} {'MB/s':>8} {'peak RSS MB':>12} {'x inspect':>10}")
    for name, seconds, rss in rows:
        if seconds is None:
            print(f"{name:34} {'not installed':>8}")
            continue
        ratio = seconds / base if base else 0
        print(f"{name:34} {seconds:8.2f} {size_mb / seconds:8.0f} {rss:12.0f} {ratio:10.1f}")
    out.unlink(missing_ok=True)


def caller_bench(n: int) -> None:
    print(f"\nTensorBoard scalars: {n:,} calls")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        telemetron.configure(exporters=[{"type": "tensorboard", "logdir": f"{tmp}/tm"}],
                             queue_capacity=1 << 20, exporter_queue_capacity=1 << 21)  # fmt: skip
        start = time.perf_counter()
        for i in range(n):
            telemetron.log("loss", 0.5, step=i)
        caller = time.perf_counter() - start
        report = telemetron.shutdown(timeout=300)
        total = time.perf_counter() - start
        assert report is not None and report["undelivered"] == [], report
        rows.append(("telemetron.log (tensorboard exporter)", caller, total))
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            rows.append(("tensorboardX add_scalar", None, None))
        else:
            w = SummaryWriter(f"{tmp}/tbx")
            start = time.perf_counter()
            for i in range(n):
                w.add_scalar("loss", 0.5, i)
            caller = time.perf_counter() - start
            w.close()
            rows.append(("tensorboardX add_scalar", caller, time.perf_counter() - start))
        try:
            from torch.utils.tensorboard import SummaryWriter as TorchWriter
        except ImportError:
            rows.append(("torch.utils.tensorboard add_scalar", None, None))
        else:
            tw = TorchWriter(f"{tmp}/torch")
            start = time.perf_counter()
            for i in range(n):
                tw.add_scalar("loss", 0.5, i)
            caller = time.perf_counter() - start
            tw.close()
            rows.append(("torch.utils.tensorboard add_scalar", caller, time.perf_counter() - start))
    base = rows[0][1]
    print(f"{'writer':38} {'caller us/scalar':>17} {'scalars/s to disk':>18} {'caller x':>9}")
    for name, caller, total in rows:
        if caller is None:
            print(f"{name:38} {'not installed':>17}")
            continue
        print(f"{name:38} {caller / n * 1e6:17.2f} {n / total:18,.0f} {caller / base:9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--scalars", type=int, default=200_000)
    ap.add_argument("--dir", default=None, help="where the export goes (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.jsonl"
        start = time.perf_counter()
        make_export(path, args.mb)
        print(f"made the export in {time.perf_counter() - start:.0f} s")
        read_bench(path)
    caller_bench(args.scalars)


if __name__ == "__main__":
    main()
