//! The data model: spans, events, errors, telemetry data errors, typed attributes.

mod attributes;
mod ids;
mod record;
mod time;

pub use attributes::{AttributeError, AttributeValue, Attributes, Name};
pub use ids::{SpanContext, SpanId, TraceId};
pub use record::{
    ErrorRecord, Event, Record, RecordKind, Rendering, SpanStart, SpanStatus, SpanStop,
    TelemetryDataError, TelemetryDataErrorKind,
};
pub use time::Timestamp;
