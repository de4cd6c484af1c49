"""Histograms and scatters: logged at explicit steps with exact edges, counts or densities and
coordinates; invalid ones raise naming the problem; a metric keeps one value kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import telemetron

Records = Callable[[], list[dict[str, Any]]]


def test_histograms_and_scatters_round_trip(records: Records) -> None:
    samples = np.array([0.1, 0.2, 0.2, 0.7, 0.9])
    telemetron.log_histogram("weights", np.histogram(samples, bins=2, range=(0, 1)), step=3,
                             timestamp=1_700_000_000_000)  # fmt: skip
    telemetron.log_histogram(
        "density",
        telemetron.Histogram([0.0, 0.5, 1.0], densities=[1.2, 0.8], stats=(0.1, 0.9, 2.1, 1.39)),
        step=4,
    )
    telemetron.log_scatter("embedding", [1.0, 2.0], np.array([3.0, 4.0]), step=5,
                           x_title="pc1", y_title="pc2")  # fmt: skip
    telemetron.log_scatter3d("cloud", [0.0], [1.0], [2.0], step=6, z_title="depth")
    telemetron.log_scatter("empty", [], [], step=0)
    got = {r["name"]: r for r in records() if r["kind"] in ("histogram", "scatter")}
    w = got["weights"]
    assert (w["step"], w["bin_edges"], w["counts"], w["stats"], w["timestamp_ms"]) == (
        3, [0.0, 0.5, 1.0], [3, 2], None, 1_700_000_000_000
    )  # fmt: skip
    d = got["density"]
    assert (d["densities"], d["stats"]) == ([1.2, 0.8], [0.1, 0.9, 2.1, 1.39])
    assert isinstance(d["timestamp_ms"], int) and d["timestamp_ms"] > 1_700_000_000_000
    e = got["embedding"]
    assert (e["xs"], e["ys"], e["zs"], e["x_title"], e["y_title"]) == (
        [1.0, 2.0], [3.0, 4.0], None, "pc1", "pc2"
    )  # fmt: skip
    assert (got["cloud"]["zs"], got["cloud"]["z_title"]) == ([2.0], "depth")
    assert (got["empty"]["xs"], got["empty"]["ys"]) == ([], [])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: telemetron.log_histogram("h", ([1, 2], [0.0, 1.0]), step=0),
         "2 bins"),
        (lambda: telemetron.log_histogram("h", ([1, 2], [0.0, 1.0, 0.5]), step=0),
         "must strictly increase"),
        (lambda: telemetron.log_histogram("h", ([1] * 513, list(range(514))), step=0),
         "513 bins; 1 to 512"),
        (lambda: telemetron.log_histogram("h", ([-1, 2], [0.0, 1.0, 2.0]), step=0),
         "-1 is negative"),
        (lambda: telemetron.log_histogram(
            "h", telemetron.Histogram([0.0, 1.0], densities=[float("nan")]), step=0),
         "densities"),
        (lambda: telemetron.log_scatter("s", [1.0, 2.0], [1.0], step=0),
         "one length"),
        (lambda: telemetron.log_scatter("s", [float("inf")], [1.0], step=0),
         "invalid xs"),
        (lambda: telemetron.log_scatter("loss", [1.0], [1.0], step=0),
         "loss holds float values; it cannot take scatter"),
    ],
)  # fmt: skip
def test_bad_histograms_and_scatters_raise(
    records: Records, call: Callable[[], None], message: str
) -> None:
    telemetron.log("loss", 1.0)
    with pytest.raises(telemetron.ValidationError, match=message):
        call()
    telemetron.log("loss", 2.0)
    assert [r["steps"] for r in records() if r["kind"] == "metric"] == [[0], [1]]


def test_a_histogram_needs_counts_or_densities() -> None:
    with pytest.raises(TypeError, match="exactly one"):
        telemetron.Histogram([0.0, 1.0])
