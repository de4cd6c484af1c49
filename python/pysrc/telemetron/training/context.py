"""Context managers over the callbacks (OneLogger's ``context.py``), and ``timed_span``.

Each calls its start callback, yields the span (None while recording is off: the block still
runs), and calls the end callback when the block exits. Like OneLogger's, they record no error
event for an exception in the block; ``timed_span`` does.
"""

from __future__ import annotations

from telemetron.training import callbacks as cb
from telemetron.training._names import CheckPointStrategy, name_str
from telemetron.training.provider import TrainingTelemetryProvider

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from enum import Enum
    from types import TracebackType
    from typing import Any

    from telemetron.training._spans import TrainingSpan


class _Phase:
    """Start callback on enter, end callback on exit."""

    __slots__ = ("_start", "_end", "_span")

    def __init__(self, start: Callable[[], TrainingSpan | None], end: Callable[[], None]) -> None:
        self._start = start
        self._end = end
        self._span: TrainingSpan | None = None

    def __enter__(self) -> TrainingSpan | None:
        self._span = self._start()
        return self._span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()


def application() -> _Phase:
    """The whole application (span ``application``)."""
    return _Phase(cb.on_app_start, cb.on_app_end)


def distributed_init() -> _Phase:
    """Distributed initialization (span ``distributed_code_initialization``)."""
    return _Phase(cb.on_distributed_init_start, cb.on_distributed_init_end)


def model_init() -> _Phase:
    """Model initialization (span ``model_initialization``)."""
    return _Phase(cb.on_model_init_start, cb.on_model_init_end)


def dataloader_init() -> _Phase:
    """Data loader initialization (span ``data_loader_initialization``)."""
    return _Phase(cb.on_dataloader_init_start, cb.on_dataloader_init_end)


def optimizer_init() -> _Phase:
    """Optimizer initialization (span ``optimizer_initialization``)."""
    return _Phase(cb.on_optimizer_init_start, cb.on_optimizer_init_end)


def training_loop(
    train_iterations_start: int,
    train_samples_start: int | None = None,
    train_iterations_target_or_fn: int | Callable[[], int] | None = None,
    train_samples_target_or_fn: int | Callable[[], int] | None = None,
) -> _Phase:
    """The training loop (span ``training_loop``); arguments as ``on_train_start``."""
    return _Phase(
        lambda: cb.on_train_start(
            train_iterations_start,
            train_samples_start,
            train_iterations_target_or_fn,
            train_samples_target_or_fn,
        ),
        cb.on_train_end,
    )


class training_iteration:  # noqa: N801 - OneLogger's name
    """One training iteration (span ``training_single_iteration``)."""

    __slots__ = ()

    def __enter__(self) -> TrainingSpan | None:
        return cb.on_training_single_iteration_start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        cb.on_training_single_iteration_end()


def validation_loop() -> _Phase:
    """The validation loop (span ``validation_loop``)."""
    return _Phase(cb.on_validation_start, cb.on_validation_end)


def validation_iteration() -> _Phase:
    """One validation iteration (span ``validation_single_iteration``)."""
    return _Phase(cb.on_validation_single_iteration_start, cb.on_validation_single_iteration_end)


def testing_loop() -> _Phase:
    """The testing loop (span ``testing_loop``)."""
    return _Phase(cb.on_testing_start, cb.on_testing_end)


def checkpoint_load() -> _Phase:
    """Loading a checkpoint (span ``checkpoint_load``)."""
    return _Phase(cb.on_load_checkpoint_start, cb.on_load_checkpoint_end)


class checkpoint_save:  # noqa: N801 - OneLogger's name
    """Saving the checkpoint of ``global_step``; on a normal exit with the SYNC strategy it also
    calls ``on_save_checkpoint_success`` (async saves call it when they finish)."""

    __slots__ = ("_step",)

    def __init__(self, global_step: int) -> None:
        self._step = global_step

    def __enter__(self) -> TrainingSpan | None:
        return cb.on_save_checkpoint_start(self._step)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                provider = TrainingTelemetryProvider.instance()
                config = provider._config.telemetry_config if provider._config else None
                if (
                    config is not None
                    and config.save_checkpoint_strategy is CheckPointStrategy.SYNC
                ):
                    cb.on_save_checkpoint_success(self._step)
        finally:
            cb.on_save_checkpoint_end()


class timed_span:  # noqa: N801 - OneLogger's name
    """A custom span through the training recorder: parented to the current training span (or
    its nearest recorded ancestor), filtered like the standard spans. An ``Exception`` in the
    block records an error event (``Error in <name>: ``, with the exception's type, message and
    traceback) before the span stops; the exception propagates. On a disabled rank it yields
    None and the block runs (OneLogger raises ``AttributeError`` there)."""

    __slots__ = ("_name", "_attributes", "_start_attributes", "_span")

    def __init__(
        self,
        name: str | Enum,
        span_attributes: Mapping[str, Any] | None = None,
        start_event_attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self._name = name_str(name)
        self._attributes = span_attributes
        self._start_attributes = start_event_attributes
        self._span: TrainingSpan | None = None

    def __enter__(self) -> TrainingSpan | None:
        provider = TrainingTelemetryProvider.instance()
        recorder = provider.live
        if recorder is None:
            provider.skipped("timed_span")
            return None
        try:
            self._span = recorder.start(self._name, self._attributes, self._start_attributes)
        except Exception as exc:  # noqa: BLE001 - the error strategy decides
            provider.failed("timed_span", exc)
        return self._span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span, self._span = self._span, None
        provider = TrainingTelemetryProvider.instance()
        recorder = provider.live
        if span is None or recorder is None:
            return
        try:
            if isinstance(exc, Exception):
                recorder.error(span, f"Error in {self._name}: ", exc)
            recorder.stop(span)
        except Exception as error:  # noqa: BLE001 - the error strategy decides
            provider.failed("timed_span", error)
