"""Metrana-compatible metric logging: ``log``, ``log_distributed``, ``get_last_step``.

A series is (name, scale, labels). Values are a number, a sequence, or a 1-D array of any float
or integer dtype (NumPy, CPU torch/JAX tensors), copied once into a column: float values travel
as float32 (round to nearest even), integer values as float64 (exact to 2**53), unless
``dtype`` says otherwise. ``step=None`` continues the series, an int starts a contiguous range,
a sequence gives each point's step. ``timestamp`` is Unix milliseconds (one, or one per point).
"""

from __future__ import annotations

from telemetron import _runtime as _runtime_module
from telemetron._runtime import get_runtime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Labels = Mapping[str, Any] | None


def _log(
    metric_name: str | Mapping[str, Any],
    value: Any,
    scale: str | None,
    step: Any,
    labels: Labels,
    evaluation: bool | None,
    timestamp: Any,
    dtype: str | None,
    ordered: bool,
) -> None:
    runtime = _runtime_module._runtime or get_runtime()
    labels = None if labels is None else dict(labels)
    # A mapping is logged all or nothing: every series is validated before any is recorded
    # (the native call also says what is wrong with a missing or extra value).
    target = dict(metric_name) if hasattr(metric_name, "keys") else metric_name
    runtime.log_metric(target, value, scale, step, labels, evaluation, timestamp, dtype, ordered)


def log(
    metric_name: str | Mapping[str, Any],
    value: Any = None,
    scale: str | None = None,
    step: Any = None,
    labels: Labels = None,
    evaluation: bool | None = None,
    timestamp: Any = None,
    dtype: str | None = None,
) -> None:
    """Logs to an ordered, single-writer series (steps strictly increase).

    ``metric_name`` may be a mapping ``{name: value}`` (then omit ``value``). ``scale`` is
    ``ML_STEP`` (default), ``EPISODE`` or ``ENVIRONMENT_STEP``; ``evaluation=True`` adds the
    label ``evaluation: "true"``; ``dtype`` is ``float32``, ``float64``, ``int64`` or ``int32``.
    Raises ``ValidationError`` naming the argument (NaN, wrong dtype, length mismatch, a step
    that does not move forward, an invalid name or label key); nothing is recorded then.
    """
    if labels is None and metric_name.__class__ is str and value is not None:
        # The training-loop call, one Python frame shorter.
        runtime = _runtime_module._runtime or get_runtime()
        runtime.log_metric(
            metric_name, value, scale, step, None, evaluation, timestamp, dtype, True
        )
        return
    _log(metric_name, value, scale, step, labels, evaluation, timestamp, dtype, True)


def log_distributed(
    metric_name: str | Mapping[str, Any],
    value: Any = None,
    scale: str | None = None,
    step: Any = None,
    labels: Labels = None,
    evaluation: bool | None = None,
    timestamp: Any = None,
    dtype: str | None = None,
) -> None:
    """Like ``log`` for a series many writers share (unordered merge): give explicit steps."""
    _log(metric_name, value, scale, step, labels, evaluation, timestamp, dtype, False)


def get_last_step(metric_name: str, scale: str | None = None, labels: Labels = None) -> int | None:
    """The last step of the series in this process (seeded from the backend on resume)."""
    runtime = _runtime_module._runtime or get_runtime()
    return runtime.last_step(metric_name, scale, None if labels is None else dict(labels))
