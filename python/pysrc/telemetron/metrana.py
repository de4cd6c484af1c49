"""Metrana's module-level API on Telemetron: change one import line.

    import telemetron.metrana as metrana

    metrana.init(api_key="...", workspace_name="ws", project_name="proj", run_name="run-001")
    metrana.log("loss", loss)
    metrana.log({"accuracy": acc, "lr": lr})
    metrana.close()

``init`` takes Metrana's argument names and defaults (and reads its ``METRANA_*`` environment
variables) and configures Telemetron's ``metrana`` exporter, plus the file exporter with
``file=True`` or ``file="path.jsonl"`` (any other Telemetron exporters with ``exporters=``).
The logging calls are Telemetron's, with Metrana's names and semantics; calls before ``init``
or after ``close`` raise ``MetranaNotInitializedError``. Metrana's exceptions are aliases of
Telemetron's (``except metrana.MetranaValidationError`` catches ``telemetron.ValidationError``).
The disk spool is Telemetron's (``disk=DEFAULT_DISK`` / a path / ``DiskConfig`` / ``None``,
``init_mode="offline"``, ``is_offline()``, ``replay_spool``, ``spool_then_raise``): same
behaviour, Telemetron's on-disk format (a Metrana engine's spool directory is not read, nor
the other way round). What Telemetron does not do (artifacts, queries, tracing, video upload,
forking a run, a non-default connect timeout, ``follow_spool``, ...) raises
``NotImplementedError`` naming the feature, never a silent no-op.
"""

from __future__ import annotations

import enum
import os
import warnings as _warnings
from pathlib import Path

import telemetron
from telemetron import _runtime
from telemetron._distributions import Histogram

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "BackpressureStrategy",
    "CloseInfo",
    "Compression",
    "DEFAULT_DISK",
    "DeliveryPolicy",
    "DiskCompression",
    "DiskConfig",
    "ErrorStrategy",
    "Histogram",
    "InitMode",
    "LogLevel",
    "Metrics",
    "ResumeStrategy",
    "StandardMetricScale",
    "add_tags",
    "check_sender_errors",
    "close",
    "flush",
    "get_env_last_rl_step_and_episode",
    "get_last_step",
    "get_metrics",
    "init",
    "is_initialized",
    "is_offline",
    "log",
    "log_attributes",
    "log_config",
    "log_distributed",
    "log_env_attributes",
    "log_histogram",
    "log_rendering",
    "log_rl_environment_step",
    "log_rl_episode",
    "log_rl_step",
    "log_scatter",
    "log_scatter3d",
    "remove_tags",
    "replay_spool",
    "set_description",
    "set_tags",
]

# ---------------------------------------------------------------------------------------------
# Exceptions: Metrana's names, Telemetron's classes.
# ---------------------------------------------------------------------------------------------

CustomException = telemetron.TelemetronError
MetranaValidationError = telemetron.ValidationError
MetranaEventQueueFullError = telemetron.QueueFullError
MetranaSenderError = telemetron.ExporterError
MetranaLoggerInitError = telemetron.ExporterError
MetranaRunAlreadyExistsError = telemetron.ExporterError
MetranaOrchestrationIdMismatchError = telemetron.ExporterError
MetranaClosingError = telemetron.ShutdownError
MetranaLoggerClosedError = telemetron.ShutdownError


class MetranaNotInitializedError(telemetron.TelemetronError):
    """A logging call before ``init()`` or after ``close()``."""


class NoMetranaApiKeyError(telemetron.ConfigError):
    """Neither ``api_key=`` nor ``METRANA_API_KEY`` gives an API key."""


class MetranaSpoolUnavailableError(telemetron.ConfigError):
    """An explicit spool (``disk="/path"`` or ``DiskConfig``) that cannot be used, or an
    offline run without one."""


class MetranaAlreadyInitializedError(telemetron.ConfigError):
    """``init()`` while initialized (Metrana 0.2.1; 1.x warns and ignores, as here)."""


# ---------------------------------------------------------------------------------------------
# Enums: Metrana's names and values (case-insensitive, CamelCase accepted).
# ---------------------------------------------------------------------------------------------


class _CaseInsensitiveEnum(str, enum.Enum):
    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            wanted = value.replace("-", "_").lower()
            for member in cls:
                if wanted in (member.value.lower(), member.name.lower()):
                    return member
        return None


class StandardMetricScale(str, enum.Enum):
    ML_STEP = "ML_STEP"
    EPISODE = "EPISODE"
    ENVIRONMENT_STEP = "ENVIRONMENT_STEP"


class BackpressureStrategy(_CaseInsensitiveEnum):
    DropNew = "drop_new"
    Block = "block"
    Raise = "raise"
    SpoolThenRaise = "spool_then_raise"


class Compression(_CaseInsensitiveEnum):
    Off = "none"
    Zstd = "zstd"


class DeliveryPolicy(_CaseInsensitiveEnum):
    AllOrCrash = "all_or_crash"
    TolerateLoss = "tolerate_loss"


class ErrorStrategy(_CaseInsensitiveEnum):
    Silent = "silent"
    Warn = "warn"
    RaiseOnLog = "raise_on_log"
    RaiseOnClose = "raise_on_close"


class ResumeStrategy(_CaseInsensitiveEnum):
    Never = "never"
    Allow = "allow"


class InitMode(_CaseInsensitiveEnum):
    OnlineOnly = "online_only"
    Offline = "offline"


class DiskCompression(_CaseInsensitiveEnum):
    """Spool compression. ``Lz4`` is accepted and written as zstd (Telemetron's spool
    compresses with zstd or not at all)."""

    Off = "none"
    Lz4 = "lz4"
    Zstd = "zstd"


class LogLevel(_CaseInsensitiveEnum):
    Trace = "TRACE"
    Debug = "DEBUG"
    Info = "INFO"
    Success = "SUCCESS"
    Warn = "WARNING"
    Error = "ERROR"
    Critical = "CRITICAL"
    Off = "OFF"


class _DefaultDisk:
    def __repr__(self) -> str:
        return "DEFAULT_DISK"


DEFAULT_DISK: Any = _DefaultDisk()


class DiskConfig:
    """Metrana's ``DiskConfig``: the spool directory (used verbatim) and its limits, as
    Telemetron spool settings. Options Telemetron has no counterpart for must keep their
    defaults (``NotImplementedError`` otherwise)."""

    # Metrana's option -> (its default, why it cannot be honoured) for the unmapped ones.
    _UNSUPPORTED = {
        "zstd_level": (3, "a zstd level other than 3"),
        "io_max_retries": (None, "bounded disk I/O retries (a failed write is lost or raises "
                           "per delivery_policy)"),
        "err_initial_backoff_secs": (1.0, "disk I/O retry backoff"),
        "err_max_backoff_secs": (60.0, "disk I/O retry backoff"),
        "coalesce_min_batch": (None, "spool write coalescing (batches follow batch_max_size)"),
        "coalesce_timeout_secs": (1.0, "spool write coalescing (batches follow "
                                  "batch_max_age_secs)"),
        "metadata_checkpoint_interval_secs": (None, "a cursor snapshot interval"),
        "foreign_cursor_dirs": ((), "cursors from other hosts' spools"),
    }  # fmt: skip

    def __init__(
        self,
        dir: str | os.PathLike[str],
        *,
        max_size_bytes: int = 8 << 30,
        segment_size_bytes: int = 64 << 20,
        compression: DiskCompression | str = DiskCompression.Zstd,
        zstd_level: int = 3,
        io_max_retries: int | None = None,
        err_initial_backoff_secs: float = 1.0,
        err_max_backoff_secs: float = 60.0,
        coalesce_min_batch: int | None = None,
        coalesce_timeout_secs: float = 1.0,
        recovery_initial_backoff_secs: float = 60.0,
        recovery_max_backoff_secs: float = 900.0,
        metadata_checkpoint_interval_secs: float | None = None,
        foreign_cursor_dirs: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        given = dict(locals())
        for name, (default, feature) in self._UNSUPPORTED.items():
            value = given[name]
            if (tuple(value) if name == "foreign_cursor_dirs" else value) != default:
                raise _unsupported(feature, f"DiskConfig({name}={value!r})")
        self._dir = os.fspath(dir)
        self.max_size_bytes = max_size_bytes
        self.segment_size_bytes = segment_size_bytes
        self.compression = _enum(DiskCompression, compression, "METRANA_DISK_COMPRESSION", "zstd")
        self.recovery_initial_backoff_secs = recovery_initial_backoff_secs
        self.recovery_max_backoff_secs = recovery_max_backoff_secs

    @property
    def dir(self) -> str:
        return self._dir

    def settings(self) -> dict[str, Any]:
        """The Telemetron settings this spool is."""
        return {
            "spool_dir": self._dir,
            "spool_max_bytes": self.max_size_bytes,
            "spool_segment_bytes": self.segment_size_bytes,
            "spool_compression": "none" if self.compression is DiskCompression.Off else "zstd",
            "spool_recovery_initial_backoff_secs": self.recovery_initial_backoff_secs,
            "spool_recovery_max_backoff_secs": self.recovery_max_backoff_secs,
        }

    def __repr__(self) -> str:
        return f"DiskConfig({self._dir!r}, max_size_bytes={self.max_size_bytes})"


def _default_spool_dir() -> str | None:
    """``METRANA_DISK_SPOOL_DIR`` when set (verbatim), else Telemetron's default spool dir."""
    value = _env("METRANA_DISK_SPOOL_DIR")
    return None if value is None else str(value)


def _disk_settings(disk: Any, offline: bool) -> dict[str, Any] | None:
    """Telemetron spool settings for Metrana's ``disk=``; None: the exporter has no spool."""
    if disk is None:
        if offline:
            raise MetranaSpoolUnavailableError("init_mode='offline' needs a spool: disk=None")
        return None
    if disk is DEFAULT_DISK:
        spool_dir = _default_spool_dir()
        return {} if spool_dir is None else {"spool_dir": spool_dir}
    if isinstance(disk, DiskConfig):
        return disk.settings()
    if isinstance(disk, (str, os.PathLike)):
        return {"spool_dir": os.fspath(disk)}
    raise telemetron.ConfigError(
        f"disk must be DEFAULT_DISK, a path, a DiskConfig or None, got {disk!r}"
    )


_DEFAULT_INGESTION_URL = "https://ingestion.metrana.ai"

# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


class _State:
    initialized = False
    delivery_policy = DeliveryPolicy.AllOrCrash
    default_dtype: str | None = None
    upload_renderings: Any = True
    warned_second_init = False


_state = _State()


def _env(name: str, default: Any = None) -> Any:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value


def _enum(cls: type[enum.Enum], value: Any, env: str, default: Any) -> Any:
    raw = value if value is not None else _env(env, default)
    try:
        return cls(raw.value if isinstance(raw, enum.Enum) else raw)
    except ValueError:
        names = ", ".join(m.value for m in cls)
        raise telemetron.ConfigError(f"{env.lower().removeprefix('metrana_')} must be one of "
                                     f"{names}, got {raw!r}") from None  # fmt: skip


def _unsupported(feature: str, how: str = "") -> NotImplementedError:
    return NotImplementedError(
        f"telemetron.metrana does not support {feature}" + (f": {how}" if how else "")
    )


# Arguments of Metrana's init whose non-default values telemetron cannot honour.
_UNSUPPORTED_INIT = {
    "fork_from_run": (None, "forking a run"),
    "fork_at_step": (None, "forking a run"),
    "connect_timeout_secs": (5.0, "a connect timeout other than 5 s (init_timeout_secs bounds "
                             "the handshake)"),
    "rendering_max_concurrent_encoders": (16, "a global encoder cap (telemetron keeps one open "
                                          "video per env on rendering_num_encoder_threads "
                                          "threads)"),
    "rendering_upload_concurrency": (4, "video upload"),
    "rendering_upload_warn_threshold": (100, "video upload"),
    "rendering_delete_after_upload": (True, "video upload"),
    "rendering_upload_close_timeout": (None, "video upload"),
    "rendering_storage": (None, "video upload to your own bucket"),
    "rendering_error_strategy": (None, "a separate error strategy for renderings (they follow "
                                 "error_strategy)"),
}  # fmt: skip


def init(
    workspace_name: str,
    project_name: str,
    run_name: str,
    experiment_name: str | None = None,
    ingestion_url: str | None = None,
    artifact_api_url: str | None = None,
    query_api_url: str | None = None,
    resume_strategy: ResumeStrategy | str | None = None,
    init_mode: InitMode | str | None = None,
    orchestration_id: str | None = None,
    backpressure_strategy: BackpressureStrategy | str | None = None,
    compression: Compression | str | None = None,
    delivery_policy: DeliveryPolicy | str | None = None,
    rendering_error_strategy: ErrorStrategy | str | None = None,
    log_level: LogLevel | str | None = None,
    autoconfigure_loguru: bool = True,
    create_project_if_missing: bool = True,
    api_key: str | None = None,
    logger_id: int | None = None,
    fork_from_run: str | None = None,
    fork_at_step: int | None = None,
    tags: list[str] | None = None,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    default_dtype: str = "float32",
    disk: Any = DEFAULT_DISK,
    queue_capacity: int | None = None,
    enqueue_timeout_secs: float = 1.0,
    disk_spool_retry_timeout_secs: float = 5.0,
    init_timeout_secs: float = 120.0,
    connect_timeout_secs: float = 5.0,
    max_pending_requests: int = 30,
    max_send_retries: int | None = 15,
    send_retry_initial_backoff_secs: float = 0.05,
    send_retry_max_backoff_secs: float = 15.0,
    ack_stall_timeout_secs: float | None = 60.0,
    close_spool_reserve_secs: float = 5.0,
    batch_max_age_secs: float = 1.0,
    max_msg_size: int = 1 << 20,
    rendering_output_dir: str | Path | None = None,
    rendering_fps: int = 30,
    rendering_max_concurrent_encoders: int = 16,
    rendering_num_encoder_threads: int | None = None,
    rendering_queue_max_size: int | None = None,
    skip_drain_render_on_close: bool | None = None,
    rendering_close_timeout: float | None = None,
    upload_renderings: Any = True,
    rendering_upload_concurrency: int = 4,
    rendering_upload_warn_threshold: int = 100,
    rendering_delete_after_upload: bool = True,
    rendering_upload_close_timeout: float | None = None,
    rendering_storage: str | None = None,
    capture_system_metrics: bool | None = None,
    system_metrics_interval_secs: float | None = None,
    organization: str | None = None,
    *,
    error_strategy: ErrorStrategy | str | None = None,
    file: bool | str | os.PathLike[str] = False,
    exporters: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Starts the run: Metrana's handshake (ownership check, resumed cursors) happens here and
    its failures raise. See the module docstring for what is and is not supported."""
    given = dict(locals())
    if _state.initialized and _runtime.is_configured():
        if not _state.warned_second_init:
            _state.warned_second_init = True
            message = "metrana.init() called again while initialized; ignored (close() first)"
            _warnings.warn(message, telemetron.TelemetronWarning, stacklevel=2)
        return
    for name, (default, feature) in _UNSUPPORTED_INIT.items():
        if given[name] != default:
            raise _unsupported(feature, f"{name}={given[name]!r}")
    mode = _enum(InitMode, init_mode, "METRANA_INIT_MODE", "online_only")
    offline = mode is InitMode.Offline
    disk_settings = _disk_settings(disk, offline)
    api_key = api_key if api_key is not None else _env("METRANA_API_KEY")
    if not api_key:
        raise NoMetranaApiKeyError("no API key: pass api_key= or set METRANA_API_KEY")
    backpressure = _enum(BackpressureStrategy, backpressure_strategy,
                         "METRANA_BACKPRESSURE_STRATEGY", "block")  # fmt: skip
    if backpressure is BackpressureStrategy.SpoolThenRaise and disk_settings is None:
        raise telemetron.ConfigError(
            "backpressure_strategy='spool_then_raise' needs a spool: disk=None"
        )
    policy = _enum(DeliveryPolicy, delivery_policy, "METRANA_DELIVERY_POLICY", "all_or_crash")
    if error_strategy is not None:  # Metrana 0.2.1's name
        strategy = _enum(ErrorStrategy, error_strategy, "METRANA_ERROR_STRATEGY", "warn").value
    else:  # all_or_crash: a delivery failure makes the next call raise (Metrana's SenderError)
        strategy = "raise_on_log" if policy is DeliveryPolicy.AllOrCrash else "warn"
    if default_dtype not in ("float32", "float64", "float16"):
        raise telemetron.ConfigError(
            f"default_dtype must be float32, float64 or float16, got {default_dtype!r}"
        )
    exporter: dict[str, Any] = {
        "type": "metrana",
        "endpoint": ingestion_url or _env("METRANA_INGESTION_URL", _DEFAULT_INGESTION_URL),
        "api_key": api_key,
        "resume_strategy": _enum(
            ResumeStrategy, resume_strategy, "METRANA_RESUME_STRATEGY", "never"
        ).value,  # fmt: skip
        "create_project_if_missing": create_project_if_missing,
        "init_timeout_secs": init_timeout_secs,
        "max_pending_requests": max_pending_requests,
        "max_msg_size": max_msg_size,
        "ack_stall_timeout_secs": ack_stall_timeout_secs,
        "compression": _enum(Compression, compression, "METRANA_COMPRESSION", "none").value,
        "spool": disk_settings is not None,
    }
    entries = [exporter, *exporters]
    if file:
        entries.append(
            {"type": "file"} if file is True else {"type": "file", "path": os.fspath(file)}
        )
    settings: dict[str, Any] = {
        "workspace": workspace_name,
        "project": project_name,
        "run_name": run_name,
        "backpressure": backpressure.value,
        "enqueue_timeout_secs": enqueue_timeout_secs,
        "error_strategy": strategy,
        "batch_max_age_secs": batch_max_age_secs,
        "max_retries": (1 << 31) if max_send_retries is None else max_send_retries,
        "retry_initial_backoff_secs": send_retry_initial_backoff_secs,
        "retry_max_backoff_secs": send_retry_max_backoff_secs,
        "rendering_fps": rendering_fps,
        "mode": "offline" if offline else "online",
        "delivery_policy": policy.value,
        "disk_spool_retry_timeout_secs": disk_spool_retry_timeout_secs,
        "close_spool_reserve_secs": close_spool_reserve_secs,
        **(disk_settings or {}),
    }
    capacity = (
        queue_capacity if queue_capacity is not None else _env("METRANA_EVENT_QUEUE_MAX_SIZE")
    )
    optional = {
        "experiment": experiment_name,
        "orchestration_id": orchestration_id or _env("METRANA_ORCHESTRATION_ID"),
        "logger_id": logger_id,
        "queue_capacity": None if capacity is None else int(capacity),
        "rendering_output_dir": rendering_output_dir and os.fspath(rendering_output_dir),
        "rendering_max_concurrent_encoders": rendering_num_encoder_threads,
        "rendering_queue_max_size": rendering_queue_max_size,
        "skip_drain_render_on_close": _env_flag(
            "METRANA_SKIP_DRAIN_RENDER_ON_CLOSE", skip_drain_render_on_close
        ),
        "rendering_close_timeout_secs": rendering_close_timeout
        if rendering_close_timeout is not None
        else _float_env("METRANA_RENDERING_CLOSE_TIMEOUT"),
    }
    settings.update({k: v for k, v in optional.items() if v is not None})
    plugins = []
    # Metrana samples system metrics unless told not to (METRANA_CAPTURE_SYSTEM_METRICS).
    if _env_flag("METRANA_CAPTURE_SYSTEM_METRICS", capture_system_metrics) is not False:
        interval = system_metrics_interval_secs or _float_env(
            "METRANA_SYSTEM_METRICS_INTERVAL_SECS"
        )
        plugins.append({"type": "system_metrics", "interval_secs": max(interval or 30.0, 1.0)})
    try:
        telemetron.configure(
            exporters=entries,
            plugins=plugins or None,
            reconfigure=_runtime.is_configured(),
            **settings,
        )
    except telemetron.ConfigError as e:
        # An explicit spool that cannot be used is Metrana's SpoolUnavailable.
        if disk_settings and "spool" in str(e) and not isinstance(e, MetranaSpoolUnavailableError):
            raise MetranaSpoolUnavailableError(str(e)) from e
        raise
    os.environ["METRANA_ORCHESTRATION_ID"] = telemetron.orchestration_id()
    _state.initialized = True
    _state.delivery_policy = policy
    _state.default_dtype = None if default_dtype == "float32" else default_dtype
    _state.upload_renderings = upload_renderings
    # Create-only metadata in Metrana; applied on every init here (a resumed run keeps its
    # latest values).
    if config:
        telemetron.log_config(config)
    if tags:
        telemetron.set_tags(list(tags))
    if description is not None:
        telemetron.set_description(description)
    del artifact_api_url, query_api_url, organization, log_level, autoconfigure_loguru


def _env_flag(name: str, value: bool | None) -> bool | None:
    if value is not None:
        return value
    raw = _env(name)
    return None if raw is None else raw.strip().lower() in ("1", "true", "yes", "on")


def _float_env(name: str) -> float | None:
    raw = _env(name)
    return None if raw is None else float(raw)


def is_initialized() -> bool:
    """Whether ``init()`` ran and ``close()`` did not."""
    return _state.initialized and _runtime.is_configured()


def is_offline() -> bool:
    """Whether the run was started with ``init_mode="offline"`` (everything goes to the spool,
    nothing connects; ``replay_spool`` delivers it later). False when not initialized."""
    return is_initialized() and telemetron.is_offline()


def replay_spool(
    spool_dir: str | os.PathLike[str] | None = None,
    *,
    workspace_name: str | None = None,
    project_name: str | None = None,
    run_name: str | None = None,
    organization: str | None = None,
    api_key: str | None = None,
    ingestion_url: str | None = None,
    timeout_secs: float = 60.0,
) -> CloseInfo:
    """Delivers spools (an offline run's, or what killed processes left) under ``spool_dir``
    (default ``METRANA_DISK_SPOOL_DIR``, else Telemetron's spool dir) to Metrana at
    ``ingestion_url`` (default ``METRANA_INGESTION_URL``) with ``api_key`` (default
    ``METRANA_API_KEY``); no ``init`` needed. What was delivered is removed. Returns a
    ``CloseInfo`` whose spool fields say what is left; ``report`` is Telemetron's."""
    del organization
    api_key = api_key if api_key is not None else _env("METRANA_API_KEY")
    if not api_key:
        raise NoMetranaApiKeyError("no API key: pass api_key= or set METRANA_API_KEY")
    directory = spool_dir if spool_dir is not None else _default_spool_dir()
    report = telemetron.replay_spool(
        directory,
        workspace=workspace_name,
        project=project_name,
        run_name=run_name,
        exporters=[{
            "type": "metrana",
            "endpoint": ingestion_url or _env("METRANA_INGESTION_URL", _DEFAULT_INGESTION_URL),
            "api_key": api_key,
        }],
        timeout=timeout_secs,
    )  # fmt: skip
    return CloseInfo.of_replay(report)


def _require() -> None:
    if not is_initialized():
        raise MetranaNotInitializedError(
            "metrana is not initialized: call metrana.init(...) first (or again after close())"
        )


def _checked(fn: F) -> F:
    """``fn`` raising ``MetranaNotInitializedError`` before ``init()`` / after ``close()``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        _require()
        return fn(*args, **kwargs)

    call.__name__ = fn.__name__
    call.__qualname__ = fn.__qualname__
    call.__doc__ = fn.__doc__
    call.__wrapped__ = fn  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


def _with_default_dtype(fn: F) -> F:
    """``fn`` with ``dtype`` defaulting to init's ``default_dtype``."""

    def call(*args: Any, dtype: str | None = None, **kwargs: Any) -> Any:
        _require()
        return fn(*args, dtype=dtype or _state.default_dtype, **kwargs)

    call.__name__ = fn.__name__
    call.__qualname__ = fn.__qualname__
    call.__doc__ = fn.__doc__
    call.__wrapped__ = fn  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


log = _with_default_dtype(telemetron.log)
log_distributed = _with_default_dtype(telemetron.log_distributed)
log_rl_episode = _with_default_dtype(telemetron.log_rl_episode)
log_rl_environment_step = _with_default_dtype(telemetron.log_rl_environment_step)
log_histogram = _checked(telemetron.log_histogram)
log_scatter = _checked(telemetron.log_scatter)
log_scatter3d = _checked(telemetron.log_scatter3d)
log_config = _checked(telemetron.log_config)
log_attributes = _checked(telemetron.log_attributes)
log_env_attributes = _checked(telemetron.log_env_attributes)
set_tags = _checked(telemetron.set_tags)
add_tags = _checked(telemetron.add_tags)
remove_tags = _checked(telemetron.remove_tags)
set_description = _checked(telemetron.set_description)
get_last_step = _checked(telemetron.get_last_step)
get_env_last_rl_step_and_episode = _checked(telemetron.get_env_last_rl_step_and_episode)


def log_rl_step(
    metric_name: str,
    value: float | int,
    evaluation: bool = False,
    step: int | None = None,
    labels: dict[str, str] | None = None,
    timestamp: int | None = None,
) -> None:
    """Metrana 0.2.1's ``log_rl_step``: a point of an ``ML_STEP`` series (``timestamp`` in
    milliseconds: 0.2.1 took nanoseconds, which are refused with a message saying so)."""
    log(metric_name, value, scale="ML_STEP", step=step, labels=labels,
        evaluation=evaluation or None, timestamp=timestamp)  # fmt: skip


def log_rendering(
    frame: Any, rl_step: int, episode: int, env_id: Any = None, *, name: str | None = None
) -> bool:
    """Metrana's ``log_rendering``: the frame is encoded into
    ``<rendering_output_dir>/<run>/<env>/episode_<n>.mp4``. Videos stay on disk: uploading them
    to Metrana's artifact API is not supported (pass ``upload_renderings=False`` to ``init``)."""
    _require()
    if _state.upload_renderings not in (False, "off", "Off", None):
        raise _unsupported(
            "uploading renderings to Metrana's artifact API",
            "pass upload_renderings=False to init() to keep videos on disk",
        )
    if name is not None:
        raise _unsupported("named renderings (several videos per env and episode)")
    return telemetron.log_rendering(frame, rl_step, episode, env_id)


def flush(timeout_secs: float | None = 900.0) -> None:
    """Waits until everything logged so far is acknowledged by the server."""
    _require()
    telemetron.flush(1e9 if timeout_secs is None else timeout_secs)


def check_sender_errors() -> None:
    """Raises ``MetranaSenderError`` if delivery to the server failed (the Metrana exporter is
    failing or was disabled), naming the error."""
    _require()
    for health in telemetron.exporter_health():
        if health["name"] == "metrana" and (health["disabled"] or health["consecutive_failures"]):
            raise MetranaSenderError(
                f"delivery to Metrana failed: {health['disabled'] or health['last_error']}"
            )


class Metrics:
    """Metrana's self-metrics: data points per kind, ``_added`` (API calls), ``_enqueued``,
    ``_sent`` (acknowledged by the server), ``_dropped`` (dropped or failed anywhere),
    ``_disk_persisted`` (in the spool, not delivered yet)."""

    _KINDS = {"float_points": ("metric",), "rl_float_points": ("rl_metric",),
              "histogram_points": ("histogram",), "scatter_points": ("scatter",),
              "attribute_updates": ("attributes",)}  # fmt: skip

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self._snapshot = snapshot
        points = snapshot["points"]
        sent = snapshot.get("exporter_points", {}).get("metrana", {})
        for name, (kind,) in self._KINDS.items():
            runtime = points.get(kind, {})
            exporter = sent.get(kind, {})
            setattr(self, f"{name}_added", runtime.get("added", 0))
            setattr(self, f"{name}_enqueued", runtime.get("enqueued", 0))
            setattr(self, f"{name}_sent", exporter.get("sent", 0))
            setattr(self, f"{name}_dropped", runtime.get("dropped", 0)
                    + exporter.get("dropped", 0) + exporter.get("failed", 0))  # fmt: skip
            setattr(self, f"{name}_disk_persisted", exporter.get("spooled", 0))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("env_attribute_updates"):
            raise _unsupported(name, "environment attribute updates are counted in "
                               "attribute_updates_*")  # fmt: skip
        raise AttributeError(name)

    def __repr__(self) -> str:
        fields = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"Metrics({', '.join(f'{k}={v}' for k, v in fields.items())})"


def get_metrics() -> Metrics:
    """A snapshot of the self-metrics (see ``Metrics``)."""
    _require()
    return Metrics(telemetron.metrics(verbose=True))


class CloseInfo:
    """What ``close()`` and ``replay_spool()`` return: ``metrics`` (final ``Metrics``; None
    after a replay), what is left on disk (``has_undelivered_spool``, ``leftover_segments``,
    ``leftover_bytes``; ``foreign_spools`` is always empty: other hosts' spools are not
    looked at) and ``report`` (Telemetron's close or replay report)."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.metrics: Metrics | None = Metrics(report["metrics"])
        spooled = [s for s in report.get("spooled", []) if s["exporter"] == "metrana"]
        paths = [Path(s["path"]) for s in spooled if s["records"] > 0]
        self.leftover_bytes = sum(s["bytes"] for s in spooled if s["records"] > 0)
        self.leftover_segments = sum(len(list(p.glob("seg-*"))) for p in paths if p.is_dir())
        self.has_undelivered_spool = bool(paths)
        self.foreign_spools: list[str] = []

    @classmethod
    def of_replay(cls, report: dict[str, Any]) -> CloseInfo:
        info = cls.__new__(cls)
        info.report = report
        info.metrics = None
        info.leftover_bytes = int(report["remaining_bytes"])
        info.leftover_segments = 0
        info.has_undelivered_spool = info.leftover_bytes > 0
        info.foreign_spools = []
        return info


def close(close_timeout: float | None = 900.0) -> CloseInfo | None:
    """Flushes, closes the run on the server (CloseRun) and shuts down, waiting at most
    ``close_timeout`` seconds. Returns a ``CloseInfo``, or None when not initialized. Under
    ``delivery_policy="all_or_crash"`` data that was not delivered raises
    ``MetranaClosingError`` (the state is cleared either way; ``init`` may be called again)."""
    if not is_initialized():
        _state.initialized = False
        return None
    _state.initialized = False
    report = telemetron.shutdown(1e9 if close_timeout is None else close_timeout, verbose=True)
    if report is None:
        return None
    info = CloseInfo(report)
    lost = [u for u in report["undelivered"] if u["exporter"] == "metrana"]
    if lost and _state.delivery_policy is DeliveryPolicy.AllOrCrash:
        raise MetranaClosingError(
            "not delivered to Metrana: "
            + "; ".join(f"{u['records']} records ({u['reason']})" for u in lost)
        )
    return info


def shutdown_logger(close_timeout: float | None = 900.0) -> CloseInfo | None:
    raise _unsupported("shutdown_logger (leaving the run open)",
                       "the exporter always closes the run; use metrana.close()")  # fmt: skip


def __getattr__(name: str) -> Any:
    unsupported = {
        "tracing": "metrana.tracing (LLM/agent traces; use telemetron.timed_span and the OTLP "
                   "exporter)",
        "query": "metrana.query (reading runs back)",
        "follow_spool": "follow_spool (delivering a growing copy of a spool; replay_spool "
                        "delivers a finished one)",
        "failover_to_spool": "failover_to_spool (a manual failover; the spool takes over by "
                             "itself when the backend stops answering)",
        "tag_rendering": "tag_rendering (video tags are an artifact-API feature)",
        "mark_rendering_event": "mark_rendering_event (video events are an artifact-API feature)",
    }  # fmt: skip
    if name in unsupported:
        raise _unsupported(unsupported[name])
    if name.endswith(("_artifact", "_artifact_alias", "_artifact_files", "_artifact_version")) or (
        "video_" in name
    ):
        raise _unsupported(f"{name} (Metrana's artifact API)")
    raise AttributeError(f"module 'telemetron.metrana' has no attribute {name!r}")
