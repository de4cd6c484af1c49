"""RL series: vectorized environment steps with episode resets, explicit env steps, episodes
counted per environment, env cursors; bad input raises naming the argument and loses
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import telemetron

Records = Callable[[], list[dict[str, Any]]]


def rl(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["name"], r["rl_step"], r["envs"], r["episodes"], r["minor_steps"], r["values"])
        for r in records
        if r["kind"] == "rl_metric"
    ]


def test_environment_steps_continue_and_reset_on_a_new_episode(records: Records) -> None:
    two = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
    telemetron.log_rl_environment_step("reward", two, 0, episode=[0, 0], env_id=["a", "b"])
    telemetron.log_rl_environment_step("reward", [7.0, 8.0], 1, episode=[0, 1], env_id=["a", "b"])
    telemetron.log_rl_environment_step("reward", 9.0, 2, episode=1, env_id="b")
    telemetron.log_rl_environment_step(
        "reward", [[1.0, 2.0]], 3, episode=[2], env_id=["b"], env_step=[[10, 20]]
    )
    telemetron.log_rl_environment_step("q", 0.5, 0, episode=None, env_step=5)  # default env
    telemetron.log_rl_environment_step(
        "len", [1.0], 0, episode=4, env_id="c", auto_start_from_one=True
    )
    assert telemetron.get_env_last_rl_step_and_episode("b") == (3, 2)
    assert telemetron.get_env_last_rl_step_and_episode() == (0, None)
    assert telemetron.get_env_last_rl_step_and_episode("never") == (None, None)
    assert rl(records()) == [
        ("reward", 0, ["a", "b"], [0, 0], [0, 1, 2, 0, 1, 2], [1, 2, 3, 4, 5, 6]),
        ("reward", 1, ["a", "b"], [0, 1], [3, 0], [7, 8]),
        ("reward", 2, ["b"], [1], [1], [9]),
        ("reward", 3, ["b"], [2], [10, 20], [1, 2]),
        ("q", 0, ["default"], [None], [5], [0.5]),
        ("len", 0, ["c"], [4], [1], [1]),
    ]


def test_episodes_count_per_environment_unless_given(records: Records) -> None:
    telemetron.log_rl_episode("return", [10.0, 20.0], 1, env_id=[0, 1])
    telemetron.log_rl_episode("return", [11.0, 21.0], 2, env_id=[0, 1])
    telemetron.log_rl_episode("score", 5.0, 3, episode=42, env_id=7)
    written = records()
    got = [(r[0], r[3], r[5]) for r in rl(written)]
    assert got == [
        ("return", [0, 0], [10, 20]),
        ("return", [1, 1], [11, 21]),
        ("score", [42], [5]),
    ]
    orderings = [(r["name"], r["ordering"]) for r in written if r["kind"] == "rl_metric"]
    assert orderings == [("return", "ordered")] * 2 + [("score", "unordered")]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: telemetron.log_rl_environment_step("reward", 1.0, 4, episode=0, env_id="a"),
         "rl_step 4 .* is before its last rl_step 5"),
        (lambda: telemetron.log_rl_environment_step("reward", 1.0, 6, episode=None, env_id="a"),
         "is episodic; the first call pins it"),
        (lambda: telemetron.log_rl_environment_step("reward", [1.0, 2.0], 6, episode=0,
                                                    env_id=["a", "a"]), "appears twice"),
        (lambda: telemetron.log_rl_environment_step("reward", np.zeros((2, 3)), 6, episode=0,
                                                    env_id=["a", "b", "c"]), r"must be \[3\]"),
        (lambda: telemetron.log_rl_environment_step("reward", float("nan"), 6, episode=0,
                                                    env_id="a"), "values must be finite"),
        (lambda: telemetron.log_rl_environment_step("reward", 1.0, 6, episode=0, env_id="a",
                                                    env_step=0), "must increase within episode"),
        (lambda: telemetron.log_rl_environment_step("other", 1.0, 0, episode=None,
                                                    auto_start_from_one=True),
         "needs an episodic series"),
        (lambda: telemetron.log_rl_episode("ret", [1.0, 2.0], 0, env_id=["a"]), r"must be \[1\]"),
    ],
)  # fmt: skip
def test_bad_rl_input_raises_and_loses_nothing(
    records: Records, call: Callable[[], None], message: str
) -> None:
    telemetron.log_rl_environment_step("reward", [1.0, 2.0], 5, episode=0, env_id="a")
    with pytest.raises(telemetron.ValidationError, match=message):
        call()
    telemetron.log_rl_environment_step("reward", 3.0, 5, episode=0, env_id="a")
    assert [r[4] for r in rl(records())] == [[0, 1], [2]]


def test_without_episode_each_env_continues_its_current_episode(records: Any) -> None:
    log = telemetron.log_rl_environment_step
    log("reward", [1.0, 2.0], 0, env_id=["a", "b"])  # no episode yet: 0
    log("reward", [3.0, 4.0], 1, episode=[0, 5], env_id=["a", "b"])
    log("reward", [5.0, 6.0], 2, env_id=["a", "b"])  # continues 0 and 5
    # Metrana 0.2.1's positional order: (name, value, rl_step, evaluation, env_step, episode)
    log("reward", 7.0, 3, None, None, 6, "b")
    log("flat", 1.0, 0, episode=None)  # explicitly non-episodic
    log("flat", 2.0, 1)  # stays non-episodic
    assert [(r[0], r[1], r[3]) for r in rl(records())] == [
        ("reward", 0, [0, 0]),
        ("reward", 1, [0, 5]),
        ("reward", 2, [0, 5]),
        ("reward", 3, [6]),
        ("flat", 0, [None]),
        ("flat", 1, [None]),
    ]


def test_the_environment_list_is_read_again_when_its_contents_change(records: Records) -> None:
    """The runtime keeps the last environment list it checked; a list changed in place, a
    tuple, ints and a generator are each read for what they hold now."""
    envs: list[Any] = ["a", "b"]
    log = telemetron.log_rl_environment_step
    log("reward", [1.0, 2.0], 0, episode=None, env_id=envs)
    envs[1] = "c"  # same list object, new contents
    log("reward", [3.0, 4.0], 1, episode=None, env_id=envs)
    log("reward", [5.0, 6.0], 2, episode=None, env_id=("a", "c"))
    log("reward", [7.0, 8.0], 3, episode=None, env_id=[1, "c"])
    log("reward", [9.0, 10.0], 4, episode=None, env_id=(e for e in ["a", "b"]))
    envs[0] = "c"  # now twice: refused although the list object is the kept one
    with pytest.raises(telemetron.ValidationError, match="appears twice"):
        log("reward", [0.0, 0.0], 5, episode=None, env_id=envs)
    assert [(r[1], r[2], r[4]) for r in rl(records())] == [
        (0, ["a", "b"], [0, 0]),
        (1, ["a", "c"], [1, 0]),
        (2, ["a", "c"], [2, 1]),
        (3, ["1", "c"], [0, 2]),
        (4, ["a", "b"], [3, 1]),
    ]
