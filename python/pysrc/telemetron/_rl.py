"""Metrana's RL helpers: ``log_rl_environment_step`` (vectorized over environments),
``log_rl_episode`` and ``get_env_last_rl_step_and_episode``.

With ``env_id=[...]`` (M environments) ``value`` is ``[M]`` (one value each) or ``[M, T]`` (T
environment steps each); ``episode``, ``env_step`` and ``timestamp`` broadcast from a scalar,
``[M]`` or ``[M, T]``. Values are never broadcast across environments.
"""

from __future__ import annotations

from telemetron import _runtime as _runtime_module
from telemetron._runtime import get_runtime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from telemetron._native import Runtime

    Labels = Mapping[str, Any] | None

DEFAULT_ENV = "default"  # Metrana's env id when none is given


class _Current:
    """``episode`` not given: each environment's current episode (0 before its first)."""

    def __repr__(self) -> str:
        return "<current episode>"


CURRENT_EPISODE: Any = _Current()


def _env_ids(env_id: Any) -> tuple[Sequence[Any], bool]:
    """The environment ids and whether the call is vectorized. A list or tuple goes to the
    runtime as it is: it converts items that are not ``str`` with ``str()``, and keeps the last
    list it checked, so the same environments call after call cost no conversion here."""
    if env_id is None:
        return [DEFAULT_ENV], False
    if isinstance(env_id, (str, int)):
        return [str(env_id)], False
    if type(env_id) in (list, tuple):
        return env_id, True
    return list(env_id), True


def _max_values() -> int:
    from telemetron._native import max_values_per_call

    return max_values_per_call()


def _per_env(value: Any, m: int, vectorized: bool) -> tuple[Any, int]:
    """Values as one row-major 1-D column and the count per environment."""
    if isinstance(value, (int, float)):
        if vectorized and m != 1:
            raise _invalid("value", f"must be [{m}] or [{m}, T] for {m} environments, got a scalar")
        return value, 1
    import numpy as np

    array = value if type(value) is np.ndarray else _as_array(value)
    if array.size > _max_values():  # before NumPy copies anything
        raise _invalid(
            "value",
            f"{array.size} values in one call; at most max_values_per_call = {_max_values()}",
        )
    if not vectorized:
        if array.ndim > 1:
            raise _invalid("value", f"must be a scalar or 1-D for one env, got {list(array.shape)}")
        return array.reshape(-1), max(array.size, 1)
    if array.ndim == 1 and array.shape[0] == m:
        return array, 1
    if array.ndim == 2 and array.shape[0] == m:
        return np.ascontiguousarray(array).reshape(-1), array.shape[1]
    raise _invalid(
        "value", f"must be [{m}] or [{m}, T] for {m} environments, got {list(array.shape)}"
    )


def _as_array(value: Any) -> Any:
    """A value that is not a NumPy array (a tensor, a list) as one."""
    from telemetron._tensors import to_array

    try:
        return to_array(value)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is the caller's input
        kind = type(value).__name__
        raise _invalid("value", f"a {kind} is not convertible to an array: {exc}") from None


def _invalid(what: str, message: str) -> Exception:
    from telemetron._native import ValidationError

    return ValidationError(f"invalid {what}: {message}")


def _broadcast_ints(what: str, value: Any, m: int, per_env: int) -> tuple[str, list[int] | None]:
    """``None`` / scalar / ``[M]`` / ``[M, T]`` → (form, flat list)."""
    if value is None:
        return "none", None
    if isinstance(value, int):
        return "scalar", [value] * m
    import numpy as np

    array = np.asarray(value)
    if array.dtype.kind not in "iub":
        raise _invalid(what, f"must be integers, got dtype {array.dtype}")
    if array.ndim == 1 and array.shape[0] == m:
        return "per_env", [int(v) for v in array.tolist()]
    if m == 1 and array.ndim == 1 and array.shape[0] == per_env:
        # One environment: a 1-D sequence of its T values (Metrana's [T] for a single env).
        return "each", [int(v) for v in array.tolist()]
    if array.ndim == 2 and array.shape == (m, per_env):
        return "each", [int(v) for v in array.reshape(-1).tolist()]
    shape = list(array.shape)
    raise _invalid(
        what, f"expected a scalar, [{m}] or [{m}, {per_env}] ([{per_env}] for one env), got {shape}"
    )


def log_rl_environment_step(
    metric_name: str,
    value: Any,
    rl_step: int,
    evaluation: bool | None = None,
    env_step: Any = None,
    episode: Any = CURRENT_EPISODE,
    env_id: Any = None,
    labels: Labels = None,
    timestamp: Any = None,
    dtype: str | None = None,
    *,
    auto_start_from_one: bool = False,
) -> None:
    """Values of one or several environments at ``rl_step`` (scale ``ENVIRONMENT_STEP``).

    Positional order and defaults are Metrana's (``metric_name, value, rl_step, evaluation,
    env_step, episode, env_id, labels, timestamp``); its newer keyword form works too.
    ``episode`` is an environment's episode: a scalar, ``[M]``, or ``[M, T]`` when episodes
    end inside the batch; ``None`` makes (and keeps) the series non-episodic; left out, each
    environment continues its current episode (0 before its first). The first call pins the
    series episodic or not.
    ``env_step=None`` continues each environment's step axis, restarting at 0 (1 with
    ``auto_start_from_one``) when its episode changes; a scalar or ``[M]`` gives each
    (environment, episode) segment's first step, ``[M, T]`` every step. ``rl_step`` must not
    decrease.
    """
    envs, vectorized = _env_ids(env_id)
    m = len(envs)
    values, per_env = _per_env(value, m, vectorized)
    runtime = _runtime_module._runtime or get_runtime()
    label_dict = None if labels is None else dict(labels)
    if episode is CURRENT_EPISODE:
        current = runtime.current_episodes(metric_name, envs, label_dict, evaluation)
        form, episodes = ("none", None) if current is None else ("per_env", current)
    else:
        form, episodes = _broadcast_ints("episode", episode, m, per_env)
    step_form, steps = _broadcast_ints("env_step", env_step, m, per_env)
    ts_form, ts = _broadcast_ints("timestamp", timestamp, m, per_env)
    if form == "each":
        assert episodes is not None
        rows = [episodes[i * per_env : (i + 1) * per_env] for i in range(m)]
        if any(len(set(row)) > 1 for row in rows):
            # An episode ends inside the batch: one call per (environment, episode) segment.
            _log_segments(
                runtime, metric_name, values, per_env, rl_step, envs, rows,
                (step_form, steps), (ts_form, ts, timestamp), auto_start_from_one,
                label_dict, evaluation, dtype,
            )  # fmt: skip
            return
        episodes = [row[0] for row in rows]
    mode = {"none": "auto", "scalar": "start", "per_env": "start", "each": "each"}[step_form]
    if ts_form == "per_env" and ts is not None:
        ts = [t for t in ts for _ in range(per_env)]
    stamps: Any = timestamp if ts_form in ("none", "scalar") else ts
    per_env_episodes: list[int | None] | None = None if episodes is None else list(episodes)
    runtime.log_rl_environment_step(
        metric_name, values, per_env, rl_step, envs,
        per_env_episodes, mode, steps, auto_start_from_one,
        label_dict, evaluation, stamps, dtype,
    )  # fmt: skip


def _log_segments(
    runtime: Runtime,
    metric_name: str,
    values: Any,
    per_env: int,
    rl_step: int,
    envs: Sequence[Any],
    rows: list[list[int]],
    env_steps: tuple[str, list[int] | None],
    stamps: tuple[str, list[int] | None, Any],
    start_from_one: bool,
    labels: dict[str, Any] | None,
    evaluation: bool | None,
    dtype: str | None,
) -> None:
    """Logs each run of equal episodes of each environment's row as its own call."""
    import numpy as np

    flat = np.asarray(values).reshape(-1)
    step_form, steps = env_steps
    ts_form, ts, timestamp = stamps
    for i, (env, row) in enumerate(zip(envs, rows, strict=True)):
        start = 0
        while start < per_env:
            end = start
            while end < per_env and row[end] == row[start]:
                end += 1
            at = slice(i * per_env + start, i * per_env + end)
            if step_form == "none":
                mode, seg_steps = "auto", None
            elif step_form == "each":
                mode, seg_steps = "each", steps[at] if steps else None
            else:  # each segment starts at the environment's given start
                mode, seg_steps = "start", [steps[i]] if steps else None
            if ts_form in ("none", "scalar"):
                seg_ts: Any = timestamp
            elif ts_form == "per_env":
                seg_ts = [ts[i]] * (end - start) if ts else None
            else:
                seg_ts = ts[at] if ts else None
            runtime.log_rl_environment_step(
                metric_name, flat[at], end - start, rl_step, [env],
                [row[start]], mode, seg_steps, start_from_one,
                labels, evaluation, seg_ts, dtype,
            )  # fmt: skip
            start = end


def log_rl_episode(
    metric_name: str,
    value: Any,
    rl_step: int,
    evaluation: bool | None = None,
    episode: Any = None,
    env_id: Any = None,
    labels: Labels = None,
    timestamp: Any = None,
    dtype: str | None = None,
) -> None:
    """One value per environment for an episode (scale ``EPISODE``). ``episode=None``
    continues each environment's episode count (ordered); explicit episodes (scalar or
    ``[M]``) make the series a many-writer one."""
    envs, vectorized = _env_ids(env_id)
    m = len(envs)
    values, per_env = _per_env(value, m, vectorized)
    if per_env != 1:
        raise _invalid("value", f"one value per environment ([{m}])")
    _, episodes = _broadcast_ints("episode", episode, m, 1)
    runtime = _runtime_module._runtime or get_runtime()
    runtime.log_rl_episode(
        metric_name, values, rl_step, envs, episodes, None if labels is None else dict(labels),
        evaluation, timestamp, dtype,
    )  # fmt: skip


def get_env_last_rl_step_and_episode(env_id: Any = None) -> tuple[int | None, int | None]:
    """``(last rl_step, last episode)`` of an environment; ``(None, None)`` if it never logged
    (and was not seeded by a resumed run), ``(rl_step, None)`` for non-episodic series."""
    runtime = _runtime_module._runtime or get_runtime()
    env = DEFAULT_ENV if env_id is None else str(env_id)
    last = runtime.env_last_rl_step_and_episode(env)
    return (None, None) if last is None else last
