"""Reading and writing wheel files (a zip with a RECORD of every file's hash), shared by
build_render_wheel.py and strip_wheel.py."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def read_wheel(wheel: Path) -> dict[str, bytes]:
    """Every file of `wheel` but its RECORD, by path."""
    with zipfile.ZipFile(wheel) as zf:
        return {
            name: zf.read(name)
            for name in zf.namelist()
            if not name.endswith(".dist-info/RECORD") and not name.endswith("/")
        }


def write_wheel(wheel: Path, files: dict[str, bytes]) -> Path:
    """Writes `files` (dist-info included, RECORD excluded) and a fresh RECORD into `wheel`."""
    dist_info = next(p.split("/")[0] for p in files if p.split("/")[0].endswith(".dist-info"))
    record = [record_line(path, data) for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    everything = {**files, f"{dist_info}/RECORD": ("\n".join(record) + "\n").encode()}
    wheel.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in everything.items():
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            # Shared libraries executable (as ld.so and auditwheel expect), the rest readable.
            mode = 0o755 if ".so" in Path(path).name else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return wheel
