//! Bytes → `records.proto` messages → records. Everything the data model validates on the way
//! in (attribute keys and floats, series keys, severities) is validated here too, so a batch
//! from an untrusted producer cannot build a record the API would have refused.

use std::sync::Arc;

use prost::Message;
use telemetron_runtime::model::{
    Attributes, BinValues, ErrorRecord, Event, HistogramPoint, LogRecord, MetricPoints, MinorSteps,
    Name, Record, Rendering, RlPoints, RunAttributeValue, RunAttributes, Scale, ScatterPoint,
    SeriesKey, SeriesOrdering, Severity, SpanContext, SpanId, SpanStart, SpanStatus, SpanStop,
    TelemetryDataError, TelemetryDataErrorKind, Timestamp, TimestampsMs, TraceId, Values,
};
use telemetron_runtime::RunIdentity;

use crate::wire;
use crate::wire::record::Kind;
use crate::{CodecError, SCHEMA_MAJOR};

/// A decoded batch: the producer's run and its records, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedBatch {
    /// The run the records belong to.
    pub run: RunIdentity,
    /// The records.
    pub records: Vec<Record>,
    /// The batch's schema minor version (later minors may carry fields this reader skipped).
    pub schema_minor: u32,
}

/// Decodes one batch written by [`encode`](crate::encode) (any schema 1.x).
pub fn decode(bytes: &[u8]) -> Result<DecodedBatch, CodecError> {
    let batch = wire::RecordBatch::decode(bytes).map_err(|e| CodecError::Malformed {
        len: bytes.len(),
        reason: e.to_string(),
    })?;
    if batch.schema_major == 0 {
        return Err(CodecError::Malformed {
            len: bytes.len(),
            reason: "no schema version (field 1)".into(),
        });
    }
    if batch.schema_major > SCHEMA_MAJOR {
        return Err(CodecError::NewerMajor {
            found: batch.schema_major,
            supported: SCHEMA_MAJOR,
        });
    }
    let run = batch.run.map(run_identity).unwrap_or_default();
    let records = batch
        .records
        .into_iter()
        .enumerate()
        .map(|(index, record)| decode_record(record).map_err(|e| e.at(index)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DecodedBatch {
        run,
        records,
        schema_minor: batch.schema_minor,
    })
}

/// A record that could not be decoded, before its position is known.
struct Invalid {
    kind: &'static str,
    reason: String,
}

impl Invalid {
    fn at(self, index: usize) -> CodecError {
        CodecError::InvalidRecord {
            index,
            kind: self.kind,
            reason: self.reason,
        }
    }
}

type Decoded<T> = Result<T, Invalid>;

fn invalid(kind: &'static str, reason: impl Into<String>) -> Invalid {
    Invalid {
        kind,
        reason: reason.into(),
    }
}

fn run_identity(run: wire::Run) -> RunIdentity {
    RunIdentity {
        workspace: run.workspace,
        project: run.project,
        run_name: run.run_name,
        experiment: run.experiment,
        orchestration_id: run.orchestration_id,
        logger_id: run.logger_id,
    }
}

fn decode_record(record: wire::Record) -> Decoded<Record> {
    Ok(
        match record
            .kind
            .ok_or_else(|| invalid("unknown", "the record has no kind"))?
        {
            Kind::SpanStart(r) => Record::from(span_start(r)?),
            Kind::SpanStop(r) => Record::from(span_stop(r)?),
            Kind::Event(r) => Record::from(event(r)?),
            Kind::Error(r) => Record::from(error(r)),
            Kind::TelemetryDataError(r) => Record::from(telemetry_data_error(r)?),
            Kind::Rendering(r) => Record::from(rendering(r)),
            Kind::Log(r) => Record::from(log(r)?),
            Kind::Metric(r) => Record::from(metric(r)?),
            Kind::Attributes(r) => Record::from(run_attributes(r)?),
            Kind::Rl(r) => Record::from(rl(r)?),
            Kind::Histogram(r) => Record::from(histogram(r)?),
            Kind::Scatter(r) => Record::from(scatter(r)?),
        },
    )
}

fn context(c: wire::SpanContext) -> SpanContext {
    SpanContext {
        trace_id: TraceId((u128::from(c.trace_id_high) << 64) | u128::from(c.trace_id_low)),
        span_id: SpanId(c.span_id),
    }
}

fn required_context(kind: &'static str, c: Option<wire::SpanContext>) -> Decoded<SpanContext> {
    c.map(context)
        .ok_or_else(|| invalid(kind, "missing span context"))
}

fn attributes(kind: &'static str, kvs: Vec<wire::KeyValue>) -> Decoded<Attributes> {
    use telemetron_runtime::model::AttributeValue as A;
    use wire::attribute_value::Value as V;
    let mut attrs = Attributes::new();
    for kv in kvs {
        let value = match kv.value.and_then(|v| v.value) {
            Some(V::BoolValue(b)) => A::Bool(b),
            Some(V::IntValue(i)) => A::I64(i),
            Some(V::DoubleValue(f)) => A::F64(f),
            Some(V::StringValue(s)) => A::String(s),
            Some(V::BoolList(l)) => A::BoolList(l.values),
            Some(V::IntList(l)) => A::I64List(l.values),
            Some(V::DoubleList(l)) => A::F64List(l.values),
            Some(V::StringList(l)) => A::StringList(l.values),
            None => {
                return Err(invalid(
                    kind,
                    format!("attribute {:?} has no value", kv.key),
                ))
            }
        };
        attrs
            .insert(kv.key, value)
            .map_err(|e| invalid(kind, e.to_string()))?;
    }
    Ok(attrs)
}

fn span_start(r: wire::SpanStart) -> Decoded<SpanStart> {
    const KIND: &str = "span_start";
    Ok(SpanStart {
        context: required_context(KIND, r.context)?,
        parent: r.parent_span_id.map(SpanId),
        name: Name::Owned(r.name),
        time: Timestamp(r.time_unix_nano),
        attributes: attributes(KIND, r.attributes)?,
        start_event_attributes: attributes(KIND, r.start_event_attributes)?,
    })
}

fn span_stop(r: wire::SpanStop) -> Decoded<SpanStop> {
    const KIND: &str = "span_stop";
    let status = match wire::SpanStatusCode::try_from(r.status) {
        Ok(wire::SpanStatusCode::Ok) => SpanStatus::Ok,
        Ok(wire::SpanStatusCode::Error) => SpanStatus::Error(r.status_message),
        Ok(wire::SpanStatusCode::Cancelled) => SpanStatus::Cancelled,
        Err(_) => return Err(invalid(KIND, format!("unknown span status {}", r.status))),
    };
    Ok(SpanStop {
        context: required_context(KIND, r.context)?,
        parent: r.parent_span_id.map(SpanId),
        name: Name::Owned(r.name),
        start_time: Timestamp(r.start_time_unix_nano),
        time: Timestamp(r.time_unix_nano),
        duration_ns: r.duration_ns,
        status,
        attributes: attributes(KIND, r.attributes)?,
        span_attributes: attributes(KIND, r.span_attributes)?,
    })
}

fn event(r: wire::Event) -> Decoded<Event> {
    Ok(Event {
        span: r.span.map(context),
        name: Name::Owned(r.name),
        time: Timestamp(r.time_unix_nano),
        attributes: attributes("event", r.attributes)?,
    })
}

fn error(r: wire::Error) -> ErrorRecord {
    ErrorRecord {
        span: r.span.map(context),
        message: r.message,
        exception_type: r.exception_type,
        exception_message: r.exception_message,
        traceback: r.traceback,
        time: Timestamp(r.time_unix_nano),
    }
}

fn telemetry_data_error(r: wire::TelemetryDataError) -> Decoded<TelemetryDataError> {
    let kind = match wire::TelemetryDataErrorKind::try_from(r.kind) {
        Ok(wire::TelemetryDataErrorKind::NoTelemetryData) => {
            TelemetryDataErrorKind::NoTelemetryData
        }
        Ok(wire::TelemetryDataErrorKind::IncompleteTelemetryData) => {
            TelemetryDataErrorKind::IncompleteTelemetryData
        }
        Err(_) => {
            return Err(invalid(
                "telemetry_data_error",
                format!("unknown kind {}", r.kind),
            ))
        }
    };
    Ok(TelemetryDataError {
        kind,
        message: r.message,
        exporter: r.exporter,
        time: Timestamp(r.time_unix_nano),
    })
}

fn rendering(r: wire::Rendering) -> Rendering {
    Rendering {
        env_id: r.env_id,
        episode: r.episode,
        rl_step_first: r.rl_step_first,
        rl_step_last: r.rl_step_last,
        path: r.path,
        frames: r.frames,
        width: r.width,
        height: r.height,
        fps: r.fps,
        duration_secs: r.duration_secs,
        bytes: r.bytes,
        time: Timestamp(r.time_unix_nano),
    }
}

fn log(r: wire::Log) -> Decoded<LogRecord> {
    let severity = u8::try_from(r.severity_number)
        .ok()
        .and_then(Severity::new)
        .ok_or_else(|| {
            invalid(
                "log",
                format!("severity {} is not within 1..=24", r.severity_number),
            )
        })?;
    Ok(LogRecord {
        time: Timestamp(r.time_unix_nano),
        severity,
        body: r.body,
        logger: Name::Owned(r.logger),
        span: r.span.map(context),
        attributes: attributes("log", r.attributes)?,
    })
}

fn series(kind: &'static str, s: Option<wire::Series>) -> Decoded<Arc<SeriesKey>> {
    let s = s.ok_or_else(|| invalid(kind, "missing series"))?;
    let scale = match wire::Scale::try_from(s.scale) {
        Ok(wire::Scale::MlStep) => Scale::MlStep,
        Ok(wire::Scale::Episode) => Scale::Episode,
        Ok(wire::Scale::EnvironmentStep) => Scale::EnvironmentStep,
        Err(_) => return Err(invalid(kind, format!("unknown scale {}", s.scale))),
    };
    let labels = s.labels.into_iter().map(|l| (l.key, l.value));
    SeriesKey::new(s.name, scale, labels)
        .map(Arc::new)
        .map_err(|e| invalid(kind, e.to_string()))
}

fn ordering(kind: &'static str, o: i32) -> Decoded<SeriesOrdering> {
    match wire::Ordering::try_from(o) {
        Ok(wire::Ordering::Ordered) => Ok(SeriesOrdering::Ordered),
        Ok(wire::Ordering::Unordered) => Ok(SeriesOrdering::Unordered),
        Err(_) => Err(invalid(kind, format!("unknown ordering {o}"))),
    }
}

fn timestamps(
    kind: &'static str,
    t: Option<wire::TimestampsMs>,
    points: usize,
) -> Decoded<TimestampsMs> {
    use wire::timestamps_ms::Timestamps as T;
    Ok(match t.and_then(|t| t.timestamps) {
        None => TimestampsMs::None,
        Some(T::One(ms)) => TimestampsMs::One(ms),
        Some(T::Each(c)) => {
            same_len(kind, "timestamps", c.values.len(), points)?;
            TimestampsMs::Each(c.values)
        }
    })
}

fn same_len(kind: &'static str, column: &str, len: usize, expected: usize) -> Decoded<()> {
    if len == expected {
        Ok(())
    } else {
        Err(invalid(
            kind,
            format!("{column} has {len} values, expected {expected}"),
        ))
    }
}

fn values(kind: &'static str, f32s: Option<Vec<f32>>, f64s: Option<Vec<f64>>) -> Decoded<Values> {
    match (f32s, f64s) {
        (Some(v), _) => Ok(Values::from(v)),
        (_, Some(v)) => Ok(Values::from(v)),
        _ => Err(invalid(kind, "missing values")),
    }
}

fn metric(r: wire::Metric) -> Decoded<MetricPoints> {
    const KIND: &str = "metric";
    use wire::metric::Values as V;
    let (f32s, f64s) = match r.values {
        Some(V::F32Values(c)) => (Some(c.values), None),
        Some(V::F64Values(c)) => (None, Some(c.values)),
        None => (None, None),
    };
    let values = values(KIND, f32s, f64s)?;
    same_len(KIND, "steps", r.steps.len(), values.len())?;
    Ok(MetricPoints {
        series: series(KIND, r.series)?,
        ordering: ordering(KIND, r.ordering)?,
        steps: r.steps.into(),
        timestamps_ms: timestamps(KIND, r.timestamps_ms, values.len())?,
        values,
        time: Timestamp(r.time_unix_nano),
    })
}

fn rl(r: wire::RlPoints) -> Decoded<RlPoints> {
    const KIND: &str = "rl_metric";
    use wire::rl_points::{MinorSteps as M, Values as V};
    let envs = r.envs.len();
    let per_env = usize::try_from(r.per_env)
        .map_err(|_| invalid(KIND, format!("per_env {} is too large", r.per_env)))?;
    let (f32s, f64s) = match r.values {
        Some(V::F32Values(c)) => (Some(c.values), None),
        Some(V::F64Values(c)) => (None, Some(c.values)),
        None => (None, None),
    };
    let values = values(KIND, f32s, f64s)?;
    let expected = envs
        .checked_mul(per_env)
        .ok_or_else(|| invalid(KIND, "envs × per_env overflows"))?;
    same_len(KIND, "values", values.len(), expected)?;
    same_len(KIND, "episodes", r.episodes.len(), envs)?;
    let episodes = if r.episode_present.is_empty() {
        r.episodes.into_iter().map(Some).collect()
    } else {
        same_len(KIND, "episode_present", r.episode_present.len(), envs)?;
        r.episodes
            .into_iter()
            .zip(r.episode_present)
            .map(|(e, present)| present.then_some(e))
            .collect()
    };
    let minor_steps = match r.minor_steps {
        Some(M::MinorStepRuns(c)) => {
            same_len(KIND, "minor step runs", c.values.len(), envs)?;
            MinorSteps::Runs(c.values)
        }
        Some(M::MinorStepEach(c)) => {
            same_len(KIND, "minor steps", c.values.len(), expected)?;
            MinorSteps::Each(c.values)
        }
        None => return Err(invalid(KIND, "missing minor steps")),
    };
    Ok(RlPoints {
        series: series(KIND, r.series)?,
        ordering: ordering(KIND, r.ordering)?,
        rl_step: r.rl_step,
        envs: r.envs.into(),
        episodes,
        per_env,
        minor_steps,
        timestamps_ms: timestamps(KIND, r.timestamps_ms, expected)?,
        values,
        time: Timestamp(r.time_unix_nano),
    })
}

fn histogram(r: wire::Histogram) -> Decoded<HistogramPoint> {
    const KIND: &str = "histogram";
    use wire::histogram::Bins;
    let bins = match r.bins {
        Some(Bins::Counts(c)) => BinValues::Counts(c.values),
        Some(Bins::Densities(d)) => BinValues::Densities(d.values),
        None => return Err(invalid(KIND, "missing bins")),
    };
    let n = match &bins {
        BinValues::Counts(c) => c.len(),
        BinValues::Densities(d) => d.len(),
    };
    same_len(KIND, "bin_edges", r.bin_edges.len(), n + 1)?;
    Ok(HistogramPoint {
        series: series(KIND, r.series)?,
        step: r.step,
        bin_edges: r.bin_edges,
        bins,
        stats: r.stats.map(|s| [s.min, s.max, s.sum, s.sum_of_squares]),
        timestamp_ms: r.timestamp_ms,
        time: Timestamp(r.time_unix_nano),
    })
}

fn scatter(r: wire::Scatter) -> Decoded<ScatterPoint> {
    const KIND: &str = "scatter";
    same_len(KIND, "ys", r.ys.len(), r.xs.len())?;
    if let Some(zs) = &r.zs {
        same_len(KIND, "zs", zs.values.len(), r.xs.len())?;
    }
    Ok(ScatterPoint {
        series: series(KIND, r.series)?,
        step: r.step,
        xs: r.xs,
        ys: r.ys,
        zs: r.zs.map(|z| z.values),
        titles: [r.title_x, r.title_y, r.title_z],
        timestamp_ms: r.timestamp_ms,
        time: Timestamp(r.time_unix_nano),
    })
}

fn run_attributes(r: wire::RunAttributes) -> Decoded<RunAttributes> {
    use wire::run_attribute_value::Value as V;
    let updates = r
        .updates
        .into_iter()
        .map(|u| {
            let value = match u.value.and_then(|v| v.value) {
                Some(V::BoolValue(b)) => RunAttributeValue::Bool(b),
                Some(V::IntValue(i)) => RunAttributeValue::Int(i),
                Some(V::FloatValue(f)) => RunAttributeValue::Float(f),
                Some(V::StringValue(s)) => RunAttributeValue::String(s),
                Some(V::StringSet(s)) => RunAttributeValue::StringSet(s.values),
                Some(V::StringSetDelta(d)) => RunAttributeValue::StringSetDelta {
                    added: d.added,
                    removed: d.removed,
                },
                None => {
                    return Err(invalid(
                        "attributes",
                        format!("update {:?} has no value", u.path),
                    ))
                }
            };
            Ok((u.path, value))
        })
        .collect::<Decoded<Vec<_>>>()?;
    Ok(RunAttributes {
        env_id: r.env_id,
        episode: r.episode,
        updates,
        time: Timestamp(r.time_unix_nano),
    })
}
