"""``TrainingTelemetryProvider``: the process-wide entry point, configured once (builder API).

    from telemetron.training import OneLoggerConfig, TrainingTelemetryConfig
    from telemetron.training import TrainingTelemetryProvider

    training = TrainingTelemetryConfig(perf_tag_or_fn="llm-8b", global_batch_size_or_fn=512)
    (TrainingTelemetryProvider.instance()
        .with_base_config(OneLoggerConfig(application_name="llm", world_size_or_fn=8,
                                          session_tag_or_fn="run-7", telemetry_config=training))
        .configure_provider())

Records go to the exporters of the process's Telemetron runtime (``telemetron.configure``, a
config file, or the default file exporter); ``with_exporter`` / ``with_export_config`` configure
that runtime from here instead.
"""

from __future__ import annotations

from telemetron._native import ConfigError
from telemetron.training._errors import TrainingTelemetryError
from telemetron.training._names import (
    DEFAULT_SPANS_EXPORT_BLACKLIST,
    ExportCustomizationMode,
    OneLoggerErrorHandlingStrategy,
)
from telemetron.training.config import OneLoggerConfig, TrainingTelemetryConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from enum import Enum
    from typing import Any

    from telemetron.training.recorder import TrainingRecorder


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = value
    return base


class TrainingTelemetryProvider:
    """The process's training telemetry: configuration, recorder, enabled state."""

    _instance: TrainingTelemetryProvider | None = None

    def __init__(self) -> None:
        self._base: OneLoggerConfig | None = None
        self._overrides: dict[str, Any] = {}
        self._exporters: list[Any] = []
        self._config_file: str | None = None
        self._mode: ExportCustomizationMode | None = None
        self._filter: Sequence[str | Enum] | None = None
        self._config: OneLoggerConfig | None = None
        self._recorder: TrainingRecorder | None = None
        # The recorder while recording is on; None on a disabled rank or after a quiet disable.
        self.live: TrainingRecorder | None = None
        self._force_disabled = False
        self.disabled_by_error = False
        self._warned_unconfigured = False
        self._logged_disable = False

    @classmethod
    def instance(cls) -> TrainingTelemetryProvider:
        """The process's provider."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    @classmethod
    def reset(cls) -> None:
        """Forget the configuration (tests, notebooks): the next ``instance()`` is fresh. Spans
        still running are stopped first."""
        provider = cls._instance
        cls._instance = None
        if provider is not None and provider._recorder is not None:
            provider.live = None
            try:
                provider._recorder.close()
            except Exception:  # noqa: BLE001 - a reset must not fail on a broken runtime
                pass

    def _check_not_configured(self, method: str) -> None:
        if self._config is not None:
            raise TrainingTelemetryError(f"{method} can be called only before configure_provider")

    def with_base_config(self, one_logger_config: OneLoggerConfig) -> TrainingTelemetryProvider:
        """The base configuration (once); overrides apply on top."""
        self._check_not_configured("with_base_config")
        if self._base is not None:
            raise TrainingTelemetryError("You can only call with_base_config once")
        self._base = one_logger_config
        return self

    def with_config_override(self, partial_config: Mapping[str, Any]) -> TrainingTelemetryProvider:
        """Fields to override (nested dicts merge; ``telemetry_config`` may be a dict)."""
        self._check_not_configured("with_config_override")
        self._overrides = _merge(self._overrides, dict(partial_config))
        return self

    def with_exporter(self, exporter: Mapping[str, Any] | type) -> TrainingTelemetryProvider:
        """A Telemetron exporter entry (``{"type": "file", ...}`` or a ``telemetron.Exporter``
        subclass). When any is given, ``configure_provider`` (re)configures Telemetron's runtime
        with them; a OneLogger exporter runs as ``{"type": "onelogger", "class": ...}``."""
        self._check_not_configured("with_exporter")
        self._exporters.append(exporter)
        return self

    def with_export_config(
        self,
        exporters_config: Sequence[Mapping[str, Any]] | None = None,
        config_file_path: str | None = None,
    ) -> TrainingTelemetryProvider:
        """Telemetron exporter entries and/or a Telemetron config file for the runtime."""
        self._check_not_configured("with_export_config")
        self._exporters.extend(exporters_config or ())
        if config_file_path is not None:
            self._config_file = config_file_path
        return self

    def with_export_customization(
        self,
        export_customization_mode: ExportCustomizationMode,
        span_name_filter: Sequence[str | Enum] | None = None,
    ) -> TrainingTelemetryProvider:
        """Which spans are recorded (once). ``EXPORT_ALL_SPANS`` ignores the filter."""
        self._check_not_configured("with_export_customization")
        if self._mode is not None:
            raise TrainingTelemetryError("You can only call with_export_customization once")
        self._mode = export_customization_mode
        self._filter = span_name_filter
        return self

    def _build_config(self) -> OneLoggerConfig:
        if self._base is None and not self._overrides:
            raise ConfigError("no configuration: call with_base_config and/or with_config_override")
        fields = self._base.to_dict() if self._base is not None else {}
        telemetry = fields.get("telemetry_config")
        if isinstance(telemetry, TrainingTelemetryConfig):
            fields["telemetry_config"] = telemetry.to_dict()
        fields = _merge(fields, self._overrides)
        return OneLoggerConfig(**fields)

    def configure_provider(self) -> None:
        """Makes the callbacks live (once per process)."""
        if self._config is not None:
            raise TrainingTelemetryError(
                "You can only call configure_provider once per application."
            )
        config = self._build_config()
        mode = self._mode or ExportCustomizationMode.BLACKLIST_SPANS
        span_filter = self._filter
        if mode is ExportCustomizationMode.BLACKLIST_SPANS and span_filter is None:
            span_filter = DEFAULT_SPANS_EXPORT_BLACKLIST
        if config.enable_for_current_rank:
            if self._exporters or self._config_file is not None:
                import telemetron

                telemetron.configure(
                    exporters=self._exporters or None,
                    config_file=self._config_file,
                    reconfigure=True,  # the provider's exporters are the application's choice
                )
            from telemetron import __version__
            from telemetron.training.recorder import TrainingRecorder

            self._recorder = TrainingRecorder(
                config, mode, span_filter, f"telemetron-{__version__}"
            )
            self.live = self._recorder
        self._config = config

    @property
    def config(self) -> OneLoggerConfig:
        """The configuration in use."""
        if self._config is None:
            raise TrainingTelemetryError("call configure_provider() before reading the config")
        return self._config

    @property
    def recorder(self) -> TrainingRecorder:
        """The recorder (an error on a disabled rank, where there is none)."""
        if self._recorder is None:
            raise TrainingTelemetryError(
                "no recorder: configure_provider() was not called, or this rank is disabled"
            )
        return self._recorder

    @property
    def one_logger_ready(self) -> bool:
        """Configured."""
        return self._config is not None

    @property
    def one_logger_enabled(self) -> bool:
        """Configured, enabled for this rank, and not disabled since."""
        return self.live is not None

    def force_disable_logging(self) -> None:
        """Stops recording for the rest of the process (one-way)."""
        self._force_disabled = True
        self.live = None

    def set_training_telemetry_config(
        self, training_telemetry_config: TrainingTelemetryConfig
    ) -> None:
        """Sets the training config when it was not known at configuration (once, after
        ``on_app_start``); emits ``update_training_telemetry_config``."""
        config = self.config
        if config.telemetry_config is not None:
            raise TrainingTelemetryError("Training telemetry config has already been set.")
        config.telemetry_config = training_telemetry_config
        if self.live is not None:
            try:
                self.live.update_training_config(training_telemetry_config)
            except Exception as exc:  # noqa: BLE001 - handled by the error strategy
                self.failed("set_training_telemetry_config", exc)

    def skipped(self, name: str) -> None:
        """A callback ran while recording is off: silent on a disabled rank, one warning when the
        provider was never configured."""
        if self._config is None and not self._warned_unconfigured:
            self._warned_unconfigured = True
            import logging

            logging.getLogger("telemetron.training").warning(
                "%s called before TrainingTelemetryProvider.instance()...configure_provider(): "
                "nothing is recorded until it is configured",
                name,
            )

    def failed(self, name: str, exc: Exception) -> None:
        """An exception in telemetry code, handled by the configured strategy."""
        import logging

        logger = logging.getLogger("telemetron.training")
        message = f"Exception in telemetry code when calling {name}: {exc}"
        recorder = self.live
        if recorder is not None:
            try:
                recorder.telemetry_data_error(message)
            except Exception:  # noqa: BLE001, S110 - nothing more to do about it
                pass
        strategy = self._config.error_handling_strategy if self._config else None
        if strategy is OneLoggerErrorHandlingStrategy.DISABLE_QUIETLY_AND_REPORT_METRIC_ERROR:
            if not self._logged_disable:
                self._logged_disable = True
                logger.error("training telemetry disabled after an error: %s", message)
            self.disabled_by_error = True
            self.force_disable_logging()
            return
        logger.error(message)
        raise exc

    def finish_after_error(self) -> None:
        """``on_app_end`` after a quiet disable: stop the spans still running (OneLogger leaves
        the application span open forever)."""
        recorder = self._recorder
        if recorder is None or not self.disabled_by_error:
            return
        try:
            recorder.close()
        except Exception:  # noqa: BLE001 - already disabled: nothing else to report to
            pass
