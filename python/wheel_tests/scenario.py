"""Runs inside a fresh venv that has only the wheels under test (no NumPy, no test helpers):
prints one JSON line with what it saw. ``hidden``: the core wheel with the renderer's library
hidden (TELEMETRON_RENDER_PLUGIN_PATH names an empty directory); ``render``: with the
telemetron-render wheel installed. Run with OUT_DIR as the working directory (videos go to
``telemetron-renderings/wheel/`` there).

    python scenario.py hidden|render OUT_DIR OTLP_GRPC_ENDPOINT
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any


def ffmpeg_mappings() -> list[str]:
    """Files of FFmpeg's, x264's or the renderer's libraries mapped into this process."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and any(
                name in Path(fields[5]).name
                for name in ("libav", "libx264", "libswscale", "telemetron_render_ffmpeg")
            ):
                found.add(fields[5])
    return sorted(found)


class Frame:
    """A packed (H, W, 3) uint8 frame exposing ``__array_interface__`` (no NumPy here)."""

    def __init__(self, height: int, width: int, step: int) -> None:
        data = bytes((x * 3 + step * 7) % 256 for x in range(height * width * 3))
        self.buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        self.__array_interface__ = {
            "shape": (height, width, 3),
            "typestr": "|u1",
            "data": (ctypes.addressof(self.buffer), False),
            "strides": None,
            "version": 3,
        }


def main() -> None:
    mode, out, otlp = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    seen: dict[str, Any] = {"python": sys.version.split()[0]}
    import telemetron

    seen["maps_after_import"] = ffmpeg_mappings()
    telemetron.configure(
        exporters=[
            {"type": "file", "path": str(out / "run.jsonl")},
            {"type": "otlp", "endpoint": otlp, "protocol": "grpc"},
        ],
        run_name="wheel",
    )  # no rendering setting: nothing may open the renderer before log_rendering
    seen["maps_after_configure"] = ffmpeg_mappings()
    with telemetron.timed_span("wheel-span", span_attributes={"mode": mode}):
        telemetron.log("loss", 0.25, step=1)
        telemetron.get_logger("wheel").info("inside the span")
    telemetron.flush(timeout=30)
    seen["maps_after_span"] = ffmpeg_mappings()
    if mode == "hidden":
        try:
            telemetron.log_rendering(Frame(16, 16, 0), rl_step=0, episode=0)
            seen["log_rendering"] = "returned"
        except telemetron.ExporterError as e:
            seen["log_rendering"] = f"ExporterError: {e}"
        except Exception as e:  # noqa: BLE001 - the test reports any other outcome
            seen["log_rendering"] = f"{type(e).__name__}: {e}"
        with telemetron.timed_span("after-render-error"):
            telemetron.log("loss", 0.5, step=2)
        seen["report"] = telemetron.shutdown(timeout=30)
        # A rendering setting makes configure open the library: the missing renderer is
        # reported as a warning there, and the run starts anyway.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            telemetron.configure(
                exporters=[{"type": "file", "path": str(out / "second.jsonl")}],
                rendering_fps=15,
            )
        seen["configure_warnings"] = [str(w.message) for w in caught]
        with telemetron.timed_span("second-run"):
            pass
        telemetron.shutdown(timeout=30)
    else:
        # Whether the system's FFmpeg could be loaded (the test may have hidden it): asked in
        # another process, so that this one maps only what the renderer loads.
        tried = subprocess.run(
            [sys.executable, "-c", "import ctypes; ctypes.CDLL('libavcodec.so.59')"],
            capture_output=True, text=True,
        )  # fmt: skip
        seen["system_avcodec"] = (
            "loadable" if tried.returncode == 0 else f"unloadable: {tried.stderr.strip()[-200:]}"
        )
        for step in range(12):
            assert telemetron.log_rendering(Frame(32, 48, step), rl_step=step, episode=0)
        seen["report"] = telemetron.shutdown(timeout=60)
        seen["maps_after_render"] = ffmpeg_mappings()
    seen["maps_end"] = ffmpeg_mappings()
    print(json.dumps(seen, default=str))


if __name__ == "__main__":
    main()
