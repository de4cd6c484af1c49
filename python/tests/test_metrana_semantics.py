"""Metrana's semantics where telemetron used to differ: per-value episodes, the evaluation
label rule, tensors that require grad or live on a device, DLPack producers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import telemetron

Records = Callable[[], list[dict[str, Any]]]


def rl(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["envs"], r["episodes"], r["minor_steps"], r["values"])
        for r in records
        if r["kind"] == "rl_metric"
    ]


def test_episodes_given_per_value_split_each_row_at_its_episode_change(records: Records) -> None:
    rewards = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=np.float32)
    episodes = np.array([[3, 3, 4, 4], [0, 0, 0, 0]])  # env a's episode 3 ends mid-batch
    telemetron.log_rl_environment_step("r", rewards, 0, episode=episodes, env_id=["a", "b"])
    assert telemetron.get_env_last_rl_step_and_episode("a") == (0, 4)
    assert sorted(rl(records())) == [
        (["a"], [3], [0, 1], [1.0, 2.0]),
        (["a"], [4], [0, 1], [3.0, 4.0]),  # a new episode restarts the env-step axis
        (["b"], [0], [0, 1, 2, 3], [5.0, 6.0, 7.0, 8.0]),
    ]


def test_a_row_of_one_episode_stays_one_call(records: Records) -> None:
    episodes = np.array([[2, 2], [5, 5]])
    telemetron.log_rl_environment_step("r", [[1.0, 2.0], [3.0, 4.0]], 0, episode=episodes,
                                       env_id=["a", "b"])  # fmt: skip
    assert rl(records()) == [(["a", "b"], [2, 5], [0, 1, 0, 1], [1.0, 2.0, 3.0, 4.0])]


def test_explicit_env_steps_for_one_env_as_metranas_readme(records: Records) -> None:
    telemetron.log_rl_environment_step("r", [0.1, 0.3], 0, episode=7, env_step=[12, 13])
    ((envs, episodes, steps, _),) = rl(records())
    assert (envs, episodes, steps) == (["default"], [7], [12, 13])


def test_evaluation_adds_its_label_unless_the_caller_set_one(records: Records) -> None:
    telemetron.log("acc", 1.0, evaluation=True)
    telemetron.log("loss", 2.0, evaluation=False)
    telemetron.log("f1", 3.0, labels={"evaluation": "holdout"}, evaluation=True)
    telemetron.log("f1", 4.0, labels={"split": "a"}, evaluation=True)
    labels = [(r["name"], r["labels"]) for r in records() if r["kind"] == "metric"]
    assert labels == [
        ("acc", {"evaluation": "true"}),
        ("loss", {"evaluation": "false"}),
        ("f1", {"evaluation": "holdout"}),  # the caller's label wins
        ("f1", {"evaluation": "true", "split": "a"}),  # merged, not replaced
    ]


class FakeTensor:
    """Duck-types a torch tensor: `numpy()` refuses while it requires grad or lives on a
    GPU, as torch does."""

    def __init__(self, data: np.ndarray, device: str = "cuda:0", requires_grad: bool = True):
        self.data, self.device, self.requires_grad = data, device, requires_grad
        self.dtype = "torch.float32"

    def detach(self) -> FakeTensor:
        return FakeTensor(self.data, self.device, requires_grad=False)

    def cpu(self) -> FakeTensor:
        return FakeTensor(self.data, "cpu", self.requires_grad)

    def numpy(self) -> np.ndarray:
        if self.requires_grad or self.device != "cpu":
            raise RuntimeError("Can't call numpy() on Tensor that requires grad / is on cuda")
        return self.data


class DLPackOnly:
    """A DLPack producer with no __array__ / __array_interface__."""

    def __init__(self, data: np.ndarray) -> None:
        self._data = data

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()


def test_tensors_on_a_device_that_require_grad_are_detached_and_copied(records: Records) -> None:
    telemetron.log("loss", FakeTensor(np.array([0.5, 0.25], np.float32)))
    telemetron.log("grad", FakeTensor(np.array(2.0, np.float32)))  # 0-d, like loss.item() source
    telemetron.log("dl", DLPackOnly(np.array([1.0, 2.0, 3.0])))
    telemetron.log_rl_environment_step("r", FakeTensor(np.ones((2, 3), np.float32)), 0,
                                       episode=0, env_id=["a", "b"])  # fmt: skip
    out = records()
    values = {r["name"]: r["values"] for r in out if r["kind"] == "metric"}
    assert values == {"loss": [0.5, 0.25], "grad": [2.0], "dl": [1.0, 2.0, 3.0]}
    assert rl(out)[0][3] == [1.0] * 6
