"""Values between OneLogger's model and Telemetron's: times and attributes."""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Later than this is not seconds since the epoch (a mocked clock, a unit mistake).
_MAX_SECS = 1e11


def seconds(timestamp: Any) -> float | None:
    """A OneLogger ``TracingTimestamp`` as seconds since the epoch, or None (now) when it holds
    no usable wall-clock time."""
    try:
        value = float(timestamp.seconds_since_epoch)
    except (AttributeError, TypeError, ValueError):
        return None
    return value if 0.0 <= value < _MAX_SECS else None


def attributes(attrs: Any) -> dict[str, Any]:
    """OneLogger ``Attributes`` (or a plain mapping, of values or of ``Attribute`` objects, as
    OneLogger builds when given a dict) as a dict of values."""
    if not attrs:
        return {}
    to_json = getattr(attrs, "to_json", None)
    if to_json is not None:
        return dict(to_json())
    return {k: getattr(v, "value", v) for k, v in dict(attrs).items()}


def sanitized(values: dict[str, Any]) -> dict[str, Any]:
    """Values Telemetron refuses but OneLogger allows, as text: NaN and infinities, integers
    beyond 64 bits, mixed lists, anything that is not a primitive."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[str(key) or "_"] = _primitive(value)
    return out


def _primitive(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        items = [_primitive(v) for v in value]
        kinds = {type(v) for v in items}
        if len(kinds) <= 1:
            return items
        return [str(v) for v in items]
    return str(value)
