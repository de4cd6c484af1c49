"""The disk spool from Python: ``is_offline()`` and ``replay_spool()`` (``telemetron sync``).

A spooled exporter (every network exporter by default) keeps on disk what its backend did not
take: during an outage, in an offline run (``mode="offline"`` or ``TELEMETRON_MODE=offline``),
and what a killed process left. A later process of the same run delivers those leftovers
first; ``replay_spool`` delivers them without starting a run.
"""

from __future__ import annotations

import os

from telemetron import _native

# Annotations only: `typing` (and the `re` it imports) would cost `import telemetron` ~8 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


def is_offline() -> bool:
    """Whether the current run is offline: spooled exporters write to disk and connect nowhere
    (``telemetron sync`` delivers it later)."""
    from telemetron._runtime import get_runtime

    return get_runtime().is_offline()


def spool_status() -> list[dict[str, Any]]:
    """Each spooled exporter's spool: ``records`` on disk not delivered yet, ``own_bytes``,
    ``leftover_bytes`` of earlier processes still to deliver, ``bad_frames`` skipped, ``path``."""
    from telemetron._runtime import get_runtime

    return get_runtime().spool_status()


def replay_spool(
    spool_dir: str | os.PathLike[str] | None = None,
    *,
    workspace: str | None = None,
    project: str | None = None,
    run_name: str | None = None,
    exporters: Sequence[Mapping[str, Any]] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    **metrana: Any,
) -> dict[str, Any]:
    """Deliver the spools under ``spool_dir`` (default ``TELEMETRON_SPOOL_DIR``, else
    ``~/.cache/telemetron/spool``) — an offline run's, or what killed processes left — to the
    exporters, and remove what was delivered. No ``configure`` is needed; the current run, if
    any, is not touched.

    Each spool goes to the exporter of the same name (``metrana``, ``otlp``, or an entry's
    ``name:``) among ``exporters`` (else ``config_file``, else the usual config sources), oldest
    writer first, every frame under the identity it was written with, so Metrana applies a
    re-sent frame once. ``workspace`` / ``project`` / ``run_name`` select runs.

    Metrana's ``replay_spool`` keyword names are accepted: ``workspace_name``,
    ``project_name``, ``timeout_secs``, and ``api_key`` / ``ingestion_url`` (an exporter entry
    ``{"type": "metrana", "endpoint": ingestion_url, "api_key": api_key}`` when ``exporters``
    is not given; ``organization`` is accepted and unused).

    Returns the report: per spool ``run``, ``exporter``, ``writers``, ``bytes``,
    ``delivered`` records, ``remaining_bytes``, ``bad_frames`` (damaged regions skipped),
    ``skipped`` (why nothing was delivered); totals ``delivered`` and ``remaining_bytes``;
    ``errors``. Raises ``ValueError`` for a spool directory that does not exist and
    ``ConfigError`` for a wrong configuration.
    """
    from telemetron import _registry

    workspace = metrana.pop("workspace_name", workspace)
    project = metrana.pop("project_name", project)
    timeout = float(metrana.pop("timeout_secs", timeout))
    api_key = metrana.pop("api_key", None)
    ingestion_url = metrana.pop("ingestion_url", None)
    metrana.pop("organization", None)
    if metrana:
        raise TypeError(f"replay_spool() got unexpected keyword arguments: {sorted(metrana)}")
    entries: list[Any] | None = None
    if exporters is not None:
        entries = [_registry.exporter_entry(e) for e in exporters]
    elif api_key is not None or ingestion_url is not None:
        entry: dict[str, Any] = {"type": "metrana"}
        if ingestion_url is not None:
            entry["endpoint"] = ingestion_url
        if api_key is not None:
            entry["api_key"] = api_key
        entries = [entry]
    return _native.replay_spool(
        None if spool_dir is None else os.fspath(spool_dir),
        workspace=workspace,
        project=project,
        run_name=run_name,
        exporters=entries,
        config_file=None if config_file is None else os.fspath(config_file),
        timeout=timeout,
        registry_layers=_registry.config_layers() or None,
    )
