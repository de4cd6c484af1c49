"""Regenerate hot.txt: the functions of `_native` that a typical job executes, by stage.

    python scripts/link-order/profile.py --python /venv/bin/python [--python /venv2/bin/python]
        [--out hot.txt] [--receivers-python /other/venv/bin/python]

`--python` is an interpreter with a release build of telemetron installed, with its symbols
(a plain `maturin build --release`, or the zig-built module before scripts/strip_wheel.py);
given several, the list is their union (the C code of the zig build is clang's, not gcc's).
Each runs workload.py under valgrind's callgrind (`--dump-instr=no --demangle=no`: names as
the linker sees them) three times: up to `import`, up to `file` (configure + log + timed_span +
RL step + flush + shutdown with the file exporter) and up to `network` (the same with OTLP and
Metrana exporters, against the benchmark receivers started here with `--receivers-python`,
which needs grpcio and opentelemetry-proto; skipped when that fails). Every function of the
module that ran is listed once, under the first stage it ran in, most executed instructions
first within a stage, Rust names without their hash (see scripts/order_link.py). Takes a
minute or two per build.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from order_link import hash_free  # noqa: E402

IMPORT_OBJECTS = [
    "*libcrypto-lib-cpuid.o(.text)",
    "*libcrypto-lib-x86_64cpuid.o(.text)",
    "*libc_nonshared.a:*(.text .text.*)",
    "*crtbeginS.o(.text)",
    "*crtendS.o(.text)",
]
NAME_REF = re.compile(r"^(c?(?:ob|fn|fl|fi|fe))=\((\d+)\)(?: (.*))?$")


def callgrind_functions(path: Path, module: str) -> dict[str, int]:
    """Self cost (Ir) of every function of the object whose file name starts with `module`."""
    names: dict[tuple[str, str], str] = {}
    cost: dict[str, int] = {}
    ob = fn = ""
    after_calls = False
    for line in path.read_text(errors="replace").splitlines():
        m = NAME_REF.match(line)
        if m:
            kind, ident, name = m.groups()
            table = kind.lstrip("c")
            if name is not None:
                names[(table, ident)] = name
            value = names.get((table, ident), "")
            if kind == "ob":
                ob = value
            elif kind == "fn":
                fn = value
                if Path(ob).name.startswith(module):
                    cost.setdefault(fn, 0)
            continue
        if line.startswith("calls="):
            after_calls = True
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            if after_calls:
                after_calls = False
            elif fn and Path(ob).name.startswith(module):
                parts = line.split()
                if len(parts) > 1:
                    cost[fn] = cost.get(fn, 0) + int(parts[1])
    return cost


def profile(python: str, stage: str, extra: list[str], out: Path) -> dict[str, int]:
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--dump-instr=no", "--demangle=no",
         f"--callgrind-out-file={out}", python, str(HERE / "workload.py"), stage, *extra],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return callgrind_functions(out, "_native")


def start(python: str, args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [python, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    if ready[:1] != ["READY"]:
        proc.kill()
        raise RuntimeError(f"{args[0]} did not start")
    return proc, f"http://127.0.0.1:{ready[1]}"


def profile_build(python: str, receivers: str) -> list[tuple[str, dict[str, int]]]:
    """(stage, {function: self cost}) for the build `python` imports."""
    stages: list[tuple[str, dict[str, int]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for stage in ("import", "file"):
            stages.append((stage, profile(python, stage, [], Path(tmp) / f"{stage}.out")))
            print(f"{python}: {stage}: {len(stages[-1][1])} functions", file=sys.stderr)
        procs = []
        try:
            otlp_proc, otlp = start(
                receivers, [str(ROOT / "benches" / "otlp_counting_receiver.py"), "0", "0"]
            )
            procs.append(otlp_proc)
            metrana_server = [str(ROOT / "tests" / "metrana_server"), "--count-only"]
            mtr_proc, metrana = start(receivers, [*metrana_server, "--state", f"{tmp}/s.json"])
            procs.append(mtr_proc)
            network = profile(python, "network", [otlp, metrana], Path(tmp) / "n.out")
            stages.append(("network", network))
            print(f"{python}: network: {len(network)} functions", file=sys.stderr)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
            print(f"network stage skipped: {e}", file=sys.stderr)
        finally:
            for p in procs:
                if p.stdin:
                    p.stdin.close()
                p.wait(timeout=30)
    return stages


def symbol_sizes(python: str) -> dict[str, int]:
    module = subprocess.run(
        [python, "-c", "import telemetron._native as m; print(m.__file__)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    size: dict[str, int] = {}
    nm = subprocess.run(["nm", "-S", "--defined-only", module], check=True, capture_output=True)
    for row in nm.stdout.decode(errors="replace").splitlines():
        f = row.split()
        if len(f) == 4 and f[2] in "tTwW" and f[3] not in size:
            size[f[3]] = int(f[1], 16)
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", required=True)
    parser.add_argument("--receivers-python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=HERE / "hot.txt")
    args = parser.parse_args()
    # Per stage, every build's functions: the C code differs between gcc (plain build) and
    # zig's clang (the wheel), which inline jemalloc's static functions differently.
    stages: dict[str, dict[str, int]] = {}
    instances: dict[str, int] = {}
    ran: dict[str, set[int]] = {}
    for python in args.python:
        size = symbol_sizes(python)
        counts: dict[str, int] = {}
        for sym in size:
            counts[hash_free(sym)] = counts.get(hash_free(sym), 0) + 1
        for k, n in counts.items():
            instances[k] = max(instances.get(k, 0), n)
        for stage, cost in profile_build(python, args.receivers_python):
            merged = stages.setdefault(stage, {})
            for fn, ir in cost.items():
                fn = re.sub(r"'\d+$", "", fn)  # callgrind's recursion marker
                merged[fn] = max(merged.get(fn, 0), ir)
                if fn in size:
                    ran.setdefault(hash_free(fn), set()).add(size[fn])
    seen: set[str] = set()
    lines = [
        "# Functions of telemetron._native that a typical job executes, in the order",
        "# scripts/order_link.py places them at the start of the module's code (.text.hot).",
        "# Rust names are mangled without their 17h<hash>E suffix; a name that several generic",
        "# instances share is followed by the byte sizes of those that ran. Generated by",
        "# scripts/link-order/profile.py (workload.py under callgrind); regenerate after large",
        "# changes: names that no longer exist are only counted as unmatched at link time.",
        "# Code that is not in a section per function (OpenSSL's own build, glibc's",
        "# libc_nonshared, crtbegin) and runs when the module is loaded: whole objects, as",
        "# linker script input section descriptions.",
        *IMPORT_OBJECTS,
    ]
    for stage, cost in stages.items():
        lines.append(f"# stage: {stage}")
        for fn, _ in sorted(cost.items(), key=lambda kv: (-kv[1], kv[0])):
            name = hash_free(fn)
            # `ctor` constructors live in .text.startup, which order_link.py places first anyway.
            if name.startswith("0x") or name.endswith("__ctor") or name in seen:
                continue
            seen.add(name)
            if instances.get(name, 0) > 1 and ran.get(name):  # a generic: which instances ran
                lines.append(f"{name} {','.join(str(n) for n in sorted(ran[name]))}")
            else:
                lines.append(name)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"{len(seen)} names -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
