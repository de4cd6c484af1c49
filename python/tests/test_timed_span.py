"""timed_span as context manager and decorator: parents, errors, cancellation, concurrency."""

from __future__ import annotations

import asyncio
import threading

import pytest

import telemetron
from telemetron import timed_span


def by_name(records, kind):
    return {r["name"]: r for r in records if r["kind"] == kind}


def test_nested_spans_parent_by_context(records):
    with timed_span("outer", span_attributes={"epoch": 1}) as outer:
        assert telemetron.current_span() == outer
        with timed_span(
            "inner", start_event_attributes={"s": "x"}, stop_event_attributes={"done": True}
        ):
            pass
        assert telemetron.current_span() == outer
    assert telemetron.current_span() is None
    recs = records()
    starts, stops = by_name(recs, "span_start"), by_name(recs, "span_stop")
    assert starts["inner"]["parent_span_id"] == outer.span_id
    assert starts["inner"]["trace_id"] == outer.trace_id
    assert starts["outer"]["attributes"] == {"epoch": 1}
    assert starts["inner"]["start_event_attributes"] == {"s": "x"}
    assert stops["inner"]["attributes"] == {"done": True}
    assert stops["outer"]["status"] == "ok"


def test_decorator_on_sync_and_async_functions(records):
    @timed_span("sync_step")
    def step(x: int) -> int:
        return x * 2

    @timed_span("async_step")
    async def astep(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    assert step(21) == 42
    assert step(1) == 2
    assert asyncio.run(astep(1)) == 2
    assert step.__name__ == "step"
    names = [r["name"] for r in records() if r["kind"] == "span_stop"]
    assert names == ["sync_step", "sync_step", "async_step"], "one span per call"


def test_exception_records_error_then_stops_and_propagates(records):
    class BoomError(ValueError):
        pass

    with pytest.raises(BoomError) as caught:
        with timed_span("fails"):
            raise BoomError("bad batch")
    assert str(caught.value) == "bad batch"
    recs = records()
    kinds = [r["kind"] for r in recs]
    assert kinds == ["span_start", "error", "span_stop"], "error event before the stop"
    error, stop = recs[1], recs[2]
    assert error["message"] == "Error in fails: bad batch"
    assert error["exception_type"] == "BoomError"
    assert error["exception_message"] == "bad batch"
    assert "raise BoomError" in error["traceback"]
    assert stop["status"] == "error"


def test_keyboard_interrupt_cancels_without_an_error_event(records):
    with pytest.raises(KeyboardInterrupt):
        with timed_span("interrupted"):
            raise KeyboardInterrupt
    recs = records()
    assert [r["kind"] for r in recs] == ["span_start", "span_stop"]
    assert recs[1]["status"] == "cancelled"


def test_100_asyncio_tasks_and_8_threads_keep_their_own_parents(records):
    async def task(i: int) -> tuple[str, str]:
        with timed_span(f"task-{i}") as parent:
            await asyncio.sleep(0)
            with timed_span(f"task-{i}-child") as child:
                await asyncio.sleep(0)
                return parent.span_id, child.span_id

    async def main() -> list[tuple[str, str]]:
        with timed_span("root"):
            return await asyncio.gather(*(task(i) for i in range(100)))

    pairs = asyncio.run(main())
    thread_pairs: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        for j in range(20):
            with (
                timed_span(f"thread-{i}-{j}") as parent,
                timed_span(f"thread-{i}-{j}-child") as child,
            ):
                with lock:
                    thread_pairs.append((parent.span_id, child.span_id))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = {r["span_id"]: r for r in records() if r["kind"] == "span_start"}
    for parent_id, child_id in pairs + thread_pairs:
        assert starts[child_id]["parent_span_id"] == parent_id
    root = next(r for r in starts.values() if r["name"] == "root")
    for parent_id, _ in pairs:
        assert starts[parent_id]["parent_span_id"] == root["span_id"]
    for parent_id, _ in thread_pairs:
        assert starts[parent_id]["parent_span_id"] is None, "threads do not inherit another's span"
