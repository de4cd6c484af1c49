"""The process-wide runtime: configure, shutdown, atexit, fork safety."""

from __future__ import annotations

import _thread  # `threading` costs ~3 ms to import; a plain lock is all we need
import atexit
import os

from telemetron import _native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

_lock = _thread.allocate_lock()
_runtime: _native.Runtime | None = None
_pid: int | None = None
# True while the runtime is one started implicitly by a recording call before `configure`.
_implicit = False
# The runtime `shutdown` closed last: `metrics()` answers from it without starting another.
_last: _native.Runtime | None = None
# Runtimes inherited across fork(): their threads do not exist in the child, so closing them
# would wait for nobody. They are kept referenced, never closed, never dropped.
_abandoned: list[_native.Runtime] = []

DEFAULT_SHUTDOWN_TIMEOUT = 10.0


def configure(
    exporters: Sequence[Mapping[str, Any] | type] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    plugins: Sequence[Mapping[str, Any]] | None = None,
    *,
    reconfigure: bool = False,
    **settings: Any,
) -> None:
    """Start the process-wide runtime.

    ``exporters`` is the code layer of the configuration: a list of ``{"type": ..., ...}``
    mappings (an ``Exporter`` subclass may stand for ``{"type": "python", "class": ...}``). It
    replaces the exporter list of the config file and of installed packages' entry points.
    ``settings`` are runtime settings (``run_name=``, ``project=``, ``backpressure=``, ...);
    ``TELEMETRON_*`` environment variables override them.

    Calling it while a configured runtime runs raises ``ConfigError`` (a re-run notebook cell
    must not silently start a second run); ``reconfigure=True`` flushes and closes the running
    one first, then starts the new one. A runtime that started implicitly (something was
    recorded before any ``configure``) is always flushed, closed and replaced.

    Raises ``ConfigError`` for a wrong configuration, and ``ExporterError`` when an exporter
    that connects at start fails. That happens with Metrana: its handshake runs here, so an
    unreachable endpoint (after ``init_timeout_secs``), a refused key, or a run that belongs to
    another job under ``resume_strategy: never`` all raise here.
    """
    global _runtime, _pid, _implicit
    from telemetron import _registry  # only when configuring: keeps `import telemetron` light

    _native.refuse_from_exporter("configure")

    if "rendering_close_timeout" in settings:  # Metrana's name for it
        settings["rendering_close_timeout_secs"] = settings.pop("rendering_close_timeout")
    entries = None if exporters is None else [_registry.exporter_entry(e) for e in exporters]
    layers = _registry.config_layers()
    with _lock:
        previous = _current_or_none()
        if previous is not None and not (reconfigure or _implicit):
            raise _native.ConfigError(
                f"telemetron is already configured (run {previous.run_name!r}); call "
                "telemetron.shutdown() first, or pass reconfigure=True to flush and close it "
                "and start a new run"
            )
        _runtime = None
    if previous is not None:
        # Closed before the new one starts: both would write the same run and files.
        previous.close(DEFAULT_SHUTDOWN_TIMEOUT)
    runtime = _native.Runtime(
        exporters=entries,
        plugins=None if plugins is None else [dict(p) for p in plugins],
        config_file=None if config_file is None else os.fspath(config_file),
        settings=dict(settings) or None,
        registry_layers=layers or None,
    )
    # Child processes (other ranks, workers) join the same job: publish the id where the
    # subprocess module will pass it on (os.environ, not only the C environment).
    os.environ.setdefault("TELEMETRON_ORCHESTRATION_ID", runtime.orchestration_id)
    with _lock:
        _runtime, _pid, _implicit = runtime, os.getpid(), False
    if runtime.config_warnings:
        import warnings

        for warning in runtime.config_warnings:
            warnings.warn(warning, _native.TelemetronWarning, stacklevel=2)


def _current_or_none() -> _native.Runtime | None:
    if _runtime is not None and _pid != os.getpid():
        _abandon(_runtime)
        return None
    return _runtime


def _abandon(runtime: _native.Runtime) -> None:
    runtime.abandon()
    _abandoned.append(runtime)


def get_runtime() -> _native.Runtime:
    """The runtime. Before ``configure`` (or after ``shutdown``) the first call starts one with
    the default configuration and says once on stderr where it records; a fresh run name
    each time, so nothing earlier is overwritten. Anew after fork."""
    global _runtime, _pid, _implicit
    runtime = _runtime
    if runtime is not None:  # the at-fork hook clears it in a child: no getpid() per call
        return runtime
    with _lock:
        current = _current_or_none()
        if current is None:
            from telemetron import _registry

            current = _native.Runtime(registry_layers=_registry.config_layers() or None)
            os.environ.setdefault("TELEMETRON_ORCHESTRATION_ID", current.orchestration_id)
            _runtime, _pid, _implicit = current, os.getpid(), True
            _announce_implicit(current)
        return current


def _announce_implicit(runtime: _native.Runtime) -> None:
    import sys

    where = "; ".join(runtime.destinations) or "no exporter"
    print(
        f"telemetron: recording without configure(): run {runtime.run_name!r} -> {where} "
        "(call telemetron.configure(...) first to choose)",
        file=sys.stderr,
    )


def is_configured() -> bool:
    """Whether this process has a running runtime."""
    return _runtime is not None and _pid == os.getpid()


def shutdown(
    timeout: float = DEFAULT_SHUTDOWN_TIMEOUT, *, verbose: bool = False
) -> dict[str, Any] | None:
    """Flush every exporter and close, waiting at most ``timeout`` seconds (without the GIL).

    Returns the close report (``undelivered``, ``timed_out``, ``background_errors``,
    ``metrics``, and ``rendering``: the renderer's final counters or None), or None when
    nothing was running. ``metrics`` lists the record kinds that saw any traffic;
    ``verbose=True`` lists every kind and counter. Queued environment frames are encoded (or
    dropped, with ``skip_drain_render_on_close``) before the exporters close. Afterwards,
    ``metrics()`` still answers for the closed run, and a new ``configure`` may start another.
    """
    global _runtime, _last
    _native.refuse_from_exporter("shutdown")
    with _lock:
        runtime, _runtime = _current_or_none(), None
    if runtime is None:
        return None
    _last = runtime
    report = runtime.close(timeout)
    if report["timed_out"]:
        _release_abandoned_exporters()
    if not verbose:
        report["metrics"] = _concise(report["metrics"])
    return report


def _release_abandoned_exporters(grace: float = 1.0) -> None:
    """A Python exporter still running after close gave up on it (a loop that never ends) is
    interrupted with ``ExporterAbandoned`` and given ``grace`` seconds to leave Python: a
    runtime thread still inside Python when the interpreter finalizes would abort it."""
    if not _native.exporters_inside():
        return
    import time

    _native.interrupt_exporters()
    deadline = time.monotonic() + grace
    while _native.exporters_inside() and time.monotonic() < deadline:
        time.sleep(0.005)  # lets the exporter thread take the GIL and unwind


def flush(timeout: float = DEFAULT_SHUTDOWN_TIMEOUT) -> None:
    """Wait until everything recorded so far has reached its destination, queued rendering
    frames included (encoded into their videos). Raises ``ExporterError`` naming what did not
    make it (a failing or disabled exporter, or the timeout)."""
    get_runtime().flush(timeout)


def metrics(*, verbose: bool = False) -> dict[str, Any]:
    """Self-metrics: added / enqueued / sent / dropped / failed records per kind, for the
    runtime and each exporter, and data points per kind (``points``, as Metrana counts them).

    Lists the kinds that saw any traffic; ``verbose=True`` lists every kind at zero too.
    After ``shutdown()`` these are the closed run's final counters.
    """
    runtime = _current_or_none() or _last
    if runtime is None:
        runtime = get_runtime()
    snapshot = runtime.metrics()
    return snapshot if verbose else _concise(snapshot)


def _concise(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without the record kinds whose counters are all zero."""

    def active(kinds: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        return {kind: c for kind, c in kinds.items() if any(c.values())}

    return {
        "runtime": active(snapshot["runtime"]),
        "points": active(snapshot["points"]),
        "exporters": {name: active(kinds) for name, kinds in snapshot["exporters"].items()},
        "panics": snapshot["panics"],
        "background_errors": snapshot["background_errors"],
    }


def exporter_health() -> list[dict[str, Any]]:
    """Health of every exporter: failures, whether it ever succeeded, why it was disabled."""
    return (_current_or_none() or _last or get_runtime()).exporter_health()


def orchestration_id() -> str:
    """The job's orchestration id: ``orchestration_id=``, else ``TELEMETRON_ORCHESTRATION_ID``,
    ``METRANA_ORCHESTRATION_ID``, ``TORCHELASTIC_RUN_ID``, ``SLURM_JOB_ID``, ``RAY_JOB_ID``, else
    random. Child processes inherit it through ``TELEMETRON_ORCHESTRATION_ID``."""
    return get_runtime().orchestration_id


def logger_id() -> int:
    """This writer's id (``logger_id=``, e.g. ``rank + 1``; random otherwise)."""
    return get_runtime().logger_id


def run_name() -> str:
    """The run name in use (generated when none was configured)."""
    return get_runtime().run_name


def describe_config() -> str:
    """The effective configuration with the source of every value (secrets redacted)."""
    return get_runtime().describe_config()


def _after_fork_in_child() -> None:
    global _runtime, _lock
    if _runtime is not None:
        _abandon(_runtime)
    _runtime = None
    _lock = _thread.allocate_lock()


def _close_at_exit() -> None:
    try:
        shutdown()
        # Exporters abandoned by an earlier shutdown may still be running Python code.
        _release_abandoned_exporters()
    except Exception as exc:  # noqa: BLE001 - never fail interpreter exit
        import warnings

        warnings.warn(f"telemetron: shutdown at exit failed: {exc}", stacklevel=1)


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)
