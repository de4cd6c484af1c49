//! Records → `records.proto` messages → bytes. Structs are destructured field by field, so a
//! field added to the data model fails to compile here until the schema carries it.

use prost::Message;
use telemetron_runtime::model::{
    AttributeValue, Attributes, BinValues, ErrorRecord, Event, HistogramPoint, LogRecord,
    MetricPoints, MinorSteps, Record, Rendering, RlPoints, RunAttributeValue, RunAttributes, Scale,
    ScatterPoint, SeriesKey, SeriesOrdering, SpanContext, SpanStart, SpanStatus, SpanStop,
    TelemetryDataError, TelemetryDataErrorKind, TimestampsMs, Values,
};
use telemetron_runtime::RunIdentity;

use crate::wire;
use crate::wire::record::Kind;
use crate::{CodecError, SCHEMA_MAJOR, SCHEMA_MINOR};

/// Encodes `records` (in order) with their `run` as one `RecordBatch`. Fails only for a record
/// kind newer than this schema.
pub fn encode<'a>(
    run: &RunIdentity,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<Vec<u8>, CodecError> {
    let mut encoder = BatchEncoder::new(run);
    for record in records {
        encoder.push(encode_record(record)?);
    }
    Ok(encoder.finish())
}

/// Builds one batch record by record, knowing its encoded size at every step: how the Kafka
/// exporter keeps each message under its size limit.
pub struct BatchEncoder {
    batch: wire::RecordBatch,
    len: usize,
}

impl BatchEncoder {
    /// An empty batch of `run`.
    pub fn new(run: &RunIdentity) -> Self {
        let batch = wire::RecordBatch {
            schema_major: SCHEMA_MAJOR,
            schema_minor: SCHEMA_MINOR,
            run: Some(run_message(run)),
            records: Vec::new(),
        };
        let len = batch.encoded_len();
        BatchEncoder { batch, len }
    }

    /// The encoded size of a batch holding `record` alone on top of the empty batch: what
    /// [`push`](Self::push) adds.
    pub fn record_cost(record: &wire::Record) -> usize {
        let len = record.encoded_len();
        // Field 4's tag (one byte) and the length prefix.
        1 + prost::length_delimiter_len(len) + len
    }

    /// Appends a record made by [`encode_record`].
    pub fn push(&mut self, record: wire::Record) {
        self.len += Self::record_cost(&record);
        self.batch.records.push(record);
    }

    /// Bytes the batch takes encoded so far.
    pub fn encoded_len(&self) -> usize {
        self.len
    }

    /// Records pushed so far.
    pub fn records(&self) -> usize {
        self.batch.records.len()
    }

    /// The bytes of the batch.
    pub fn finish(self) -> Vec<u8> {
        self.batch.encode_to_vec()
    }
}

fn run_message(run: &RunIdentity) -> wire::Run {
    let RunIdentity {
        workspace,
        project,
        run_name,
        experiment,
        orchestration_id,
        logger_id,
    } = run;
    wire::Run {
        workspace: workspace.clone(),
        project: project.clone(),
        run_name: run_name.clone(),
        experiment: experiment.clone(),
        orchestration_id: orchestration_id.clone(),
        logger_id: *logger_id,
    }
}

/// One record as its wire message; a record kind newer than this schema is an error.
pub fn encode_record(record: &Record) -> Result<wire::Record, CodecError> {
    let kind = match record {
        Record::SpanStart(r) => Kind::SpanStart(span_start(r)),
        Record::SpanStop(r) => Kind::SpanStop(span_stop(r)),
        Record::Event(r) => Kind::Event(event(r)),
        Record::Error(r) => Kind::Error(error(r)),
        Record::TelemetryDataError(r) => Kind::TelemetryDataError(telemetry_data_error(r)),
        Record::Rendering(r) => Kind::Rendering(rendering(r)),
        Record::Log(r) => Kind::Log(log(r)),
        Record::Metric(r) => Kind::Metric(metric(r)),
        Record::Scalar(r) => Kind::Metric(r.with_points(metric)),
        Record::Attributes(r) => Kind::Attributes(run_attributes(r)),
        Record::Rl(r) => Kind::Rl(rl(r)),
        Record::Histogram(r) => Kind::Histogram(histogram(r)),
        Record::Scatter(r) => Kind::Scatter(scatter(r)),
        // A kind added to the data model after this schema (the round-trip tests build one
        // record of every `RecordKind`, so they fail until it is added here).
        #[allow(unreachable_patterns)]
        other => return Err(CodecError::UnsupportedKind(other.kind().as_str())),
    };
    Ok(wire::Record { kind: Some(kind) })
}

fn context(c: &SpanContext) -> wire::SpanContext {
    wire::SpanContext {
        trace_id_high: (c.trace_id.0 >> 64) as u64,
        trace_id_low: c.trace_id.0 as u64,
        span_id: c.span_id.0,
    }
}

fn attributes(attrs: &Attributes) -> Vec<wire::KeyValue> {
    use wire::attribute_value::Value as V;
    attrs
        .iter()
        .map(|(key, value)| {
            let value = match value {
                AttributeValue::Bool(b) => V::BoolValue(*b),
                AttributeValue::I64(i) => V::IntValue(*i),
                AttributeValue::F64(f) => V::DoubleValue(*f),
                AttributeValue::String(s) => V::StringValue(s.clone()),
                AttributeValue::BoolList(l) => V::BoolList(wire::BoolColumn { values: l.clone() }),
                AttributeValue::I64List(l) => V::IntList(wire::SInt64Column { values: l.clone() }),
                AttributeValue::F64List(l) => {
                    V::DoubleList(wire::DoubleColumn { values: l.clone() })
                }
                AttributeValue::StringList(l) => {
                    V::StringList(wire::StringColumn { values: l.clone() })
                }
            };
            wire::KeyValue {
                key: key.to_string(),
                value: Some(wire::AttributeValue { value: Some(value) }),
            }
        })
        .collect()
}

fn span_start(r: &SpanStart) -> wire::SpanStart {
    let SpanStart {
        context: ctx,
        parent,
        name,
        time,
        attributes: attrs,
        start_event_attributes,
    } = r;
    wire::SpanStart {
        context: Some(context(ctx)),
        parent_span_id: parent.map(|p| p.0),
        name: name.to_string(),
        time_unix_nano: time.0,
        attributes: attributes(attrs),
        start_event_attributes: attributes(start_event_attributes),
    }
}

fn span_stop(r: &SpanStop) -> wire::SpanStop {
    let SpanStop {
        context: ctx,
        parent,
        name,
        start_time,
        time,
        duration_ns,
        status,
        attributes: attrs,
        span_attributes,
    } = r;
    let (code, message) = match status {
        SpanStatus::Ok => (wire::SpanStatusCode::Ok, String::new()),
        SpanStatus::Error(m) => (wire::SpanStatusCode::Error, m.clone()),
        SpanStatus::Cancelled => (wire::SpanStatusCode::Cancelled, String::new()),
    };
    wire::SpanStop {
        context: Some(context(ctx)),
        parent_span_id: parent.map(|p| p.0),
        name: name.to_string(),
        start_time_unix_nano: start_time.0,
        time_unix_nano: time.0,
        duration_ns: *duration_ns,
        status: code as i32,
        status_message: message,
        span_attributes: attributes(span_attributes),
        attributes: attributes(attrs),
    }
}

fn event(r: &Event) -> wire::Event {
    let Event {
        span,
        name,
        time,
        attributes: attrs,
    } = r;
    wire::Event {
        span: span.as_ref().map(context),
        name: name.to_string(),
        time_unix_nano: time.0,
        attributes: attributes(attrs),
    }
}

fn error(r: &ErrorRecord) -> wire::Error {
    let ErrorRecord {
        span,
        message,
        exception_type,
        exception_message,
        traceback,
        time,
    } = r;
    wire::Error {
        span: span.as_ref().map(context),
        message: message.clone(),
        exception_type: exception_type.clone(),
        exception_message: exception_message.clone(),
        traceback: traceback.clone(),
        time_unix_nano: time.0,
    }
}

fn telemetry_data_error(r: &TelemetryDataError) -> wire::TelemetryDataError {
    let TelemetryDataError {
        kind,
        message,
        exporter,
        time,
    } = r;
    let kind = match kind {
        TelemetryDataErrorKind::NoTelemetryData => wire::TelemetryDataErrorKind::NoTelemetryData,
        TelemetryDataErrorKind::IncompleteTelemetryData => {
            wire::TelemetryDataErrorKind::IncompleteTelemetryData
        }
    };
    wire::TelemetryDataError {
        kind: kind as i32,
        message: message.clone(),
        exporter: exporter.clone(),
        time_unix_nano: time.0,
    }
}

fn rendering(r: &Rendering) -> wire::Rendering {
    let Rendering {
        env_id,
        episode,
        rl_step_first,
        rl_step_last,
        path,
        frames,
        width,
        height,
        fps,
        duration_secs,
        bytes,
        time,
    } = r;
    wire::Rendering {
        env_id: env_id.clone(),
        episode: *episode,
        rl_step_first: *rl_step_first,
        rl_step_last: *rl_step_last,
        path: path.clone(),
        frames: *frames,
        width: *width,
        height: *height,
        fps: *fps,
        duration_secs: *duration_secs,
        bytes: *bytes,
        time_unix_nano: time.0,
    }
}

fn log(r: &LogRecord) -> wire::Log {
    let LogRecord {
        time,
        severity,
        body,
        logger,
        span,
        attributes: attrs,
    } = r;
    wire::Log {
        time_unix_nano: time.0,
        severity_number: u32::from(severity.number()),
        body: body.clone(),
        logger: logger.to_string(),
        span: span.as_ref().map(context),
        attributes: attributes(attrs),
    }
}

fn series(key: &SeriesKey) -> wire::Series {
    let scale = match key.scale() {
        Scale::MlStep => wire::Scale::MlStep,
        Scale::Episode => wire::Scale::Episode,
        Scale::EnvironmentStep => wire::Scale::EnvironmentStep,
    };
    wire::Series {
        name: key.name().to_string(),
        scale: scale as i32,
        labels: key
            .labels()
            .iter()
            .map(|(k, v)| wire::Label {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
    }
}

fn ordering(o: SeriesOrdering) -> i32 {
    match o {
        SeriesOrdering::Ordered => wire::Ordering::Ordered as i32,
        SeriesOrdering::Unordered => wire::Ordering::Unordered as i32,
    }
}

fn timestamps(t: &TimestampsMs) -> Option<wire::TimestampsMs> {
    use wire::timestamps_ms::Timestamps as T;
    let timestamps = match t {
        TimestampsMs::None => return None,
        TimestampsMs::One(ms) => T::One(*ms),
        TimestampsMs::Each(ms) => T::Each(wire::SInt64Column { values: ms.clone() }),
    };
    Some(wire::TimestampsMs {
        timestamps: Some(timestamps),
    })
}

fn metric(r: &MetricPoints) -> wire::Metric {
    use wire::metric::Values as V;
    let MetricPoints {
        series: key,
        ordering: order,
        steps,
        values,
        timestamps_ms,
        time,
    } = r;
    wire::Metric {
        series: Some(series(key)),
        ordering: ordering(*order),
        steps: steps.to_vec(),
        values: Some(match values {
            Values::F32(v) => V::F32Values(wire::FloatColumn { values: v.to_vec() }),
            Values::F64(v) => V::F64Values(wire::DoubleColumn { values: v.to_vec() }),
        }),
        timestamps_ms: timestamps(timestamps_ms),
        time_unix_nano: time.0,
    }
}

fn rl(r: &RlPoints) -> wire::RlPoints {
    use wire::rl_points::{MinorSteps as M, Values as V};
    let RlPoints {
        series: key,
        ordering: order,
        rl_step,
        envs,
        episodes,
        per_env,
        minor_steps,
        values,
        timestamps_ms,
        time,
    } = r;
    let all_present = episodes.iter().all(Option::is_some);
    wire::RlPoints {
        series: Some(series(key)),
        ordering: ordering(*order),
        rl_step: *rl_step,
        envs: envs.to_vec(),
        episodes: episodes.iter().map(|e| e.unwrap_or(0)).collect(),
        episode_present: if all_present {
            Vec::new()
        } else {
            episodes.iter().map(Option::is_some).collect()
        },
        per_env: *per_env as u64,
        minor_steps: Some(match minor_steps {
            MinorSteps::Runs(starts) => M::MinorStepRuns(wire::UInt64Column {
                values: starts.clone(),
            }),
            MinorSteps::Each(steps) => M::MinorStepEach(wire::UInt64Column {
                values: steps.clone(),
            }),
        }),
        values: Some(match values {
            Values::F32(v) => V::F32Values(wire::FloatColumn { values: v.to_vec() }),
            Values::F64(v) => V::F64Values(wire::DoubleColumn { values: v.to_vec() }),
        }),
        timestamps_ms: timestamps(timestamps_ms),
        time_unix_nano: time.0,
    }
}

fn histogram(r: &HistogramPoint) -> wire::Histogram {
    use wire::histogram::Bins;
    let HistogramPoint {
        series: key,
        step,
        bin_edges,
        bins,
        stats,
        timestamp_ms,
        time,
    } = r;
    wire::Histogram {
        series: Some(series(key)),
        step: *step,
        bin_edges: bin_edges.clone(),
        bins: Some(match bins {
            BinValues::Counts(c) => Bins::Counts(wire::UInt64Column { values: c.clone() }),
            BinValues::Densities(d) => Bins::Densities(wire::DoubleColumn { values: d.clone() }),
        }),
        stats: stats.map(|[min, max, sum, sum_of_squares]| wire::HistogramStats {
            min,
            max,
            sum,
            sum_of_squares,
        }),
        timestamp_ms: *timestamp_ms,
        time_unix_nano: time.0,
    }
}

fn scatter(r: &ScatterPoint) -> wire::Scatter {
    let ScatterPoint {
        series: key,
        step,
        xs,
        ys,
        zs,
        titles: [title_x, title_y, title_z],
        timestamp_ms,
        time,
    } = r;
    wire::Scatter {
        series: Some(series(key)),
        step: *step,
        xs: xs.clone(),
        ys: ys.clone(),
        zs: zs
            .as_ref()
            .map(|z| wire::DoubleColumn { values: z.clone() }),
        title_x: title_x.clone(),
        title_y: title_y.clone(),
        title_z: title_z.clone(),
        timestamp_ms: *timestamp_ms,
        time_unix_nano: time.0,
    }
}

fn run_attributes(r: &RunAttributes) -> wire::RunAttributes {
    use wire::run_attribute_value::Value as V;
    let RunAttributes {
        env_id,
        episode,
        updates,
        time,
    } = r;
    wire::RunAttributes {
        env_id: env_id.clone(),
        episode: *episode,
        updates: updates
            .iter()
            .map(|(path, value)| {
                let value = match value {
                    RunAttributeValue::Bool(b) => V::BoolValue(*b),
                    RunAttributeValue::Int(i) => V::IntValue(*i),
                    RunAttributeValue::Float(f) => V::FloatValue(*f),
                    RunAttributeValue::String(s) => V::StringValue(s.clone()),
                    RunAttributeValue::StringSet(s) => {
                        V::StringSet(wire::StringColumn { values: s.clone() })
                    }
                    RunAttributeValue::StringSetDelta { added, removed } => {
                        V::StringSetDelta(wire::StringSetDelta {
                            added: added.clone(),
                            removed: removed.clone(),
                        })
                    }
                };
                wire::RunAttributeUpdate {
                    path: path.clone(),
                    value: Some(wire::RunAttributeValue { value: Some(value) }),
                }
            })
            .collect(),
        time_unix_nano: time.0,
    }
}
