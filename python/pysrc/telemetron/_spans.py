"""``timed_span``: a span around a block, as a context manager or a decorator."""

from __future__ import annotations

from contextvars import ContextVar

from telemetron import _runtime as _runtime_module
from telemetron._native import SpanRef
from telemetron._runtime import get_runtime

# `typing` and `inspect` cost milliseconds to import: only for type checkers, or lazily.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextvars import Token
    from types import TracebackType
    from typing import Any, TypeVar

    from telemetron._native import Runtime

    F = TypeVar("F", bound=Callable[..., Any])
    Attrs = Mapping[str, Any] | None

_CURRENT: ContextVar[SpanRef | None] = ContextVar("telemetron_current_span", default=None)


def current_span() -> SpanRef | None:
    """The innermost open ``timed_span`` of this thread or asyncio task, if any."""
    return _CURRENT.get()


class timed_span:  # noqa: N801 - OneLogger's name
    """A span around a block: ``with timed_span("step"):`` or ``@timed_span("step")``.

    The span's parent is the current span of this thread or asyncio task (``contextvars``).
    On an ``Exception`` the span records an error event (``Error in <name>: <message>``, with the
    exception's type, message and traceback), stops, and the exception propagates unchanged;
    ``KeyboardInterrupt``/``SystemExit`` stop the span as cancelled without an error event.
    As a decorator (sync or async functions) each call gets its own span.
    """

    __slots__ = (
        "name",
        "span_attributes",
        "start_event_attributes",
        "stop_event_attributes",
        "_runtime",
        "_span",
        "_token",
    )

    def __init__(
        self,
        name: str,
        span_attributes: Attrs = None,
        start_event_attributes: Attrs = None,
        stop_event_attributes: Attrs = None,
    ) -> None:
        self.name = name
        self.span_attributes = span_attributes
        self.start_event_attributes = start_event_attributes
        self.stop_event_attributes = stop_event_attributes
        self._runtime: Runtime | None = None
        self._span: SpanRef | None = None
        self._token: Token[SpanRef | None] | None = None

    def __enter__(self) -> SpanRef:
        # The module global first: a function call per span is measurable at this scale.
        runtime = _runtime_module._runtime or get_runtime()
        self._runtime = runtime
        span = runtime.start_span(
            self.name, _CURRENT.get(), self.span_attributes, self.start_event_attributes
        )
        self._span = span
        self._token = _CURRENT.set(span)
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span, runtime, token = self._span, self._runtime, self._token
        if span is None or runtime is None or token is None:
            return
        _CURRENT.reset(token)
        if exc is None:
            runtime.stop_span(span, self.stop_event_attributes)
            return
        if isinstance(exc, Exception):
            import traceback

            runtime.error(
                span,
                f"Error in {self.name}: {exc}",
                type(exc).__name__,
                str(exc),
                "".join(traceback.format_exception(exc_type, exc, tb)),
            )
            runtime.stop_span(span, self.stop_event_attributes)
        else:
            runtime.stop_span(span, self.stop_event_attributes, True)

    async def __aenter__(self) -> SpanRef:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def _fresh(self) -> timed_span:
        return timed_span(
            self.name, self.span_attributes, self.start_event_attributes, self.stop_event_attributes
        )

    def __call__(self, func: F) -> F:
        import functools
        import inspect

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
