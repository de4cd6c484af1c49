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
    from collections.abc import Mapping
    from typing import Any

    Labels = Mapping[str, Any] | None

DEFAULT_ENV = "default"  # Metrana's env id when none is given
_REQUIRED: Any = object()


def _env_ids(env_id: Any) -> tuple[list[str], bool]:
    """The environment ids and whether the call is vectorized."""
    if env_id is None:
        return [DEFAULT_ENV], False
    if isinstance(env_id, (str, int)):
        return [str(env_id)], False
    return [str(e) for e in env_id], True


def _per_env(value: Any, m: int, vectorized: bool) -> tuple[Any, int]:
    """Values as one row-major 1-D column and the count per environment."""
    if not vectorized:
        if isinstance(value, (int, float)):
            return value, 1
        import numpy as np

        array = np.asarray(value)
        if array.ndim > 1:
            raise _invalid("value", f"must be a scalar or 1-D for one env, got {list(array.shape)}")
        return array.reshape(-1), max(array.size, 1)
    import numpy as np

    array = np.asarray(value)
    if array.ndim == 1 and array.shape[0] == m:
        return array, 1
    if array.ndim == 2 and array.shape[0] == m:
        return np.ascontiguousarray(array).reshape(-1), array.shape[1]
    raise _invalid(
        "value", f"must be [{m}] or [{m}, T] for {m} environments, got {list(array.shape)}"
    )


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
    if array.ndim == 1 and array.shape[0] == m:
        return "per_env", [int(v) for v in array.tolist()]
    if array.ndim == 2 and array.shape == (m, per_env):
        return "each", [int(v) for v in array.reshape(-1).tolist()]
    shape = list(array.shape)
    raise _invalid(what, f"expected a scalar, [{m}] or [{m}, {per_env}], got shape {shape}")


def log_rl_environment_step(
    metric_name: str,
    value: Any,
    rl_step: int,
    *,
    episode: Any = _REQUIRED,
    evaluation: bool | None = None,
    env_step: Any = None,
    auto_start_from_one: bool = False,
    env_id: Any = None,
    labels: Labels = None,
    timestamp: Any = None,
    dtype: str | None = None,
) -> None:
    """Values of one or several environments at ``rl_step`` (scale ``ENVIRONMENT_STEP``).

    ``episode`` is required (pass ``None`` for a non-episodic series; the first call pins it).
    ``env_step=None`` continues each environment's step axis, restarting at 0 (1 with
    ``auto_start_from_one``) when its episode changes; a scalar or ``[M]`` gives each
    environment's first step, ``[M, T]`` every step. ``rl_step`` must not decrease.
    """
    if episode is _REQUIRED:
        raise TypeError("log_rl_environment_step() needs episode= (None for a non-episodic series)")
    envs, vectorized = _env_ids(env_id)
    m = len(envs)
    values, per_env = _per_env(value, m, vectorized)
    form, episodes = _broadcast_ints("episode", episode, m, per_env)
    if form == "each":
        raise _invalid("episode", "one episode per environment ([M]), not per value")
    step_form, steps = _broadcast_ints("env_step", env_step, m, per_env)
    mode = {"none": "auto", "scalar": "start", "per_env": "start", "each": "each"}[step_form]
    ts_form, ts = _broadcast_ints("timestamp", timestamp, m, per_env)
    if ts_form == "per_env" and ts is not None:
        ts = [t for t in ts for _ in range(per_env)]
    stamps: Any = timestamp if ts_form in ("none", "scalar") else ts
    runtime = _runtime_module._runtime or get_runtime()
    per_env_episodes: list[int | None] = [None] * m if episodes is None else list(episodes)
    runtime.log_rl_environment_step(
        metric_name, values, per_env, rl_step, envs,
        per_env_episodes, mode, steps, auto_start_from_one,
        None if labels is None else dict(labels), evaluation, stamps, dtype,
    )  # fmt: skip


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


def get_env_last_rl_step_and_episode(env_id: Any = None) -> tuple[int, int | None] | None:
    """``(last rl_step, last episode)`` of an environment, or None if it never logged."""
    runtime = _runtime_module._runtime or get_runtime()
    env = DEFAULT_ENV if env_id is None else str(env_id)
    return runtime.env_last_rl_step_and_episode(env)
