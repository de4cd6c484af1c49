//! `_native.SpanRef`: a span's identity (trace id + span id), hashable and comparable.

use pyo3::prelude::*;
use telemetron::model::{SpanContext, SpanId, TraceId};

use crate::errors::ValidationError;

/// A span's identity: what `start` returns and `stop`, `event` and `error` take.
#[pyclass(
    frozen,
    eq,
    hash,
    from_py_object,
    module = "telemetron._native",
    name = "SpanRef"
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SpanRef {
    trace: u128,
    span: u64,
}

impl SpanRef {
    pub(crate) fn context(&self) -> SpanContext {
        SpanContext {
            trace_id: TraceId(self.trace),
            span_id: SpanId(self.span),
        }
    }
}

#[pymethods]
impl SpanRef {
    /// 32 lowercase hex digits.
    #[getter]
    fn trace_id(&self) -> String {
        TraceId(self.trace).to_string()
    }

    /// 16 lowercase hex digits.
    #[getter]
    fn span_id(&self) -> String {
        SpanId(self.span).to_string()
    }

    /// The W3C `traceparent` value.
    #[getter]
    fn traceparent(&self) -> String {
        self.context().traceparent()
    }

    /// Parses a W3C `traceparent` header value; `ValidationError` when it is not one.
    #[staticmethod]
    fn from_traceparent(value: &str) -> PyResult<SpanRef> {
        crate::errors::guarded(|| {
            SpanContext::from_traceparent(value)
                .map(SpanRef::from)
                .map_err(|e| ValidationError::new_err(e.to_string()))
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "SpanRef(trace_id={}, span_id={})",
            self.trace_id(),
            self.span_id()
        )
    }
}

impl From<SpanContext> for SpanRef {
    fn from(c: SpanContext) -> Self {
        SpanRef {
            trace: c.trace_id.0,
            span: c.span_id.0,
        }
    }
}
