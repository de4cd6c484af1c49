"""Metric logging from Python: every value form (scalars, lists, NumPy arrays of any float or int
dtype, strided views, tensor-like objects) round-trips with exact values, steps, labels and
timestamps; bad input raises ValidationError naming the argument and loses nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import telemetron

Records = Callable[[], list[dict[str, Any]]]


def series(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Metric rows; float32 columns are read back as float32, as the file format says."""
    return [
        (r["name"], r["labels"], r["steps"], values(r), r["timestamps_ms"])
        for r in records
        if r["kind"] == "metric"
    ]


def values(r: dict[str, Any]) -> list[float]:
    if r["precision"] == "f32":
        return [float(np.float32(v)) for v in r["values"]]
    return list(r["values"])


def f32(v: float) -> float:
    return float(np.float32(v))


class TensorLike:
    """Like a CPU torch tensor: no __array_interface__, only __array__."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.a


def test_values_steps_labels_and_timestamps_round_trip(records: Records) -> None:
    telemetron.log("loss", 0.1)  # python float → float32
    telemetron.log("loss", [0.2, 0.3], timestamp=1_700_000_000_000)
    telemetron.log("loss", np.array([0.4, 0.5], dtype=np.float64)[::-1], timestamp=[5, 6])
    telemetron.log("loss", np.array([1.5], dtype=np.float16))
    telemetron.log("count", np.arange(3, dtype=np.int64) * (2**40), step=100)
    telemetron.log("count", 7, step=[200])
    telemetron.log("acc", TensorLike(np.array([0.75], dtype=np.float32)), evaluation=True)
    telemetron.log({"lr": 3e-4, "grad_norm": 1.25}, step=np.int64(9), labels={"layer": "3"})
    telemetron.log("exact", 0.1, dtype="float64")
    telemetron.log("truncated", [2.9, -2.9], dtype="int32")
    assert telemetron.get_last_step("loss") == 5
    assert telemetron.get_last_step("acc", labels={"evaluation": "true"}) == 0
    assert telemetron.get_last_step("lr", labels={"layer": "3"}) == 9
    assert telemetron.get_last_step("never") is None
    assert series(records()) == [
        ("loss", {}, [0], [f32(0.1)], None),
        ("loss", {}, [1, 2], [f32(0.2), f32(0.3)], 1_700_000_000_000),
        ("loss", {}, [3, 4], [0.5, f32(0.4)], [5, 6]),
        ("loss", {}, [5], [1.5], None),
        ("count", {}, [100, 101, 102], [0.0, 2.0**40, 2.0**41], None),
        ("count", {}, [200], [7.0], None),
        ("acc", {"evaluation": "true"}, [0], [0.75], None),
        ("lr", {"layer": "3"}, [9], [f32(3e-4)], None),
        ("grad_norm", {"layer": "3"}, [9], [1.25], None),
        ("exact", {}, [0], [0.1], None),
        ("truncated", {}, [0, 1], [2.0, -2.0], None),
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: telemetron.log("loss", float("nan")), "invalid value: value #0 .* is NaN"),
        (lambda: telemetron.log("loss", np.array([1.0, np.inf])), "value #1 .* is inf"),
        (lambda: telemetron.log("loss", np.array(["a"])), "dtype <U1 is not a float or integer"),
        (lambda: telemetron.log("loss", np.zeros((2, 2))), r"shape \[2, 2\]"),
        (lambda: telemetron.log("loss", ["x"]), "item #0 is a str"),
        (lambda: telemetron.log("loss", object()), "dtype object is not a float or integer"),
        (lambda: telemetron.log("loss", [1.0, 2.0], step=[5]), "1 steps for 2 values"),
        (lambda: telemetron.log("loss", 1.0, step=-1), "-1 is negative"),
        (lambda: telemetron.log("loss", 1.0, step=1.5), "steps must be integers"),
        (lambda: telemetron.log("loss", 1.0, step=0), "not after step 0"),
        (lambda: telemetron.log("loss", [1.0], timestamp=[1, 2]), "2 timestamps for 1 values"),
        (lambda: telemetron.log("", 1.0), "invalid metric name"),
        (lambda: telemetron.log("x", 1.0, labels={"bad key": "v"}), "invalid label key"),
        (lambda: telemetron.log("x", 1.0, scale="EPOCH"), "invalid scale"),
        (lambda: telemetron.log("x", 1e10, dtype="int32"), "does not fit int32"),
        (lambda: telemetron.log("x", 1.0, dtype="int8"), "invalid dtype"),
        (lambda: telemetron.log_distributed("loss", 1.0, step=[9]), "cannot be mixed"),
        (lambda: telemetron.log_distributed("shared", 1.0), "needs explicit steps"),
    ],
)
def test_bad_input_raises_naming_the_argument_and_loses_nothing(
    records: Records, call: Callable[[], None], message: str
) -> None:
    telemetron.log("loss", 1.0)  # step 0
    with pytest.raises(telemetron.ValidationError, match=message):
        call()
    telemetron.log("loss", 2.0)
    assert [s[2] for s in series(records()) if s[0] == "loss"] == [[0], [1]]


def test_the_mapping_form_takes_no_value(out: Any) -> None:
    with pytest.raises(TypeError, match="omit value"):
        telemetron.log({"a": 1.0}, 2.0)
    with pytest.raises(TypeError, match="needs a value"):
        telemetron.log("a")
    with pytest.raises(TypeError, match="a metric name is a str .*not int"):
        telemetron.log(5, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a metric name is a str .*not list"):
        telemetron.log_distributed(["a"], 1.0)  # type: ignore[arg-type]


def test_distributed_series_take_steps_in_any_order(records: Records) -> None:
    telemetron.log_distributed("throughput", [3.0, 1.0], step=[20, 10])
    telemetron.log_distributed("throughput", 2.0, step=15)
    got = [(s[2], s[3]) for s in series(records())]
    assert got == [([20, 10], [3.0, 1.0]), ([15], [2.0])]


def test_python_exporters_receive_metric_columns() -> None:
    telemetron.configure(exporters=[CollectMetrics])
    telemetron.log("loss", [0.5, 0.25], labels={"split": "train"})
    telemetron.shutdown()
    (m,) = CollectMetrics.seen
    assert (m["name"], m["labels"], m["steps"], m["values"]) == (
        "loss",
        {"split": "train"},
        [0, 1],
        [0.5, 0.25],
    )


class CollectMetrics(telemetron.Exporter):
    seen: list[dict[str, Any]] = []

    def export_metric(self, points: dict[str, Any]) -> None:
        CollectMetrics.seen.append(points)
