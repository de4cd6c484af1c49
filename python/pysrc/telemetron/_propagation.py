"""W3C Trace Context across processes: ``inject`` a span into a carrier (HTTP headers, a job's
environment), ``extract`` it on the other side and make it the parent of new spans."""

from __future__ import annotations

from contextvars import ContextVar

from telemetron._native import SpanRef
from telemetron._spans import _CURRENT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping
    from contextvars import Token
    from types import TracebackType

# `tracestate` travels with the context it came in with, for the next inject.
_TRACESTATE: ContextVar[str | None] = ContextVar("telemetron_tracestate", default=None)

# W3C: at most 32 list members; vendors may drop longer values.
_MAX_TRACESTATE = 512


def inject(
    carrier: MutableMapping[str, str], span: SpanRef | None = None
) -> MutableMapping[str, str]:
    """Writes ``traceparent`` (and ``tracestate`` when one was extracted) for ``span``, by
    default the current span, into ``carrier`` and returns it. Without a span it is unchanged.
    """
    span = span if span is not None else _CURRENT.get()
    if span is None:
        return carrier
    carrier["traceparent"] = span.traceparent
    tracestate = _TRACESTATE.get()
    if tracestate:
        carrier["tracestate"] = tracestate
    return carrier


def _header(carrier: Mapping[str, str], name: str) -> str | None:
    value = carrier.get(name)
    if value is None:  # HTTP headers and environment variables differ in case
        for key, candidate in carrier.items():
            if isinstance(key, str) and key.lower() == name:
                return candidate
    return value


class ExtractedContext:
    """What ``extract`` found. ``span`` is the remote parent (``None`` when the carrier had no
    valid ``traceparent``). As a context manager it becomes the current span, so
    ``timed_span`` and log records inside the block join the remote trace."""

    __slots__ = ("span", "tracestate", "_tokens")

    def __init__(self, span: SpanRef | None, tracestate: str | None) -> None:
        self.span = span
        self.tracestate = tracestate
        self._tokens: tuple[Token[SpanRef | None], Token[str | None]] | None = None

    def __enter__(self) -> SpanRef | None:
        if self.span is not None:
            self._tokens = (_CURRENT.set(self.span), _TRACESTATE.set(self.tracestate))
        return self.span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tokens is not None:
            span_token, state_token = self._tokens
            _TRACESTATE.reset(state_token)
            _CURRENT.reset(span_token)
            self._tokens = None

    def __repr__(self) -> str:
        return f"ExtractedContext(span={self.span!r}, tracestate={self.tracestate!r})"


def extract(carrier: Mapping[str, str], *, strict: bool = False) -> ExtractedContext:
    """Reads ``traceparent`` / ``tracestate`` from ``carrier`` (keys in any case).

    An absent or invalid ``traceparent`` gives a context without a span, as W3C Trace Context
    asks; ``strict=True`` raises ``ValidationError`` for an invalid one instead.
    """
    traceparent = _header(carrier, "traceparent")
    if traceparent is None:
        return ExtractedContext(None, None)
    try:
        span = SpanRef.from_traceparent(traceparent)
    except Exception:
        if strict:
            raise
        return ExtractedContext(None, None)
    tracestate = _header(carrier, "tracestate")
    if tracestate is not None:
        tracestate = tracestate.strip()[:_MAX_TRACESTATE] or None
    return ExtractedContext(span, tracestate)
