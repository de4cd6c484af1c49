"""The names of OneLogger's training record stream: spans, events, strategies, modes.

Values are exactly OneLogger 2.3.1's, so dashboards built on its stream keep working.
"""

from __future__ import annotations

from enum import Enum


class _StrEnum(str, Enum):
    """A str-valued enum whose ``str()`` is its value (``enum.StrEnum`` needs Python 3.11)."""

    def __str__(self) -> str:
        return str(self.value)


class StandardSpanName(_StrEnum):
    """Span names shared by every kind of application."""

    APPLICATION = "application"


class StandardTrainingJobSpanName(_StrEnum):
    """The spans of a training job."""

    TRAINING_LOOP = "training_loop"
    VALIDATION_LOOP = "validation_loop"
    TESTING_LOOP = "testing_loop"
    DIST_INIT = "distributed_code_initialization"
    DATA_LOADER_INIT = "data_loader_initialization"
    MODEL_INIT = "model_initialization"
    OPTIMIZER_INIT = "optimizer_initialization"
    CHECKPOINT_LOAD = "checkpoint_load"
    CHECKPOINT_SAVE_SYNC = "checkpoint_save_sync"
    CHECKPOINT_SAVE_ASYNC = "checkpoint_save_async"
    CHECKPOINT_SAVE_FINALIZATION = "checkpoint_save_finalization"
    TRAINING_SINGLE_ITERATION = "training_single_iteration"
    VALIDATION_SINGLE_ITERATION = "validation_single_iteration"
    # Upper case in OneLogger 2.3.1 too.
    TESTING_SINGLE_ITERATION = "TESTING_SINGLE_ITERATION"
    DATA_LOADING = "data_loading"
    MODEL_FORWARD = "model_forward"
    ZERO_GRAD = "zero_grad"
    MODEL_BACKWARD = "model_backward"
    OPTIMIZER_UPDATE = "optimizer_update"


class StandardTrainingJobEventName(_StrEnum):
    """The events of a training job."""

    ONE_LOGGER_INITIALIZATION = "one_logger_initialization"
    UPDATE_TRAINING_TELEMETRY_CONFIG = "update_training_telemetry_config"
    TRAINING_METRICS_UPDATE = "training_metrics_update"
    VALIDATION_METRICS_UPDATE = "validation_metrics_update"
    TESTING_METRICS_UPDATE = "testing_metrics_update"
    SAVE_CHECKPOINT_SUCCESS = "save_checkpoint_success"
    SYNC_CHECKPOINT_METRICS_UPDATE = "sync_checkpoint_metrics_update"


class CheckPointStrategy(_StrEnum):
    """How checkpoints are saved: the training loop waits (sync) or only schedules (async)."""

    SYNC = "sync"
    ASYNC = "async"


class ExportCustomizationMode(Enum):
    """Which spans (with their events) are recorded."""

    EXPORT_ALL_SPANS = 1
    WHITELIST_SPANS = 2
    BLACKLIST_SPANS = 3


class OneLoggerErrorHandlingStrategy(Enum):
    """What an error inside the telemetry code does (never an exporter failure: those are the
    runtime's, counted and reported without reaching the application)."""

    PROPAGATE_EXCEPTIONS = "propagate_exceptions"
    DISABLE_QUIETLY_AND_REPORT_METRIC_ERROR = "disable_quietly_and_report_metric_error"


# The spans with one active instance at a time (found by name by the end callbacks).
STANDARD_SPAN_NAMES = frozenset(
    [StandardSpanName.APPLICATION.value] + [n.value for n in StandardTrainingJobSpanName]
)

# Very short, very frequent spans: not recorded by default (OneLogger's default blacklist).
DEFAULT_SPANS_EXPORT_BLACKLIST: list[StandardTrainingJobSpanName] = [
    StandardTrainingJobSpanName.TRAINING_SINGLE_ITERATION,
    StandardTrainingJobSpanName.VALIDATION_SINGLE_ITERATION,
    StandardTrainingJobSpanName.TESTING_SINGLE_ITERATION,
    StandardTrainingJobSpanName.DATA_LOADING,
    StandardTrainingJobSpanName.MODEL_FORWARD,
    StandardTrainingJobSpanName.ZERO_GRAD,
    StandardTrainingJobSpanName.MODEL_BACKWARD,
    StandardTrainingJobSpanName.OPTIMIZER_UPDATE,
]


def name_str(name: str | Enum) -> str:
    """A span or event name as text: an enum's value, or the string itself."""
    if isinstance(name, Enum):
        value = name.value
        return value if isinstance(value, str) else str(name)
    return name
