"""Log records: ``get_logger`` and the stdlib ``TelemetronHandler`` reach the exporters with
severity, body, logger name, attributes and the current span's ids."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import telemetron
from telemetron import timed_span
from telemetron.logging import TelemetronHandler

Records = Callable[[], list[dict[str, Any]]]


def logs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "log"]


def test_get_logger_levels_attributes_and_span_context(records: Records) -> None:
    log = telemetron.get_logger("trainer.data")
    assert telemetron.get_logger("trainer.data") is log
    log.info("outside any span", {"shard": 3})
    with timed_span("epoch") as span:
        log.trace("t")
        log.debug("d")
        log.warning("w", {"nested": {"lr": 0.1}})
        log.error("e")
        log.critical("c")
    got = logs(records())
    assert [(r["severity_number"], r["severity_text"], r["body"]) for r in got] == [
        (9, "INFO", "outside any span"),
        (1, "TRACE", "t"),
        (5, "DEBUG", "d"),
        (13, "WARN", "w"),
        (17, "ERROR", "e"),
        (21, "FATAL", "c"),
    ]
    assert got[0]["trace_id"] is None and got[0]["attributes"] == {"shard": 3}
    assert all(r["logger"] == "trainer.data" for r in got)
    for r in got[1:]:
        assert (r["trace_id"], r["span_id"]) == (span.trace_id, span.span_id)
    assert got[3]["attributes"] == {"nested/lr": 0.1}


def test_bad_log_attributes_raise_validation_errors(out: Any) -> None:
    with pytest.raises(telemetron.ValidationError, match="NaN|finite"):
        telemetron.get_logger("x").info("m", {"loss": float("nan")})


@pytest.fixture
def std_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("tests.telemetron")
    logger.setLevel(logging.DEBUG)
    handler = TelemetronHandler()
    logger.addHandler(handler)
    yield logger
    logger.removeHandler(handler)


def test_the_logging_handler_forwards_records_with_span_context(
    records: Records, std_logger: logging.Logger
) -> None:
    with timed_span("step") as span:
        std_logger.info("loaded %d batches", 12, extra={"dataset": "atari", "obj": object()})
        try:
            raise ValueError("bad batch")
        except ValueError:
            std_logger.exception("step failed")
    std_logger.warning("after")
    info, failed, after = logs(records())
    assert (info["body"], info["severity_text"], info["logger"]) == (
        "loaded 12 batches",
        "INFO",
        "tests.telemetron",
    )
    assert (info["trace_id"], info["span_id"]) == (span.trace_id, span.span_id)
    attrs = info["attributes"]
    assert attrs["dataset"] == "atari"
    assert attrs["obj"].startswith("<object object")
    assert attrs["code.function"] == "test_the_logging_handler_forwards_records_with_span_context"
    assert attrs["code.filepath"].endswith("test_logs.py")
    assert isinstance(attrs["code.lineno"], int) and isinstance(attrs["process.pid"], int)
    assert failed["severity_number"] == 17
    assert failed["attributes"]["exception.type"] == "ValueError"
    assert failed["attributes"]["exception.message"] == "bad batch"
    assert 'raise ValueError("bad batch")' in failed["attributes"]["exception.stacktrace"]
    assert after["span_id"] is None and after["severity_text"] == "WARN"


def test_the_handler_never_raises(
    out: Any, std_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    handled: list[logging.LogRecord] = []
    monkeypatch.setattr(TelemetronHandler, "handleError", lambda self, r: handled.append(r))
    std_logger.info("nan extra", extra={"loss": float("nan")})
    assert [r.getMessage() for r in handled] == ["nan extra"]


class CollectLogs(telemetron.Exporter):
    seen: list[dict[str, Any]] = []

    def export_log(self, log: dict[str, Any]) -> None:
        CollectLogs.seen.append(log)


def test_python_exporters_receive_logs() -> None:
    telemetron.configure(exporters=[CollectLogs])
    telemetron.get_logger("py").info("hello", {"k": 1})
    telemetron.shutdown()
    assert [(r["body"], r["logger"], r["attributes"]) for r in CollectLogs.seen] == [
        ("hello", "py", {"k": 1})
    ]


def test_telemetron_logging_is_reachable_as_an_attribute() -> None:
    assert telemetron.logging.TelemetronHandler is TelemetronHandler
