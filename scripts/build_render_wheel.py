"""Packs the renderer's encoder library into the ``telemetron-render`` wheel.

    python scripts/build_render_wheel.py --library target/release/libtelemetron_render_ffmpeg.so \
        --out target/wheels [--license FILE ...] [--strip]

The wheel holds the ``telemetron_render`` package (plugins/render-ffmpeg/python) with the
library inside, tagged ``py3-none-linux_<arch>``: it is no Python extension, so any CPython
(3.10+, free-threaded too) can use it. ``make wheel`` then runs ``auditwheel repair`` on it,
which grafts FFmpeg's and libx264's shared libraries and sets the manylinux tag.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from wheel_files import write_wheel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "plugins" / "render-ffmpeg" / "python" / "telemetron_render"
NAME = "telemetron_render"
LIBRARY_FILE = "libtelemetron_render_ffmpeg.so"

METADATA = """\
Metadata-Version: 2.1
Name: telemetron-render
Version: {version}
Summary: H.264 renderer of telemetron.log_rendering (its encoder library, FFmpeg, libx264)
License: GPL-3.0-or-later
Requires-Python: >=3.10
Classifier: License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)
Classifier: Programming Language :: Rust

Installed by ``pip install 'telemetron[render]'``. It carries ``libtelemetron_render_ffmpeg.so``
(Telemetron's Apache-2.0 encoder code, linked with FFmpeg built with --enable-gpl and x264,
both GPL-2.0-or-later), so this wheel as a whole is distributed under the GPL-3.0-or-later.
The core ``telemetron`` wheel contains no GPL code; it opens this library on the first
``log_rendering``.
"""

WHEEL = """\
Wheel-Version: 1.0
Generator: telemetron build_render_wheel.py
Root-Is-Purelib: false
Tag: {tag}
"""


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    match = re.search(r'\[workspace\.package\][^\[]*?\nversion = "([^"]+)"', text)
    if not match:
        raise SystemExit("no [workspace.package] version in Cargo.toml")
    return match.group(1)


def build(library: Path, out: Path, licenses: list[Path], strip: bool) -> Path:
    version = workspace_version()
    tag = f"py3-none-linux_{platform.machine()}"
    dist_info = f"{NAME}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for source in sorted(PACKAGE.iterdir()):
        if source.is_file() and source.suffix in {".py", ".typed"}:
            files[f"{NAME}/{source.name}"] = source.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        shipped = Path(tmp) / LIBRARY_FILE
        shutil.copy2(library, shipped)
        if strip:
            # Debug info stays in the build tree; the wheel ships symbols for dlsym only.
            subprocess.run(["strip", "--strip-debug", str(shipped)], check=True)
        files[f"{NAME}/{LIBRARY_FILE}"] = shipped.read_bytes()
    for lic in licenses:
        # Debian's licence files are all named `copyright`: name them by their package.
        name = f"{lic.parent.name}-copyright" if lic.name == "copyright" else lic.name
        files[f"{dist_info}/licenses/{name}"] = lic.read_bytes()
    files[f"{dist_info}/METADATA"] = METADATA.format(version=version).encode()
    files[f"{dist_info}/WHEEL"] = WHEEL.format(tag=tag).encode()
    return write_wheel(out / f"{NAME}-{version}-{tag}.whl", files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--license", type=Path, action="append", default=[])
    parser.add_argument("--strip", action="store_true")
    args = parser.parse_args()
    print(build(args.library, args.out, args.license, args.strip))


if __name__ == "__main__":
    main()
