"""Strips the debug info from the shared libraries of a wheel and keeps it beside.

    python scripts/strip_wheel.py WHEEL --out DIR --debug-dir DIR

Each ``.so`` loses its debug sections (its dynamic symbols stay: Python and dlsym need them)
and gets a ``.gnu_debuglink`` to ``<name>.debug``, written to ``--debug-dir`` (gdb and perf
find it there with ``debug-file-directory``). The wheel is rewritten under ``--out`` with the
same name and a fresh RECORD.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from wheel_files import read_wheel, write_wheel  # noqa: E402


def strip(wheel: Path, out: Path, debug_dir: Path) -> Path:
    files = read_wheel(wheel)
    debug_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for path in [p for p in files if ".so" in Path(p).name]:
            name = Path(path).name
            lib, debug = Path(tmp) / name, debug_dir / f"{name}.debug"
            lib.write_bytes(files[path])
            subprocess.run(["objcopy", "--only-keep-debug", str(lib), str(debug)], check=True)
            subprocess.run(["strip", "--strip-debug", "--strip-unneeded", str(lib)], check=True)
            subprocess.run(
                ["objcopy", f"--add-gnu-debuglink={debug}", str(lib)], check=True, cwd=debug_dir
            )
            files[path] = lib.read_bytes()
    return write_wheel(out / wheel.name, files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--debug-dir", type=Path, required=True)
    args = parser.parse_args()
    print(strip(args.wheel, args.out, args.debug_dir))


if __name__ == "__main__":
    main()
