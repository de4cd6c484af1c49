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
