"""Hostile and careless input never takes the job down: each case found by fuzzing gets a
typed error naming the problem, and nothing else is lost (issue 12's F1, F2, F3, F7, ranges,
label values, flattening, message size)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import telemetron
from conftest import run_python

Records = Callable[[], list[dict[str, Any]]]


class ForgedArray:
    """Claims memory it does not have."""

    def __init__(self, pointer: int, shape: tuple[int, ...], strides: Any = None) -> None:
        self.__array_interface__ = {
            "version": 3,
            "typestr": "<f4",
            "shape": shape,
            "strides": strides,
            "data": (pointer, True),
        }


def cyclic() -> dict[str, Any]:
    a: dict[str, Any] = {}
    a["a"] = a
    return a


def deep(levels: int) -> dict[str, Any]:
    d: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        d = {"d": d}
    return d


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (cyclic(), r"the dict at \"a\" contains itself"),
        (deep(20_000), "nested deeper than 64 levels"),
        ({"": {"b": 1}}, "an empty key at the top level"),
        ({"a": {"": 2}}, 'an empty key at "a"'),
        ({"a/b": 1, "a": {"b": 2}}, '"a/b" is given twice'),
    ],
)
def test_attributes_that_cannot_be_flattened_are_refused(
    records: Records, attributes: dict[str, Any], message: str
) -> None:
    rec = telemetron.get_recorder()
    with pytest.raises(telemetron.ValidationError, match=message):
        rec.event(None, "bad", attributes)
    with pytest.raises(telemetron.ValidationError, match=message):
        with telemetron.timed_span("bad", span_attributes=attributes):
            pass
    rec.event(None, "ok", deep(63))
    events = [r for r in records() if r["kind"] == "event"]
    assert [e["name"] for e in events] == ["ok"]
    assert list(events[0]["attributes"]) == ["/".join(["d"] * 63 + ["leaf"])]


def test_a_huge_broadcast_view_is_refused_without_allocating(out: Path) -> None:
    huge = np.broadcast_to(np.zeros(1, np.float32), (1 << 31,))
    with pytest.raises(telemetron.ValidationError, match="max_values_per_call"):
        telemetron.log("m", huge)
    with pytest.raises(telemetron.ValidationError, match="max_values_per_call"):
        telemetron.log_rl_environment_step("r", np.broadcast_to(np.zeros((1, 1)), (4, 1 << 30)),
                                           0, episode=0, env_id=["a", "b", "c", "d"])  # fmt: skip
    telemetron.log("m", np.zeros(3, np.float32))  # the series still works


def test_max_values_per_call_is_a_setting(tmp_path: Path) -> None:
    telemetron.configure(exporters=[], max_values_per_call=10)
    telemetron.log("m", np.zeros(10))
    with pytest.raises(telemetron.ValidationError, match="11 values in one call"):
        telemetron.log("m", np.zeros(11))


@pytest.mark.parametrize(
    ("forged", "message"),
    [
        (ForgedArray(0, (4,)), "points at address 0"),
        (ForgedArray(4096, (1 << 62,)), "max_values_per_call|more bytes than memory"),
        (ForgedArray(4096, (3,), strides=(1 << 62,)), "strides that reach past"),
        (ForgedArray(4096, (-1,)), "malformed"),
    ],
)
def test_forged_array_interfaces_are_refused_before_memory_is_touched(
    out: Path, forged: ForgedArray, message: str
) -> None:
    with pytest.raises(telemetron.ValidationError, match=message):
        telemetron.log("m", forged)


def test_forged_frames_are_refused_before_memory_is_touched(tmp_path: Path) -> None:
    telemetron.configure(exporters=[], rendering_output_dir=str(tmp_path))
    frame = ForgedArray(0, (64, 64, 3))
    frame.__array_interface__["typestr"] = "|u1"
    with pytest.raises(telemetron.ValidationError, match="address 0"):
        telemetron.log_rendering(frame, 0, 0)


def test_no_panic_exception_reaches_python(tmp_path: Path) -> None:
    """A forged interface used to end in `PanicException: capacity overflow` and a Rust
    backtrace on stderr; now nothing Rust prints reaches the user."""
    result = run_python(
        """
        import telemetron
        class Forged:
            __array_interface__ = {"version": 3, "typestr": "<f8", "shape": (1 << 62,),
                                   "strides": None, "data": (4096, True)}
        telemetron.configure(exporters=[])
        for call in (lambda: telemetron.log("m", Forged()),
                     lambda: telemetron.log_rl_environment_step("r", Forged(), 0, episode=0)):
            try:
                call()
            except telemetron.TelemetronError as exc:
                print(type(exc).__name__)
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "panicked" not in result.stderr and "PanicException" not in result.stdout
    assert result.stdout.split() == ["ValidationError", "ValidationError"]


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32", "float32"])
@pytest.mark.parametrize(
    "value", [np.float32(1.0), np.array([1.0, 2.0], np.float32), np.array([3.0], np.float16)]
)
def test_any_valid_dtype_request_converts(records: Records, value: Any, dtype: str) -> None:
    telemetron.log("m", value, dtype=dtype)
    (metric,) = [r for r in records() if r["kind"] == "metric"]
    assert metric["values"] == np.asarray(value, dtype=np.float64).reshape(-1).tolist()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: telemetron.log("m", 1.0, step=-1), "invalid step: -1 is negative"),
        (lambda: telemetron.log("m", 1.0, step=2**63), "invalid step"),
        (lambda: telemetron.log("m", 1.0, timestamp=-5), "timestamp: -5 is negative"),
        (lambda: telemetron.log("m", 1.0, timestamp=1_700_000_000_000_000_000),
         "looks like micro- or nanoseconds"),
        (lambda: telemetron.log_rl_environment_step("r", 1.0, -1, episode=0),
         "invalid rl_step: -1 is negative"),
        (lambda: telemetron.log_rl_environment_step("r", 1.0, 2**63, episode=0),
         "invalid rl_step: 9223372036854775808 is not below 2\\*\\*63"),
        (lambda: telemetron.log_rl_environment_step("r", 1.0, 0, episode=-2),
         "invalid episode: -2 is negative"),
        (lambda: telemetron.log_rl_environment_step("r", 1.0, 0, episode=0, env_step=-1),
         "invalid env_step: -1 is negative"),
        (lambda: telemetron.log_rl_episode("e", 1.0, -3), "invalid rl_step"),
        (lambda: telemetron.log_histogram("h", ([1], [0.0, 1.0]), 2**63), "invalid step"),
        (lambda: telemetron.log_scatter("s", [1.0], [2.0], -1), "invalid step"),
        (lambda: telemetron.log_env_attributes("env", {"a": 1}, episode=-1), "invalid episode"),
        (lambda: telemetron.log_rendering(np.zeros((2, 2, 3), np.uint8), -1, 0),
         "invalid rl_step"),
        (lambda: telemetron.log_rendering(np.zeros((2, 2, 3), np.uint8), 0, 2**63),
         "invalid episode"),
    ],
)  # fmt: skip
def test_one_range_check_for_every_step_episode_and_timestamp(
    records: Records, call: Callable[[], None], message: str
) -> None:
    with pytest.raises(telemetron.ValidationError, match=message):
        call()
    telemetron.get_recorder().event(None, "after")
    assert [r["kind"] for r in records()] == ["event"], "the refused call recorded nothing"


@pytest.mark.parametrize("bad", [object(), None, 3, 1.5, b"x"])
def test_label_values_must_be_str(records: Records, bad: Any) -> None:
    with pytest.raises(telemetron.ValidationError, match='the value of "k" is a .*, not a str'):
        telemetron.log("m", 1.0, labels={"k": bad})
    telemetron.get_recorder().event(None, "after")
    assert [r["kind"] for r in records()] == ["event"], "the refused call recorded nothing"


@pytest.mark.parametrize(
    "call",
    [
        lambda name: telemetron.log(name, 1.0),
        lambda name: telemetron.log("m", 1.0, labels={name: "v"}),
        lambda name: telemetron.log_config({name: 1}),
        lambda name: telemetron.log_rl_environment_step("r", 1.0, 0, episode=0, env_id=name),
        lambda name: telemetron.log_env_attributes(name, {"a": 1}),
    ],
)
def test_a_100_mb_name_gets_a_short_message(out: Path, call: Callable[[str], None]) -> None:
    name = "n" * 100_000_000
    with pytest.raises(telemetron.ValidationError) as caught:
        call(name)
    message = str(caught.value)
    assert len(message) < 400 and re.search(r"1000000\d\d bytes", message), message


@pytest.mark.parametrize(
    "call",
    [
        lambda bad: telemetron.log(bad, 1.0),
        lambda bad: telemetron.log_config({bad: 1}),
        lambda bad: telemetron.log_rl_environment_step("r", 1.0, 0, episode=0, env_id=bad),
        lambda bad: telemetron.log_env_attributes(bad, {"a": 1}),
        lambda bad: telemetron.log_rendering(np.zeros((2, 2, 3), np.uint8), 0, 0, env_id=bad),
    ],
)
@pytest.mark.parametrize("bad", ["../etc", "a/../b", "a\\b"])
def test_path_traversal_is_refused_by_every_call(
    tmp_path: Path, call: Callable[[str], None], bad: str
) -> None:
    telemetron.configure(exporters=[], rendering_output_dir=str(tmp_path))
    with pytest.raises(telemetron.ValidationError, match=r"'\.\.'|'\\'|may only contain"):
        call(bad)
