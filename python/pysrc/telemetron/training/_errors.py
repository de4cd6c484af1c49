"""The training library's own error: misuse or an inconsistent state in telemetry code."""

from __future__ import annotations

from telemetron._native import TelemetronError


class TrainingTelemetryError(TelemetronError):
    """A callback was used out of order or with invalid values (OneLogger's ``OneLoggerError``).

    What happens to it is the configured ``error_handling_strategy``'s decision.
    """


#: OneLogger's name for it.
OneLoggerError = TrainingTelemetryError


def check(condition: object, message: str) -> None:
    """Raises ``TrainingTelemetryError(message)`` unless ``condition`` holds."""
    if not condition:
        raise TrainingTelemetryError(message)
