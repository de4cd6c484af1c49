//! The data model: spans, events, errors, telemetry data errors, typed attributes.

mod attributes;
mod distribution;
mod ids;
mod log;
mod names;
mod record;
mod rl;
mod run_attributes;
mod scalar;
mod series;
mod time;

pub use attributes::{AttributeError, AttributeValue, Attributes, Name};
pub use distribution::{
    BinValues, HistogramPoint, ScatterPoint, ValueKind, MAX_BINS, MAX_SCATTER_POINTS,
};
pub use ids::{SpanContext, SpanId, TraceId, TraceparentError};
pub use log::{LogRecord, Severity};
pub use names::{check_env_id, check_path, shown, MAX_ENV_ID_LEN};
pub use record::{
    ErrorRecord, Event, Record, RecordKind, Rendering, SpanStart, SpanStatus, SpanStop, SpanUpdate,
    TelemetryDataError, TelemetryDataErrorKind,
};
pub use rl::{MinorRow, MinorSteps, RlPoints};
pub use run_attributes::{RunAttributeValue, RunAttributes};
pub use scalar::ScalarPoint;
pub use series::{
    Column, F32Column, F64Column, MetricPoints, Scale, SeriesError, SeriesKey, SeriesOrdering,
    StepColumn, TimestampsMs, Values, MAX_NAME_LEN,
};
pub use time::{Timestamp, UtcDateTime};
