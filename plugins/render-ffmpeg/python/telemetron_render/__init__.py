"""The H.264 encoder library behind ``telemetron.log_rendering``.

``pip install 'telemetron[render]'`` installs this package: ``libtelemetron_render_ffmpeg.so``
with the FFmpeg (libavcodec, libavformat, libavutil, libswscale) and libx264 libraries it needs
grafted into ``telemetron_render.libs/``, so rendering works on a machine without FFmpeg.
Telemetron opens the library on the first ``log_rendering``; importing this package loads
nothing native.

Licence: the library links FFmpeg built with ``--enable-gpl`` and x264, both GPL-2.0-or-later;
Telemetron's own code is Apache-2.0, so this wheel as a whole is distributed under the
GPL-3.0-or-later. The licence texts are in the wheel's ``.dist-info/licenses``.
"""

from __future__ import annotations

import os

__all__ = ["library_dir", "library_path"]

LIBRARY_FILE = "libtelemetron_render_ffmpeg.so"


def library_dir() -> str:
    """The directory that holds the encoder library."""
    return os.path.dirname(os.path.abspath(__file__))


def library_path() -> str:
    """The encoder library's path."""
    return os.path.join(library_dir(), LIBRARY_FILE)
