"""Training telemetry on Telemetron's Recorder API, with NVIDIA OneLogger's names.

The same configuration fields, callbacks, context managers and record stream as
``nv-one-logger-training-telemetry`` 2.3.1 (spans ``application``, ``training_loop``,
``checkpoint_save_sync``...; events ``training_metrics_update``, ``save_checkpoint_success``...;
every stopped span carries ``duration_msec`` and every event ``timestamp_msec``), so dashboards
built on OneLogger's stream keep working. The periodic metrics are also metric series
(``train/iteration_time_sec``, ``train/throughput_tflops_per_gpu``, ...) at the iteration step.

    from telemetron.training import (
        OneLoggerConfig, TrainingTelemetryConfig, TrainingTelemetryProvider,
        application, training_loop, training_iteration, checkpoint_save,
    )

    TrainingTelemetryProvider.instance().with_base_config(OneLoggerConfig(
        application_name="llm", world_size_or_fn=8, session_tag_or_fn="run-7",
        telemetry_config=TrainingTelemetryConfig(perf_tag_or_fn="8b", global_batch_size_or_fn=512),
    )).configure_provider()
    with application(), training_loop(train_iterations_start=0):
        for step in range(1000):
            with training_iteration():
                ...

Recording is on for global rank 0 only unless ``enable_for_current_rank`` says otherwise (the
rank from ``RANK``, else ``SLURM_PROCID``, else 0). Pure Python, imported only when used.
"""

from telemetron.training._errors import OneLoggerError, TrainingTelemetryError
from telemetron.training._names import (
    DEFAULT_SPANS_EXPORT_BLACKLIST,
    CheckPointStrategy,
    ExportCustomizationMode,
    OneLoggerErrorHandlingStrategy,
    StandardSpanName,
    StandardTrainingJobEventName,
    StandardTrainingJobSpanName,
)
from telemetron.training._spans import TrainingSpan
from telemetron.training.callbacks import (
    on_app_end,
    on_app_start,
    on_dataloader_init_end,
    on_dataloader_init_start,
    on_distributed_init_end,
    on_distributed_init_start,
    on_load_checkpoint_end,
    on_load_checkpoint_start,
    on_model_init_end,
    on_model_init_start,
    on_optimizer_init_end,
    on_optimizer_init_start,
    on_save_checkpoint_end,
    on_save_checkpoint_start,
    on_save_checkpoint_success,
    on_testing_end,
    on_testing_start,
    on_train_end,
    on_train_start,
    on_training_single_iteration_end,
    on_training_single_iteration_start,
    on_validation_end,
    on_validation_single_iteration_end,
    on_validation_single_iteration_start,
    on_validation_start,
)
from telemetron.training.config import OneLoggerConfig, TrainingTelemetryConfig, current_rank
from telemetron.training.context import (
    application,
    checkpoint_load,
    checkpoint_save,
    dataloader_init,
    distributed_init,
    model_init,
    optimizer_init,
    testing_loop,
    timed_span,
    training_iteration,
    training_loop,
    validation_iteration,
    validation_loop,
)
from telemetron.training.provider import TrainingTelemetryProvider
from telemetron.training.recorder import TrainingRecorder

__all__ = [
    "DEFAULT_SPANS_EXPORT_BLACKLIST",
    "CheckPointStrategy",
    "ExportCustomizationMode",
    "OneLoggerConfig",
    "OneLoggerError",
    "OneLoggerErrorHandlingStrategy",
    "StandardSpanName",
    "StandardTrainingJobEventName",
    "StandardTrainingJobSpanName",
    "TrainingRecorder",
    "TrainingSpan",
    "TrainingTelemetryConfig",
    "TrainingTelemetryError",
    "TrainingTelemetryProvider",
    "application",
    "checkpoint_load",
    "checkpoint_save",
    "current_rank",
    "dataloader_init",
    "distributed_init",
    "model_init",
    "on_app_end",
    "on_app_start",
    "on_dataloader_init_end",
    "on_dataloader_init_start",
    "on_distributed_init_end",
    "on_distributed_init_start",
    "on_load_checkpoint_end",
    "on_load_checkpoint_start",
    "on_model_init_end",
    "on_model_init_start",
    "on_optimizer_init_end",
    "on_optimizer_init_start",
    "on_save_checkpoint_end",
    "on_save_checkpoint_start",
    "on_save_checkpoint_success",
    "on_testing_end",
    "on_testing_start",
    "on_train_end",
    "on_train_start",
    "on_training_single_iteration_end",
    "on_training_single_iteration_start",
    "on_validation_end",
    "on_validation_single_iteration_end",
    "on_validation_single_iteration_start",
    "on_validation_start",
    "optimizer_init",
    "testing_loop",
    "timed_span",
    "training_iteration",
    "training_loop",
    "validation_iteration",
    "validation_loop",
]
