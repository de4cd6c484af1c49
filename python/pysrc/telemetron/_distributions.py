"""Histograms and scatters with Metrana's names: ``Histogram``, ``log_histogram``,
``log_scatter``, ``log_scatter3d``. Each is logged at an explicit absolute step (re-logging a
step overwrites it in the backend); a metric keeps one value kind for life."""

from __future__ import annotations

from telemetron import _runtime as _runtime_module
from telemetron._runtime import get_runtime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Labels = Mapping[str, Any] | None


class Histogram:
    """Bins over ``bin_edges`` (``bins + 1`` strictly increasing edges, at most 512 bins):
    integer ``counts`` or ``densities``, optionally with ``stats=(min, max, sum, sum_sq)``."""

    __slots__ = ("bin_edges", "counts", "densities", "stats")

    def __init__(
        self,
        bin_edges: Any,
        *,
        counts: Any = None,
        densities: Any = None,
        stats: tuple[float, float, float, float] | None = None,
    ) -> None:
        if (counts is None) == (densities is None):
            raise TypeError("Histogram needs counts= or densities= (exactly one)")
        self.bin_edges = bin_edges
        self.counts = counts
        self.densities = densities
        self.stats = stats

    @classmethod
    def from_numpy(cls, histogram: tuple[Any, Any]) -> Histogram:
        """From ``numpy.histogram(...)``'s ``(counts, bin_edges)`` (integer counts only)."""
        counts, edges = histogram
        return cls(edges, counts=counts)


def log_histogram(
    metric_name: str,
    histogram: Histogram | tuple[Any, Any],
    step: int,
    *,
    scale: str | None = None,
    labels: Labels = None,
    evaluation: bool | None = None,
    timestamp: int | None = None,
) -> None:
    """Logs a histogram (a ``Histogram`` or ``numpy.histogram``'s tuple) at ``step``."""
    if not isinstance(histogram, Histogram):
        histogram = Histogram.from_numpy(histogram)
    runtime = _runtime_module._runtime or get_runtime()
    runtime.log_histogram(
        metric_name, step, histogram.bin_edges, histogram.counts, histogram.densities,
        histogram.stats, scale, None if labels is None else dict(labels), evaluation, timestamp,
    )  # fmt: skip


def log_scatter(
    metric_name: str,
    xs: Any,
    ys: Any,
    step: int,
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    scale: str | None = None,
    labels: Labels = None,
    evaluation: bool | None = None,
    timestamp: int | None = None,
) -> None:
    """Logs a 2-D scatter (up to 32,768 finite points; empty is valid) at ``step``."""
    log_scatter3d(
        metric_name, xs, ys, None, step, x_title=x_title, y_title=y_title, scale=scale,
        labels=labels, evaluation=evaluation, timestamp=timestamp,
    )  # fmt: skip


def log_scatter3d(
    metric_name: str,
    xs: Any,
    ys: Any,
    zs: Any,
    step: int,
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    z_title: str | None = None,
    scale: str | None = None,
    labels: Labels = None,
    evaluation: bool | None = None,
    timestamp: int | None = None,
) -> None:
    """Logs a 3-D scatter at ``step`` (``zs=None``: a 2-D one, as ``log_scatter``)."""
    runtime = _runtime_module._runtime or get_runtime()
    runtime.log_scatter(
        metric_name, step, xs, ys, zs, x_title, y_title, z_title, scale,
        None if labels is None else dict(labels), evaluation, timestamp,
    )  # fmt: skip
