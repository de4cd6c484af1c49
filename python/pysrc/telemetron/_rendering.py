"""Environment renderings: frames to H.264 .mp4 files, encoded in Rust off the training thread."""

from __future__ import annotations

from telemetron._runtime import get_runtime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def log_rendering(frame: Any, rl_step: int, episode: int, env_id: int | str | None = None) -> bool:
    """Copy one environment frame and queue it for encoding; returns at once.

    ``frame`` is a uint8 array of shape ``(H, W, 3)`` (RGB) or ``(H, W)`` / ``(H, W, 1)``
    (grayscale) with even ``H`` and ``W``: a NumPy array, anything with
    ``__array_interface__``, or anything ``numpy.asarray`` accepts (a CPU torch tensor).
    Each ``(env_id, episode)`` becomes ``<rendering_output_dir>/<run_name>/<env_id>/
    episode_<episode>.mp4``; a new episode of an env finishes its previous video, and each
    finished video is sent to every exporter as a ``rendering`` record. ``env_id`` defaults
    to ``"0"``.

    Returns ``False`` when ``drop_new`` backpressure dropped the frame (counted). Raises
    ``ValidationError`` for a bad frame (dtype, rank, odd or changed size, older episode),
    ``QueueFullError`` under ``raise`` backpressure, ``ExporterError`` when the renderer's
    encoder library is not installed (``pip install 'telemetron[render]'``; the message names
    what is missing) or the output directory is not writable, and ``ConfigError`` when this
    build has no renderer.
    """
    return get_runtime().log_rendering(frame, rl_step, episode, env_id)


def rendering_metrics() -> dict[str, int] | None:
    """The renderer's frame and video counters, or ``None`` before the first frame."""
    return get_runtime().rendering_metrics()
