from collections.abc import Sequence
from os import PathLike
from typing import Any, final

__version__: str

class TelemetronError(Exception): ...
class ConfigError(TelemetronError): ...
class EnqueueError(TelemetronError): ...
class QueueFullError(EnqueueError): ...
class ValidationError(EnqueueError): ...
class ExporterError(TelemetronError): ...
class ShutdownError(TelemetronError): ...
class TelemetronWarning(UserWarning): ...
class ExporterAbandoned(BaseException): ...

@final
class SpanRef:
    @property
    def trace_id(self) -> str: ...
    @property
    def span_id(self) -> str: ...
    @property
    def traceparent(self) -> str: ...
    @staticmethod
    def from_traceparent(value: str) -> SpanRef: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Runtime:
    def __new__(
        cls,
        exporters: list[Any] | None = None,
        plugins: list[Any] | None = None,
        config_file: str | PathLike[str] | None = None,
        settings: dict[str, Any] | None = None,
        registry_layers: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> Runtime: ...
    def start_span(
        self,
        name: str,
        parent: SpanRef | None = None,
        attributes: Any = None,
        start_event_attributes: Any = None,
        start_time: float | None = None,
    ) -> SpanRef: ...
    def stop_span(
        self,
        span: SpanRef,
        attributes: Any = None,
        cancelled: bool = False,
        span_attributes: Any = None,
        stop_time: float | None = None,
    ) -> None: ...
    def update_span(self, span: SpanRef, attributes: Any) -> None: ...
    def event(
        self, span: SpanRef | None, name: str, attributes: Any = None, time: float | None = None
    ) -> None: ...
    def log_metric(
        self,
        name: str | dict[str, Any],
        value: Any = None,
        scale: str | None = None,
        step: Any = None,
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
        timestamp: Any = None,
        dtype: str | None = None,
        ordered: bool = True,
    ) -> None: ...
    def log_run_attributes(
        self,
        updates: list[tuple[str, Any]],
        env_id: str | None = None,
        episode: int | None = None,
    ) -> None: ...
    def log_rl_environment_step(
        self,
        name: str,
        values: Any,
        per_env: int,
        rl_step: int,
        envs: Sequence[object],
        episodes: list[int | None] | None,
        env_step_mode: str,
        env_steps: list[int] | None = None,
        start_from_one: bool = False,
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
        timestamp: Any = None,
        dtype: str | None = None,
    ) -> None: ...
    def log_rl_episode(
        self,
        name: str,
        values: Any,
        rl_step: int,
        envs: Sequence[object],
        episodes: list[int] | None = None,
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
        timestamp: Any = None,
        dtype: str | None = None,
    ) -> None: ...
    def log_histogram(
        self,
        name: str,
        step: int,
        bin_edges: Any,
        counts: Any = None,
        densities: Any = None,
        stats: tuple[float, float, float, float] | None = None,
        scale: str | None = None,
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
        timestamp: int | None = None,
    ) -> None: ...
    def log_scatter(
        self,
        name: str,
        step: int,
        xs: Any,
        ys: Any,
        zs: Any = None,
        x_title: str | None = None,
        y_title: str | None = None,
        z_title: str | None = None,
        scale: str | None = None,
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
        timestamp: int | None = None,
    ) -> None: ...
    def current_episodes(
        self,
        name: str,
        envs: Sequence[object],
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
    ) -> list[int] | None: ...
    def env_last_rl_step_and_episode(self, env: str) -> tuple[int, int | None] | None: ...
    def last_step(
        self,
        name: str,
        scale: str | None = None,
        labels: dict[str, Any] | None = None,
        evaluation: bool | None = None,
    ) -> int | None: ...
    def log(
        self,
        level: int,
        body: str,
        logger: str,
        span: SpanRef | None = None,
        attributes: Any = None,
    ) -> None: ...
    def error(
        self,
        span: SpanRef | None,
        message: str,
        exception_type: str | None = None,
        exception_message: str | None = None,
        traceback: str | None = None,
        time: float | None = None,
    ) -> None: ...
    def telemetry_data_error(self, kind: str, message: str) -> None: ...
    def flush(self, timeout: float) -> None: ...
    def close(self, timeout: float) -> dict[str, Any]: ...
    def log_rendering(
        self, frame: Any, rl_step: int, episode: int, env_id: int | str | None = None
    ) -> bool: ...
    def rendering_metrics(self) -> dict[str, int] | None: ...
    def metrics(self) -> dict[str, Any]: ...
    def exporter_health(self) -> list[dict[str, Any]]: ...
    def describe_config(self) -> str: ...
    def is_offline(self) -> bool: ...
    def spool_status(self) -> list[dict[str, Any]]: ...
    @property
    def destinations(self) -> list[str]: ...
    @property
    def config_warnings(self) -> list[str]: ...
    @property
    def run_name(self) -> str: ...
    @property
    def orchestration_id(self) -> str: ...
    @property
    def logger_id(self) -> int: ...
    def abandon(self) -> None: ...

def exporter_types() -> list[str]: ...
def refuse_from_exporter(what: str) -> None: ...
def max_values_per_call() -> int: ...
def exporters_inside() -> int: ...
def interrupt_exporters() -> int: ...
def cli_main(
    argv: list[str], registry_layers: list[tuple[str, dict[str, Any]]] | None = None
) -> int: ...
def replay_spool(
    spool_dir: str | PathLike[str] | None = None,
    *,
    workspace: str | None = None,
    project: str | None = None,
    run_name: str | None = None,
    exporters: list[Any] | None = None,
    config_file: str | PathLike[str] | None = None,
    timeout: float = 60.0,
    registry_layers: list[tuple[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]: ...
