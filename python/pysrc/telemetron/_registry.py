"""Entry-point registries: exporter configs (lowest config layer) and exporter classes."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

CONFIG_GROUP = "telemetron.exporter_configs"
EXPORTER_GROUP = "telemetron.exporters"


def config_layers() -> list[tuple[str, dict[str, Any]]]:
    """Configs contributed by installed packages, each as one registry layer.

    An entry point in ``telemetron.exporter_configs`` loads an object that is a mapping (or a
    list of exporter entries), a callable returning one, or has ``get_default_config()``.
    Failures are warned about and skipped: a broken plugin never stops a job.
    """
    # ~20 ms of imports: paid when configuring, not at `import telemetron`.
    import warnings
    from collections.abc import Mapping
    from importlib.metadata import entry_points

    layers: list[tuple[str, dict[str, Any]]] = []
    for ep in entry_points(group=CONFIG_GROUP):
        try:
            obj = ep.load()
            if hasattr(obj, "get_default_config"):
                obj = obj.get_default_config()
            elif callable(obj):
                obj = obj()
            if isinstance(obj, list):
                obj = {"exporters": obj}
            if not isinstance(obj, Mapping):
                raise TypeError(f"expected a mapping or a list, got {type(obj).__name__}")
            layers.append((f"entry point {ep.name}", dict(obj)))
        except Exception as exc:  # noqa: BLE001 - a broken plugin is skipped, not fatal
            warnings.warn(
                f"telemetron: skipping {CONFIG_GROUP} entry point {ep.name!r}: {exc}", stacklevel=2
            )
    return layers


def resolve_exporter_class(path: str) -> type:
    """``"pkg.module:ClassName"``, or the name of a ``telemetron.exporters`` entry point."""
    import importlib

    if ":" in path:
        module_name, _, qualname = path.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    else:
        from importlib.metadata import entry_points

        matches = [ep for ep in entry_points(group=EXPORTER_GROUP) if ep.name == path]
        if not matches:
            known = sorted(ep.name for ep in entry_points(group=EXPORTER_GROUP))
            raise LookupError(
                f"no exporter class {path!r}: use 'pkg.module:ClassName' or an entry point of "
                f"{EXPORTER_GROUP} (installed: {', '.join(known) or 'none'})"
            )
        obj = matches[0].load()
    if not isinstance(obj, type):
        raise TypeError(f"{path!r} is not a class")
    return obj


# What the runtime passes to each method of a Python exporter (besides self).
_EXPORTER_METHODS = {
    "initialize": ("context",),
    "export_start": ("span",),
    "export_stop": ("span",),
    "export_event": ("event",),
    "export_error": ("error",),
    "export_telemetry_data_error": ("error",),
    "export_metric": ("points",),
    "export_rl_metric": ("points",),
    "export_histogram": ("histogram",),
    "export_scatter": ("scatter",),
    "export_attributes": ("attributes",),
    "export_log": ("log",),
    "export_rendering": ("rendering",),
    "close": (),
}


def check_exporter_class(cls: type) -> None:
    """Refuses a class whose exporter methods cannot take the arguments the runtime passes,
    e.g. one written for OneLogger (``initialize(self)``, ``export_event(self, event, span)``):
    such an exporter would fail on every call instead of exporting."""
    import inspect

    for name, params in _EXPORTER_METHODS.items():
        method = inspect.getattr_static(cls, name, None)
        if method is None:
            continue
        if isinstance(method, (staticmethod, classmethod)):
            method = method.__func__
        if not callable(method):
            raise TypeError(f"{cls.__qualname__}.{name} is not a method")
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):  # a builtin without a signature: trust it
            continue
        expected = f"{name}(self{''.join(', ' + p for p in params)})"
        try:
            signature.bind(None, *params)
        except TypeError as exc:
            have = ", ".join(signature.parameters)
            raise TypeError(
                f"{cls.__qualname__}.{name}({have}) does not match telemetron.Exporter."
                f"{expected} ({exc}); a OneLogger exporter runs under telemetron with "
                "type: onelogger"
            ) from None


def exporter_entry(entry: Mapping[str, Any] | type) -> dict[str, Any]:
    """A code-layer exporter entry; an Exporter subclass becomes ``type: python``."""
    if isinstance(entry, type):
        return {"type": "python", "class": f"{entry.__module__}:{entry.__qualname__}"}
    from collections.abc import Mapping

    if isinstance(entry, Mapping):
        result = dict(entry)
        cls = result.get("class")
        if isinstance(cls, type):
            result["class"] = f"{cls.__module__}:{cls.__qualname__}"
        return result
    raise TypeError(f"an exporter entry must be a mapping or an Exporter subclass, got {entry!r}")
