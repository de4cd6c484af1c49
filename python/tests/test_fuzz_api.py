"""Property-based fuzzing of the Python API (hypothesis): whatever a caller passes, a call
either records or raises one of the documented errors, never crashes the process, never
raises anything else, and never leaves the runtime unusable. `make test` runs a fixed
example budget; `make fuzz` raises it (TELEMETRON_FUZZ_EXAMPLES)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import telemetron

EXAMPLES = int(os.environ.get("TELEMETRON_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=EXAMPLES <= 150,  # make test: the same examples every run
)

# What a documented refusal looks like: a Telemetron error, or TypeError for a wrong type.
REFUSALS = (telemetron.TelemetronError, TypeError)

names = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["loss", "train/loss", "a//b", "../x", "a\\b", "", " ", "x" * 300]),
)
scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
)


def _array(dtype: str, values: list[float]) -> Any:
    with np.errstate(over="ignore", invalid="ignore"):  # the cast's overflow is the input
        return np.asarray(values).astype(dtype, copy=False)


arrays = st.builds(
    _array,
    st.sampled_from(["float16", "float32", "float64", "int8", "int32", "int64", "uint64", "bool"]),
    st.lists(st.floats(-1e6, 1e6), max_size=8),
)
values = st.one_of(scalars, arrays, st.lists(scalars, max_size=4))
steps = st.one_of(st.none(), st.integers(-5, 2**64), st.lists(st.integers(-2, 2**63), max_size=4))
labels = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=6), st.one_of(st.text(max_size=6), scalars), max_size=3),
)
attribute_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        scalars, st.lists(st.integers(), max_size=3), st.lists(st.text(max_size=3), max_size=3)
    ),
    lambda inner: st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("fuzz") / "run.jsonl"
    telemetron.configure(exporters=[{"type": "file", "path": str(path)}], reconfigure=True)
    yield path
    report = telemetron.shutdown()
    assert report is not None and report["undelivered"] == [], report


def still_works() -> None:
    telemetron.log("fuzz/canary", 1.0)


@FUZZ
@given(name=names, value=values, step=steps, labels=labels,
       timestamp=st.one_of(st.none(), st.integers(-1, 2**63)),
       dtype=st.sampled_from([None, "float32", "float64", "int32", "int64", "int8"]))  # fmt: skip
def test_log(fuzz_runtime: Any, name: str, value: Any, step: Any, labels: Any, timestamp: Any,
             dtype: Any) -> None:  # fmt: skip
    try:
        telemetron.log_distributed(name, value, step=step if step is not None else 0,
                                   labels=labels, timestamp=timestamp, dtype=dtype)  # fmt: skip
    except REFUSALS:
        pass
    still_works()


@FUZZ
@given(mapping=st.dictionaries(names, values, max_size=4))
def test_log_mapping_is_all_or_nothing(fuzz_runtime: Any, mapping: dict[str, Any]) -> None:
    before = telemetron.metrics(verbose=True)["runtime"]["metric"]["enqueued"]
    try:
        telemetron.log_distributed(mapping, step=1)
    except REFUSALS:
        after = telemetron.metrics(verbose=True)["runtime"]["metric"]["enqueued"]
        assert after == before, "a refused mapping recorded some of its series"
    still_works()


@FUZZ
@given(attributes=st.dictionaries(st.text(max_size=5), attribute_values, max_size=4),
       name=names)  # fmt: skip
def test_span_attributes(fuzz_runtime: Any, attributes: dict[str, Any], name: str) -> None:
    try:
        with telemetron.timed_span(name or "s", span_attributes=attributes):
            pass
    except REFUSALS:
        pass
    still_works()


@FUZZ
@given(values=st.one_of(scalars, arrays, st.lists(st.lists(st.floats(), max_size=3), max_size=3)),
       rl_step=st.integers(-3, 2**64), episode=st.one_of(st.none(), st.integers(-2, 2**63),
       st.lists(st.integers(-1, 5), max_size=3)),
       env_id=st.one_of(st.none(), names, st.lists(names, max_size=3)))  # fmt: skip
def test_rl(fuzz_runtime: Any, values: Any, rl_step: int, episode: Any, env_id: Any) -> None:
    try:
        telemetron.log_rl_environment_step("fuzz/rl", values, rl_step, episode=episode,
                                           env_id=env_id)  # fmt: skip
    except REFUSALS:
        pass
    still_works()


@FUZZ
@given(edges=st.lists(st.floats(), max_size=6), counts=st.lists(st.integers(-2, 2**40), max_size=6),
       step=st.integers(-1, 2**64))  # fmt: skip
def test_histogram(fuzz_runtime: Any, edges: list[float], counts: list[int], step: int) -> None:
    try:
        telemetron.log_histogram("fuzz/h", (counts, edges), step)
    except REFUSALS:
        pass
    still_works()


@FUZZ
@given(config=st.dictionaries(st.text(max_size=5), attribute_values, max_size=4))
def test_config(fuzz_runtime: Any, config: dict[str, Any]) -> None:
    try:
        telemetron.log_config(config)
    except REFUSALS:
        pass
    still_works()


def test_the_canary_arrived(fuzz_runtime: Path) -> None:
    telemetron.flush()
    assert math.isfinite(telemetron.metrics()["runtime"]["metric"]["sent"])
