"""Run attributes: config flattens to config/... paths, tags are replaced or changed, the
description and environment attributes are recorded; bad values raise and lose nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import telemetron

Records = Callable[[], list[dict[str, Any]]]


def updates(records: list[dict[str, Any]]) -> list[tuple[Any, Any, list[list[Any]]]]:
    return [(r["env_id"], r["episode"], r["updates"]) for r in records if r["kind"] == "attributes"]


def test_config_tags_description_and_env_attributes(records: Records) -> None:
    telemetron.log_config(
        {"optimizer": {"name": "adam", "lr": 3e-4}, "layers": [64, 64], "seed": 1}
    )
    telemetron.log_attributes("git", {"commit": "abc123", "dirty": False})
    telemetron.set_tags(["ppo", "atari", "ppo"])
    telemetron.add_tags(["best"])
    telemetron.remove_tags(["atari"])
    telemetron.set_description("baseline run")
    telemetron.log_env_attributes(3, {"map": "breakout", "difficulty": 2}, episode=7)
    assert updates(records()) == [
        (None, None, [["config/optimizer/name", "adam"], ["config/optimizer/lr", 3e-4],
                      ["config/layers/0", 64], ["config/layers/1", 64], ["config/seed", 1]]),
        (None, None, [["git/commit", "abc123"], ["git/dirty", False]]),
        (None, None, [["sys/tags", {"set": ["atari", "ppo"]}]]),
        (None, None, [["sys/tags", {"added": ["best"], "removed": []}]]),
        (None, None, [["sys/tags", {"added": [], "removed": ["atari"]}]]),
        (None, None, [["sys/description", "baseline run"]]),
        ("3", 7, [["map", "breakout"], ["difficulty", 2]]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: telemetron.log_config({"lr": float("nan")}), telemetron.ValidationError,
         '"config/lr" is NaN'),
        (lambda: telemetron.log_config({"obj": object()}), telemetron.ValidationError,
         "config/obj is a object"),
        (lambda: telemetron.log_config({1: "x"}), TypeError, "keys must be str"),
        (lambda: telemetron.log_attributes("a//b", 1), telemetron.ValidationError,
         "invalid attribute path"),
    ],
)  # fmt: skip
def test_bad_attributes_raise_and_lose_nothing(
    records: Records, call: Callable[[], None], error: type[Exception], message: str
) -> None:
    telemetron.set_description("kept")
    with pytest.raises(error, match=message):
        call()
    telemetron.add_tags(["kept"])
    assert [u[2][0][0] for u in updates(records())] == ["sys/description", "sys/tags"]
