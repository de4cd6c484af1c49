//! Recording calls: validate, copy, enqueue. Nothing else happens on the caller's thread.

use super::Runtime;
use crate::error::EnqueueError;
use crate::model::{
    Attributes, ErrorRecord, Event, LogRecord, Name, Record, Severity, SpanContext, SpanId,
    SpanStart, SpanStatus, SpanStop, SpanUpdate, TelemetryDataError, TelemetryDataErrorKind,
    Timestamp, TraceId,
};

/// An application error to record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorInfo {
    /// Human-readable message.
    pub message: String,
    /// Exception type name (`ValueError`).
    pub exception_type: Option<String>,
    /// Exception message.
    pub exception_message: Option<String>,
    /// Formatted traceback.
    pub traceback: Option<String>,
}

impl ErrorInfo {
    /// An error with just a message.
    pub fn message(message: impl Into<String>) -> Self {
        ErrorInfo {
            message: message.into(),
            ..Default::default()
        }
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), EnqueueError> {
    if name.is_empty() {
        return Err(EnqueueError::Invalid {
            what,
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

impl Runtime {
    /// Starts a span under `parent` (same trace) or as a new root, and returns its context.
    pub fn start_span(
        &self,
        name: impl Into<Name>,
        parent: Option<SpanContext>,
        attributes: Attributes,
    ) -> Result<SpanContext, EnqueueError> {
        self.start_span_with_event(name, parent, attributes, Attributes::new())
    }

    /// [`Runtime::start_span`] with attributes for the start event as well.
    pub fn start_span_with_event(
        &self,
        name: impl Into<Name>,
        parent: Option<SpanContext>,
        attributes: Attributes,
        start_event_attributes: Attributes,
    ) -> Result<SpanContext, EnqueueError> {
        let now = Timestamp::now();
        self.start_span_at(name, parent, attributes, start_event_attributes, now)
    }

    /// [`Runtime::start_span_with_event`] at an explicit start time (a span measured
    /// elsewhere, or bridged from another library with its own clock).
    ///
    /// ```
    /// use telemetron_runtime::model::{Attributes, SpanStatus, Timestamp};
    /// use telemetron_runtime::{Runtime, RuntimeConfig};
    /// let runtime = Runtime::start(RuntimeConfig::default()).unwrap();
    /// let start = Timestamp(Timestamp::now().0 - 2_000_000_000); // two seconds ago
    /// let span = runtime
    ///     .start_span_at("load", None, Attributes::new(), Attributes::new(), start)
    ///     .unwrap();
    /// let done = Attributes::new().with("duration_msec", 2000i64).unwrap();
    /// runtime
    ///     .stop_span_at(span, SpanStatus::Ok, Attributes::new(), done, Timestamp::now())
    ///     .unwrap();
    /// runtime.close(std::time::Duration::from_secs(5)).unwrap();
    /// ```
    pub fn start_span_at(
        &self,
        name: impl Into<Name>,
        parent: Option<SpanContext>,
        attributes: Attributes,
        start_event_attributes: Attributes,
        time: Timestamp,
    ) -> Result<SpanContext, EnqueueError> {
        let name = name.into();
        check_name("span name", &name)
            .inspect_err(|_| self.refused(crate::model::RecordKind::SpanStart))?;
        let context = SpanContext {
            trace_id: parent.map_or_else(TraceId::random, |p| p.trace_id),
            span_id: SpanId::random(),
        };
        let record = Record::SpanStart(Box::new(SpanStart {
            context,
            parent: parent.map(|p| p.span_id),
            name,
            time,
            attributes,
            start_event_attributes,
        }));
        match self.enqueue(record) {
            Ok(true) => Ok(context),
            Ok(false) => {
                // Dropped by backpressure: its stop will be dropped quietly too.
                self.inner
                    .shared
                    .dropped_starts
                    .lock()
                    .insert(context.span_id);
                Ok(context)
            }
            Err(e) => Err(e),
        }
    }

    /// Stops a span with attributes for the stop event.
    pub fn stop_span(&self, span: SpanContext, attributes: Attributes) -> Result<(), EnqueueError> {
        self.stop_span_with_status(span, SpanStatus::Ok, attributes)
    }

    /// Stops a span with an explicit status (`Cancelled` for interrupts). `Ok` becomes `Error`
    /// when an error was recorded on the span.
    pub fn stop_span_with_status(
        &self,
        span: SpanContext,
        status: SpanStatus,
        attributes: Attributes,
    ) -> Result<(), EnqueueError> {
        let now = Timestamp::now();
        self.stop_span_at(span, status, attributes, Attributes::new(), now)
    }

    /// Stops a span at an explicit time, with stop-event `attributes` and `span_attributes`
    /// added to the span itself (after any [`Runtime::update_span`]; later values win).
    pub fn stop_span_at(
        &self,
        span: SpanContext,
        status: SpanStatus,
        attributes: Attributes,
        span_attributes: Attributes,
        time: Timestamp,
    ) -> Result<(), EnqueueError> {
        self.enqueue(Record::SpanStop(Box::new(SpanStop {
            context: span,
            parent: None,
            name: Name::Borrowed(""),
            start_time: Timestamp(0),
            time,
            duration_ns: 0,
            status,
            attributes,
            span_attributes,
        })))
        .map(drop)
    }

    /// Adds attributes to a running span. Exporters receive them with the span's stop (in
    /// `span_attributes`: OTLP span attributes, the file exporter's stop line), as OneLogger's
    /// exporters receive a span's updated attributes. Updating a span that is not active is
    /// reported through the error strategy and dropped.
    pub fn update_span(
        &self,
        span: SpanContext,
        attributes: Attributes,
    ) -> Result<(), EnqueueError> {
        self.enqueue(Record::from(SpanUpdate {
            context: span,
            attributes,
            time: Timestamp::now(),
        }))
        .map(drop)
    }

    /// Records an event, in `span` or outside any span.
    pub fn event(
        &self,
        span: Option<SpanContext>,
        name: impl Into<Name>,
        attributes: Attributes,
    ) -> Result<(), EnqueueError> {
        self.event_at(span, name, attributes, Timestamp::now())
    }

    /// [`Runtime::event`] at an explicit time.
    pub fn event_at(
        &self,
        span: Option<SpanContext>,
        name: impl Into<Name>,
        attributes: Attributes,
        time: Timestamp,
    ) -> Result<(), EnqueueError> {
        let name = name.into();
        check_name("event name", &name)
            .inspect_err(|_| self.refused(crate::model::RecordKind::Event))?;
        self.enqueue(Record::Event(Box::new(Event {
            span,
            name,
            time,
            attributes,
        })))
        .map(drop)
    }

    /// Records an application error, in `span` or outside any span. The span's status becomes
    /// `error` when it stops.
    pub fn error(&self, span: Option<SpanContext>, error: ErrorInfo) -> Result<(), EnqueueError> {
        self.error_at(span, error, Timestamp::now())
    }

    /// [`Runtime::error`] at an explicit time.
    pub fn error_at(
        &self,
        span: Option<SpanContext>,
        error: ErrorInfo,
        time: Timestamp,
    ) -> Result<(), EnqueueError> {
        if error.exception_type.is_some() && error.exception_message.is_none() {
            self.refused(crate::model::RecordKind::Error);
            return Err(EnqueueError::Invalid {
                what: "error",
                reason: "an exception type needs an exception message".into(),
            });
        }
        self.enqueue(Record::Error(Box::new(ErrorRecord {
            span,
            message: error.message,
            exception_type: error.exception_type,
            exception_message: error.exception_message,
            traceback: error.traceback,
            time,
        })))
        .map(drop)
    }

    /// Records a log line from `logger`, in `span` (which may be a remote parent) or none.
    pub fn log(
        &self,
        severity: Severity,
        body: impl Into<String>,
        logger: impl Into<Name>,
        span: Option<SpanContext>,
        attributes: Attributes,
    ) -> Result<(), EnqueueError> {
        self.enqueue(Record::Log(Box::new(LogRecord {
            time: Timestamp::now(),
            severity,
            body: body.into(),
            logger: logger.into(),
            span,
            attributes,
        })))
        .map(drop)
    }

    /// Tells every exporter that has not yet been told that its telemetry can't be trusted.
    pub fn telemetry_data_error(
        &self,
        kind: TelemetryDataErrorKind,
        message: impl Into<String>,
    ) -> Result<(), EnqueueError> {
        self.enqueue(Record::from(TelemetryDataError {
            kind,
            message: message.into(),
            exporter: None,
            time: Timestamp::now(),
        }))
        .map(drop)
    }

    pub(super) fn refused(&self, kind: crate::model::RecordKind) {
        self.inner.shared.counters.added(kind);
        self.inner.shared.counters.refused(kind);
    }

    /// `Ok(true)` enqueued, `Ok(false)` dropped by `drop_new` (counted).
    #[inline]
    pub(super) fn enqueue(&self, record: Record) -> Result<bool, EnqueueError> {
        let inner = &*self.inner;
        if inner.closed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(EnqueueError::Closed);
        }
        if let Some(errors) = inner.shared.background.take_for_caller() {
            return Err(EnqueueError::Background(errors));
        }
        if let Some(reason) = inner.shared.background.fatal() {
            return Err(EnqueueError::Undeliverable(reason));
        }
        super::component::push_counted(&inner.queue, &inner.shared, record)
    }
}
