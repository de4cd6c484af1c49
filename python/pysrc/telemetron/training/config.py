"""Configuration with OneLogger's field names: ``OneLoggerConfig`` and ``TrainingTelemetryConfig``.

Plain classes (no pydantic). ``*_or_fn`` fields take a value or a zero-argument callable that is
evaluated each time the value is used (a batch size that ramps up, a world size known late).
Unknown field names raise ``ConfigError`` (OneLogger ignores them silently).
"""

from __future__ import annotations

import os

from telemetron._native import ConfigError
from telemetron.training._names import CheckPointStrategy, OneLoggerErrorHandlingStrategy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_REQUIRED = object()


def _value(value_or_fn: Any) -> Any:
    return value_or_fn() if callable(value_or_fn) else value_or_fn


def current_rank() -> int:
    """This process's global rank: ``RANK``, else ``SLURM_PROCID``, else 0."""
    for var in ("RANK", "SLURM_PROCID"):
        text = os.environ.get(var)
        if text is not None and text.strip():
            try:
                return int(text)
            except ValueError:
                raise ConfigError(f"{var}={text!r} is not an integer rank") from None
    return 0


class _Fields:
    """Keyword-only fields with defaults; ``to_dict`` gives them back for overrides."""

    _defaults: dict[str, Any] = {}

    def __init__(self, **fields: Any) -> None:
        unknown = sorted(set(fields) - set(self._defaults))
        if unknown:
            raise ConfigError(
                f"{type(self).__name__}: unknown field(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(self._defaults))})"
            )
        for name, default in self._defaults.items():
            value = fields.get(name, default)
            if value is _REQUIRED:
                raise ConfigError(f"{type(self).__name__}: {name} is required")
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """The fields as given (callables unevaluated), for ``with_config_override``."""
        return {name: getattr(self, name) for name in self._defaults}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._defaults)
        return f"{type(self).__name__}({fields})"


class TrainingTelemetryConfig(_Fields):
    """What the training callbacks need to know about the job (OneLogger's field names).

    Required: ``perf_tag_or_fn`` and ``global_batch_size_or_fn``. Throughput metrics
    (``is_log_throughput_enabled_or_fn=True``) need ``flops_per_sample_or_fn`` and the
    iteration and sample targets (here or in ``on_train_start``).
    """

    _defaults: dict[str, Any] = {
        "perf_tag_or_fn": _REQUIRED,
        "global_batch_size_or_fn": _REQUIRED,
        "micro_batch_size_or_fn": None,
        "seq_length_or_fn": None,
        "flops_per_sample_or_fn": None,
        "train_iterations_target_or_fn": None,
        "train_samples_target_or_fn": None,
        "log_every_n_train_iterations": 50,
        "is_log_throughput_enabled_or_fn": False,
        "save_checkpoint_strategy": CheckPointStrategy.SYNC,
        "is_train_iterations_enabled_or_fn": True,
        "is_validation_iterations_enabled_or_fn": True,
        "is_test_iterations_enabled_or_fn": True,
        "is_save_checkpoint_enabled_or_fn": True,
        "custom_metadata": None,
    }

    perf_tag_or_fn: str | list[str] | Callable[[], str | list[str]]
    global_batch_size_or_fn: int | Callable[[], int]
    micro_batch_size_or_fn: int | Callable[[], int] | None
    seq_length_or_fn: int | Callable[[], int] | None
    flops_per_sample_or_fn: int | Callable[[], int] | None
    train_iterations_target_or_fn: int | Callable[[], int] | None
    train_samples_target_or_fn: int | Callable[[], int] | None
    log_every_n_train_iterations: int
    is_log_throughput_enabled_or_fn: bool | Callable[[], bool]
    save_checkpoint_strategy: CheckPointStrategy
    is_train_iterations_enabled_or_fn: bool | Callable[[], bool]
    is_validation_iterations_enabled_or_fn: bool | Callable[[], bool]
    is_test_iterations_enabled_or_fn: bool | Callable[[], bool]
    is_save_checkpoint_enabled_or_fn: bool | Callable[[], bool]
    custom_metadata: dict[str, Any] | None

    def __init__(self, **fields: Any) -> None:
        super().__init__(**fields)
        strategy = self.save_checkpoint_strategy
        try:
            self.save_checkpoint_strategy = CheckPointStrategy(strategy)
        except ValueError:
            raise ConfigError(
                f"save_checkpoint_strategy must be 'sync' or 'async', got {strategy!r}"
            ) from None
        every = self.log_every_n_train_iterations
        if isinstance(every, bool) or not isinstance(every, int) or every <= 0:
            raise ConfigError(f"log_every_n_train_iterations must be an int > 0, got {every!r}")
        if not isinstance(self.global_batch_size, int) or self.global_batch_size <= 0:
            raise ConfigError(
                f"global_batch_size must be an int > 0, got {self.global_batch_size!r}"
            )
        flops = self.flops_per_sample
        if self.is_log_throughput_enabled and (flops is None or flops <= 0):
            raise ConfigError(
                "flops_per_sample must be > 0 when is_log_throughput_enabled is true, "
                f"got {flops!r}"
            )
        _check_metadata(self.custom_metadata)

    @property
    def perf_tag(self) -> str | list[str]:
        """Identifies jobs whose performance is comparable."""
        return _value(self.perf_tag_or_fn)  # type: ignore[no-any-return]

    @property
    def global_batch_size(self) -> int:
        """Samples per training iteration, over all ranks."""
        return _value(self.global_batch_size_or_fn)  # type: ignore[no-any-return]

    @property
    def micro_batch_size(self) -> int | None:
        """Samples per micro-batch, if any."""
        return _value(self.micro_batch_size_or_fn)  # type: ignore[no-any-return]

    @property
    def seq_length(self) -> int | None:
        """Tokens per sample, if any."""
        return _value(self.seq_length_or_fn)  # type: ignore[no-any-return]

    @property
    def flops_per_sample(self) -> int | None:
        """Floating point operations per sample (throughput metrics)."""
        return _value(self.flops_per_sample_or_fn)  # type: ignore[no-any-return]

    @property
    def train_iterations_target(self) -> int | None:
        """Iterations the job aims for."""
        return _value(self.train_iterations_target_or_fn)  # type: ignore[no-any-return]

    @property
    def train_samples_target(self) -> int | None:
        """Samples the job aims for."""
        return _value(self.train_samples_target_or_fn)  # type: ignore[no-any-return]

    @property
    def is_log_throughput_enabled(self) -> bool:
        """Whether TFLOPS metrics are computed."""
        return bool(_value(self.is_log_throughput_enabled_or_fn))

    @property
    def is_train_iterations_enabled(self) -> bool:
        """Whether training iterations are recorded (reported in the config event)."""
        return bool(_value(self.is_train_iterations_enabled_or_fn))

    @property
    def is_validation_iterations_enabled(self) -> bool:
        """Whether validation iterations are recorded (reported in the config event)."""
        return bool(_value(self.is_validation_iterations_enabled_or_fn))

    @property
    def is_test_iterations_enabled(self) -> bool:
        """Whether test iterations are recorded (reported in the config event)."""
        return bool(_value(self.is_test_iterations_enabled_or_fn))

    @property
    def is_save_checkpoint_enabled(self) -> bool:
        """Whether checkpoint saves are timed and reported."""
        return bool(_value(self.is_save_checkpoint_enabled_or_fn))


class OneLoggerConfig(_Fields):
    """The application's configuration (OneLogger's field names).

    Required: ``application_name``, ``world_size_or_fn``, ``session_tag_or_fn``.
    ``enable_for_current_rank`` defaults to *global rank 0 only* (the rank from ``RANK``, else
    ``SLURM_PROCID``, else 0): OneLogger enables every rank unless told otherwise. On a disabled
    rank nothing is recorded and nothing fails. ``error_handling_strategy`` defaults to
    ``PROPAGATE_EXCEPTIONS``, or ``DISABLE_QUIETLY_AND_REPORT_METRIC_ERROR`` on a disabled rank.
    ``logger_config`` is accepted for compatibility and ignored (Telemetron writes no
    ``onelogger.log`` files).
    """

    _defaults: dict[str, Any] = {
        "application_name": _REQUIRED,
        "world_size_or_fn": _REQUIRED,
        "session_tag_or_fn": _REQUIRED,
        "is_baseline_run_or_fn": False,
        "custom_metadata": None,
        "error_handling_strategy": None,
        "enable_for_current_rank": None,
        "logger_config": None,
        "summary_data_schema_version": "1.0.0",
        "telemetry_config": None,
    }

    application_name: str
    world_size_or_fn: int | Callable[[], int]
    session_tag_or_fn: str | Callable[[], str]
    is_baseline_run_or_fn: bool | Callable[[], bool]
    custom_metadata: dict[str, Any] | None
    error_handling_strategy: OneLoggerErrorHandlingStrategy
    enable_for_current_rank: bool
    logger_config: Any
    summary_data_schema_version: str
    telemetry_config: TrainingTelemetryConfig | None

    def __init__(self, **fields: Any) -> None:
        super().__init__(**fields)
        if self.enable_for_current_rank is None:
            self.enable_for_current_rank = current_rank() == 0
        strategy = self.error_handling_strategy
        if strategy is None:
            self.error_handling_strategy = (
                OneLoggerErrorHandlingStrategy.PROPAGATE_EXCEPTIONS
                if self.enable_for_current_rank
                else OneLoggerErrorHandlingStrategy.DISABLE_QUIETLY_AND_REPORT_METRIC_ERROR
            )
        else:
            try:
                self.error_handling_strategy = OneLoggerErrorHandlingStrategy(
                    getattr(strategy, "value", strategy)
                )
            except ValueError:
                raise ConfigError(
                    "error_handling_strategy must be 'propagate_exceptions' or "
                    f"'disable_quietly_and_report_metric_error', got {strategy!r}"
                ) from None
        name = self.application_name
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"application_name must be a non-empty string, got {name!r}")
        world_size = self.world_size
        if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size <= 0:
            raise ConfigError(f"world_size must be an int > 0, got {world_size!r}")
        if isinstance(self.telemetry_config, dict):
            self.telemetry_config = TrainingTelemetryConfig(**self.telemetry_config)
        elif self.telemetry_config is not None and not isinstance(
            self.telemetry_config, TrainingTelemetryConfig
        ):
            raise ConfigError(
                "telemetry_config must be a TrainingTelemetryConfig or a dict of its fields, "
                f"got {type(self.telemetry_config).__name__}"
            )
        _check_metadata(self.custom_metadata)

    @property
    def world_size(self) -> int:
        """Processes taking part in the job."""
        return _value(self.world_size_or_fn)  # type: ignore[no-any-return]

    @property
    def session_tag(self) -> str:
        """Identifies the jobs that together make one logical job."""
        return _value(self.session_tag_or_fn)  # type: ignore[no-any-return]

    @property
    def is_baseline_run(self) -> bool:
        """Whether this run sets a performance baseline."""
        return bool(_value(self.is_baseline_run_or_fn))


def _check_metadata(metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise ConfigError(f"custom_metadata must be a dict, got {type(metadata).__name__}")
    for key in metadata:
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"custom_metadata keys must be non-empty strings, got {key!r}")


def custom_metadata_list(metadata: dict[str, Any] | None) -> list[str] | None:
    """OneLogger's flattened form: ``["key:value", ...]``."""
    if metadata is None:
        return None
    return [f"{k}:{v}" for k, v in metadata.items()]
