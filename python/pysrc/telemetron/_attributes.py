"""Run attributes with Metrana's names: config, free-form attributes, tags, description, and
environment attributes. Nested mappings and sequences flatten to ``/``-separated paths
(``{"optimizer": {"lr": 3e-4}}`` → ``config/optimizer/lr``; list items by index)."""

from __future__ import annotations

from telemetron import _runtime as _runtime_module
from telemetron._runtime import get_runtime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

TAGS = "sys/tags"
DESCRIPTION = "sys/description"


def _flatten(prefix: str, value: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, dict):
        if not value and prefix:
            return
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"attribute keys must be str, got {type(key).__name__} in {prefix!r}"
                )
            _flatten(f"{prefix}/{key}" if prefix else key, item, out)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _flatten(f"{prefix}/{i}", item, out)
    else:
        out.append((prefix, value))


def _send(
    updates: list[tuple[str, Any]], env_id: str | None = None, episode: int | None = None
) -> None:
    runtime = _runtime_module._runtime or get_runtime()
    runtime.log_run_attributes(updates, env_id, episode)


def log_config(config: dict[str, Any]) -> None:
    """Records the run's configuration under ``config/...`` (nested keys joined by ``/``)."""
    updates: list[tuple[str, Any]] = []
    _flatten("config", config, updates)
    _send(updates)


def log_attributes(prefix_path: str, value: Any) -> None:
    """Records ``value`` (a scalar, or a nested mapping / sequence) under ``prefix_path``."""
    updates: list[tuple[str, Any]] = []
    _flatten(prefix_path.strip("/"), value, updates)
    _send(updates)


def log_env_attributes(
    env_id: str | int, value: dict[str, Any], episode: int | None = None
) -> None:
    """Records attributes of one environment, or of one of its episodes."""
    updates: list[tuple[str, Any]] = []
    _flatten("", value, updates)
    _send(updates, str(env_id), episode)


def set_tags(tags: Iterable[str]) -> None:
    """Replaces the run's tags."""
    _send([(TAGS, {"set": sorted(set(tags))})])


def add_tags(tags: Iterable[str]) -> None:
    """Adds tags to the run."""
    _send([(TAGS, {"added": sorted(set(tags)), "removed": []})])


def remove_tags(tags: Iterable[str]) -> None:
    """Removes tags from the run."""
    _send([(TAGS, {"added": [], "removed": sorted(set(tags))})])


def set_description(description: str) -> None:
    """Sets the run's description."""
    _send([(DESCRIPTION, description)])
