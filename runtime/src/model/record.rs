//! The records that flow from callers through the Recorder to exporters.

use std::borrow::Cow;

use super::{
    Attributes, HistogramPoint, LogRecord, MetricPoints, Name, RlPoints, RunAttributes,
    ScalarPoint, ScatterPoint, SpanContext, SpanId, Timestamp,
};

/// How a span ended.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum SpanStatus {
    /// Ended normally with no error recorded on it.
    #[default]
    Ok,
    /// An error was recorded on the span (the message of the last one).
    Error(String),
    /// Interrupted (e.g. `KeyboardInterrupt`): stopped without an error event.
    Cancelled,
}

impl SpanStatus {
    /// `ok`, `error` or `cancelled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SpanStatus::Ok => "ok",
            SpanStatus::Error(_) => "error",
            SpanStatus::Cancelled => "cancelled",
        }
    }
}

/// A span was started.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanStart {
    /// The span's identity.
    pub context: SpanContext,
    /// The parent span, if any (same trace).
    pub parent: Option<SpanId>,
    /// The span's name.
    pub name: Name,
    /// When it started.
    pub time: Timestamp,
    /// Span attributes given at start.
    pub attributes: Attributes,
    /// Attributes of the start event (OneLogger's `start_event_attributes`).
    pub start_event_attributes: Attributes,
}

/// A span was stopped. The Recorder fills `name`, `parent`, `start_time` and `duration_ns`
/// from its table of active spans, and merges the span's live attribute updates into
/// `span_attributes`; callers only give the context, time and attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanStop {
    /// The span's identity.
    pub context: SpanContext,
    /// The parent span, if any.
    pub parent: Option<SpanId>,
    /// The span's name.
    pub name: Name,
    /// When it started.
    pub start_time: Timestamp,
    /// When it stopped.
    pub time: Timestamp,
    /// `time - start_time`, in nanoseconds.
    pub duration_ns: u64,
    /// How it ended.
    pub status: SpanStatus,
    /// Attributes of the stop event.
    pub attributes: Attributes,
    /// Span attributes added after the start (OneLogger's `updated_attributes`): every
    /// [`SpanUpdate`] of the span in order, then those given at stop; a later value of a key
    /// replaces an earlier one. The start's `attributes` plus these are the span's attributes.
    pub span_attributes: Attributes,
}

/// Attributes added to a running span (e.g. a `duration_msec`-style value known only later).
/// The Recorder keeps them with the span and hands them to exporters in the stop's
/// `span_attributes`; exporters never see this record itself.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanUpdate {
    /// The span's identity.
    pub context: SpanContext,
    /// The attributes to add (same-named ones replace earlier values).
    pub attributes: Attributes,
    /// When they were added.
    pub time: Timestamp,
}

/// A named point in time, usually inside a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The span it belongs to, if any.
    pub span: Option<SpanContext>,
    /// The event's name.
    pub name: Name,
    /// When it happened.
    pub time: Timestamp,
    /// Its attributes.
    pub attributes: Attributes,
}

/// An application error (OneLogger's `ErrorEvent`), recorded on a span or on none.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorRecord {
    /// The span it happened in, if any.
    pub span: Option<SpanContext>,
    /// Human-readable message, e.g. `Error in train_step: `.
    pub message: String,
    /// The exception's type name, e.g. `ValueError`.
    pub exception_type: Option<String>,
    /// The exception's own message.
    pub exception_message: Option<String>,
    /// The formatted traceback.
    pub traceback: Option<String>,
    /// When it happened.
    pub time: Timestamp,
}

/// Which telemetry can no longer be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TelemetryDataErrorKind {
    /// Nothing was ever delivered.
    NoTelemetryData,
    /// Some data was delivered, some is missing.
    IncompleteTelemetryData,
}

impl TelemetryDataErrorKind {
    /// `no_telemetry_data` or `incomplete_telemetry_data` (OneLogger's names).
    pub fn as_str(self) -> &'static str {
        match self {
            TelemetryDataErrorKind::NoTelemetryData => "no_telemetry_data",
            TelemetryDataErrorKind::IncompleteTelemetryData => "incomplete_telemetry_data",
        }
    }
}

/// A problem with the telemetry itself, not the application.
#[derive(Clone, Debug, PartialEq)]
pub struct TelemetryDataError {
    /// No data, or incomplete data.
    pub kind: TelemetryDataErrorKind,
    /// What happened.
    pub message: String,
    /// The one exporter whose data is affected, or `None` for all of them.
    pub exporter: Option<String>,
    /// When it was raised.
    pub time: Timestamp,
}

/// A finished video of one environment's episode, written by the renderer.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendering {
    /// The environment the frames came from.
    pub env_id: String,
    /// The episode the video shows.
    pub episode: i64,
    /// The smallest and largest `rl_step` among its frames.
    pub rl_step_first: i64,
    /// See `rl_step_first`.
    pub rl_step_last: i64,
    /// Where the `.mp4` is.
    pub path: String,
    /// Frames in the video.
    pub frames: u64,
    /// Frame width and height in pixels.
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// Frames per second of the video.
    pub fps: u32,
    /// `frames / fps`, in seconds.
    pub duration_secs: f64,
    /// Size of the file.
    pub bytes: u64,
    /// When the video was finished.
    pub time: Timestamp,
}

/// One record. Every queued record takes the size of the largest variant, and scalar metric
/// points are the records most often in flight by the hundred thousand, so every variant
/// larger than a [`ScalarPoint`] is boxed: a record is 40 bytes (192 before the boxing, 112
/// before the compact scalar form).
///
/// A one-point, unstamped metric is a [`Record::Scalar`] when made with `Record::from`, and
/// equal to the same point as a [`Record::Metric`]: consumers handle both.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Record {
    /// A span started.
    SpanStart(Box<SpanStart>),
    /// A span stopped.
    SpanStop(Box<SpanStop>),
    /// Attributes added to a running span (absorbed by the Recorder, see [`SpanUpdate`]).
    SpanUpdate(Box<SpanUpdate>),
    /// An event.
    Event(Box<Event>),
    /// An application error.
    Error(Box<ErrorRecord>),
    /// A telemetry data error.
    TelemetryDataError(Box<TelemetryDataError>),
    /// A finished environment rendering (video).
    Rendering(Box<Rendering>),
    /// A log record.
    Log(Box<LogRecord>),
    /// Points of one metric series.
    Metric(Box<MetricPoints>),
    /// One unstamped point of one metric series (`log(name, value)`): a metric record in
    /// compact form, of kind [`RecordKind::Metric`].
    Scalar(ScalarPoint),
    /// Run (or environment) attributes: config, tags, description.
    Attributes(Box<RunAttributes>),
    /// Points of an RL series for several environments at one rl_step.
    Rl(Box<RlPoints>),
    /// A histogram at one step.
    Histogram(Box<HistogramPoint>),
    /// A scatter at one step.
    Scatter(Box<ScatterPoint>),
}

/// `Record::from(payload)`: each payload into its variant, boxed where the variant is.
macro_rules! record_from {
    (boxed: $($bv:ident($bt:ty)),*; inline: $($iv:ident($it:ty)),* $(,)?) => {
        $(impl From<$bt> for Record {
            fn from(payload: $bt) -> Record {
                Record::$bv(Box::new(payload))
            }
        })*
        $(impl From<$it> for Record {
            fn from(payload: $it) -> Record {
                Record::$iv(payload)
            }
        })*
    };
}

record_from! {
    boxed: SpanStart(SpanStart), SpanStop(SpanStop), Event(Event), Error(ErrorRecord),
        Rendering(Rendering), Log(LogRecord), Rl(RlPoints), Histogram(HistogramPoint),
        Scatter(ScatterPoint), SpanUpdate(SpanUpdate), TelemetryDataError(TelemetryDataError),
        Attributes(RunAttributes);
    inline: Scalar(ScalarPoint),
}

impl From<MetricPoints> for Record {
    /// A one-point, unstamped metric in its compact form, any other boxed.
    fn from(points: MetricPoints) -> Record {
        match ScalarPoint::from_points(points) {
            Ok(scalar) => Record::Scalar(scalar),
            Err(points) => Record::Metric(Box::new(points)),
        }
    }
}

impl PartialEq for Record {
    /// Variant by variant, except that a [`Record::Scalar`] equals the one-point
    /// [`Record::Metric`] it stands for.
    fn eq(&self, other: &Record) -> bool {
        match (self, other) {
            (Record::SpanStart(a), Record::SpanStart(b)) => a == b,
            (Record::SpanStop(a), Record::SpanStop(b)) => a == b,
            (Record::SpanUpdate(a), Record::SpanUpdate(b)) => a == b,
            (Record::Event(a), Record::Event(b)) => a == b,
            (Record::Error(a), Record::Error(b)) => a == b,
            (Record::TelemetryDataError(a), Record::TelemetryDataError(b)) => a == b,
            (Record::Rendering(a), Record::Rendering(b)) => a == b,
            (Record::Log(a), Record::Log(b)) => a == b,
            (Record::Metric(a), Record::Metric(b)) => a == b,
            (Record::Scalar(a), Record::Scalar(b)) => a == b,
            (Record::Scalar(a), Record::Metric(b)) | (Record::Metric(b), Record::Scalar(a)) => {
                a.to_points() == **b
            }
            (Record::Attributes(a), Record::Attributes(b)) => a == b,
            (Record::Rl(a), Record::Rl(b)) => a == b,
            (Record::Histogram(a), Record::Histogram(b)) => a == b,
            (Record::Scatter(a), Record::Scatter(b)) => a == b,
            _ => false,
        }
    }
}

/// The kind of a record, used to index self-metrics and to name records on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// [`Record::SpanStart`]
    SpanStart,
    /// [`Record::SpanStop`]
    SpanStop,
    /// [`Record::Event`]
    Event,
    /// [`Record::Error`]
    Error,
    /// [`Record::TelemetryDataError`]
    TelemetryDataError,
    /// [`Record::Rendering`]
    Rendering,
    /// [`Record::Log`]
    Log,
    /// [`Record::Metric`]
    Metric,
    /// [`Record::Attributes`]
    Attributes,
    /// [`Record::Rl`]
    Rl,
    /// [`Record::Histogram`]
    Histogram,
    /// [`Record::Scatter`]
    Scatter,
    /// [`Record::SpanUpdate`]
    SpanUpdate,
}

impl RecordKind {
    /// The kinds that carry data points ([`Record::data_points`]).
    pub const DATA: [RecordKind; 5] = [
        RecordKind::Metric,
        RecordKind::Rl,
        RecordKind::Histogram,
        RecordKind::Scatter,
        RecordKind::Attributes,
    ];

    /// Every kind, in index order.
    pub const ALL: [RecordKind; 13] = [
        RecordKind::SpanStart,
        RecordKind::SpanStop,
        RecordKind::Event,
        RecordKind::Error,
        RecordKind::TelemetryDataError,
        RecordKind::Rendering,
        RecordKind::Log,
        RecordKind::Metric,
        RecordKind::Attributes,
        RecordKind::Rl,
        RecordKind::Histogram,
        RecordKind::Scatter,
        RecordKind::SpanUpdate,
    ];

    /// The snake_case name used in files and metrics (`span_start`, `event`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::SpanStart => "span_start",
            RecordKind::SpanStop => "span_stop",
            RecordKind::Event => "event",
            RecordKind::Error => "error",
            RecordKind::TelemetryDataError => "telemetry_data_error",
            RecordKind::Rendering => "rendering",
            RecordKind::Log => "log",
            RecordKind::Metric => "metric",
            RecordKind::Attributes => "attributes",
            RecordKind::Rl => "rl_metric",
            RecordKind::Histogram => "histogram",
            RecordKind::Scatter => "scatter",
            RecordKind::SpanUpdate => "span_update",
        }
    }

    /// Dense index, for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Record {
    /// The points of a metric record in either form: a [`Record::Metric`]'s borrowed, a
    /// [`Record::Scalar`]'s made without a heap allocation; `None` for other kinds.
    pub fn metric_points(&self) -> Option<Cow<'_, MetricPoints>> {
        match self {
            Record::Metric(m) => Some(Cow::Borrowed(m)),
            Record::Scalar(p) => Some(Cow::Owned(p.to_points())),
            _ => None,
        }
    }

    /// How many data points the record carries (values, bins or scatter points; 1 for
    /// everything else): batches are also cut by points, so one large metric call is sent
    /// as soon as it arrives.
    pub fn points(&self) -> usize {
        match self {
            Record::Metric(m) => m.values.len(),
            Record::Scalar(_) => 1,
            Record::Rl(r) => r.values.len(),
            Record::Histogram(h) => h.bin_edges.len(),
            Record::Scatter(p) => p.xs.len(),
            _ => 1,
        }
    }

    /// Data points as Metrana counts them: a metric or RL call's values, a run-attributes
    /// record's updates, one per histogram or scatter; 0 for spans, events, logs and the rest.
    pub fn data_points(&self) -> u64 {
        match self {
            Record::Metric(m) => m.values.len() as u64,
            Record::Scalar(_) => 1,
            Record::Rl(r) => r.values.len() as u64,
            Record::Attributes(a) => a.updates.len() as u64,
            Record::Histogram(_) | Record::Scatter(_) => 1,
            _ => 0,
        }
    }

    /// This record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::SpanStart(_) => RecordKind::SpanStart,
            Record::SpanStop(_) => RecordKind::SpanStop,
            Record::Event(_) => RecordKind::Event,
            Record::Error(_) => RecordKind::Error,
            Record::TelemetryDataError(_) => RecordKind::TelemetryDataError,
            Record::Rendering(_) => RecordKind::Rendering,
            Record::Log(_) => RecordKind::Log,
            Record::Metric(_) | Record::Scalar(_) => RecordKind::Metric,
            Record::Attributes(_) => RecordKind::Attributes,
            Record::Rl(_) => RecordKind::Rl,
            Record::Histogram(_) => RecordKind::Histogram,
            Record::Scatter(_) => RecordKind::Scatter,
            Record::SpanUpdate(_) => RecordKind::SpanUpdate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queued scalar point costs a whole `Record`: no variant may be larger than the
    /// compact scalar form.
    #[test]
    fn a_record_is_no_larger_than_a_scalar_point() {
        assert_eq!(std::mem::size_of::<ScalarPoint>(), 40);
        assert_eq!(std::mem::size_of::<Record>(), 40);
    }
}
