//! Records → OTLP spans, log records and metrics (documented in exporters/otlp/README.md).
//!
//! A span is sent once, when it stops: its start attributes, the events and errors recorded in
//! it meanwhile, and its stop become one OTLP span. Events and errors outside any open span,
//! telemetry data errors, renderings and log records become OTLP log records.

use std::collections::HashMap;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord as OtlpLog;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::span::{Event as OtlpEvent, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span, Status};
use telemetron_runtime::model::{
    AttributeValue, Attributes, Record, Severity, SpanContext, SpanId, SpanStatus, Timestamp,
};

use crate::metrics::{gauge, histogram, rl_gauge, run_attribute};

/// W3C flag "sampled": every recorded span is sampled.
const SAMPLED: u32 = 1;

/// A span between its start and its stop.
struct OpenSpan {
    attributes: Vec<KeyValue>,
    events: Vec<OtlpEvent>,
}

/// Turns records into spans and log records, keeping open spans across batches.
#[derive(Default)]
pub struct Assembler {
    open: HashMap<SpanId, OpenSpan>,
}

/// What one batch of records produced.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Assembled {
    /// Spans that stopped.
    pub spans: Vec<Span>,
    /// Log records with the logger (instrumentation scope) that emitted them.
    pub logs: Vec<(String, OtlpLog)>,
    /// One metric per metric record (none for scatters).
    pub metrics: Vec<Metric>,
}

impl Assembler {
    /// Maps one record into `out`: a span start is kept until its stop; everything else maps
    /// at once.
    pub fn add(&mut self, record: &Record, out: &mut Assembled) {
        match record {
            Record::SpanStart(s) => {
                let mut attributes = key_values(&s.attributes);
                let mut events = Vec::new();
                if !s.start_event_attributes.is_empty() {
                    events.push(event("start", s.time, &s.start_event_attributes));
                }
                attributes.shrink_to_fit();
                events.shrink_to_fit();
                self.open
                    .insert(s.context.span_id, OpenSpan { attributes, events });
            }
            Record::SpanStop(s) => {
                let open = self.open.remove(&s.context.span_id);
                let (mut attributes, events) =
                    open.map_or_else(|| (Vec::new(), Vec::new()), |o| (o.attributes, o.events));
                attributes.extend(key_values(&s.attributes));
                // Added while it ran or at its stop: replace same-named start attributes.
                for kv in key_values(&s.span_attributes) {
                    match attributes.iter_mut().find(|a| a.key == kv.key) {
                        Some(slot) => *slot = kv,
                        None => attributes.push(kv),
                    }
                }
                let status = match &s.status {
                    SpanStatus::Ok => None,
                    SpanStatus::Error(message) => Some(Status {
                        message: message.clone(),
                        code: StatusCode::Error as i32,
                    }),
                    SpanStatus::Cancelled => {
                        attributes.push(kv("telemetron.status", string("cancelled")));
                        None
                    }
                };
                out.spans.push(Span {
                    trace_id: s.context.trace_id.0.to_be_bytes().to_vec(),
                    span_id: s.context.span_id.0.to_be_bytes().to_vec(),
                    parent_span_id: s
                        .parent
                        .map_or_else(Vec::new, |p| p.0.to_be_bytes().to_vec()),
                    flags: SAMPLED,
                    name: s.name.to_string(),
                    kind: SpanKind::Internal as i32,
                    start_time_unix_nano: s.start_time.0,
                    end_time_unix_nano: s.time.0,
                    attributes,
                    events,
                    status,
                    ..Default::default()
                });
            }
            Record::Event(e) => match e.span.and_then(|c| self.open.get_mut(&c.span_id)) {
                Some(open) => open.events.push(event(&e.name, e.time, &e.attributes)),
                None => {
                    let mut attributes = key_values(&e.attributes);
                    attributes.push(kv("event.name", string(&e.name)));
                    out.logs
                        .push(log(e.time, Severity::INFO, &e.name, e.span, attributes));
                }
            },
            Record::Error(e) => {
                let mut attributes = vec![kv("message", string(&e.message))];
                let exception = [
                    ("exception.type", &e.exception_type),
                    ("exception.message", &e.exception_message),
                    ("exception.stacktrace", &e.traceback),
                ];
                attributes.extend(
                    exception
                        .into_iter()
                        .filter_map(|(k, v)| v.as_deref().map(|v| kv(k, string(v)))),
                );
                match e.span.and_then(|c| self.open.get_mut(&c.span_id)) {
                    Some(open) => open.events.push(OtlpEvent {
                        time_unix_nano: e.time.0,
                        name: "exception".into(),
                        attributes,
                        dropped_attributes_count: 0,
                    }),
                    None => {
                        out.logs
                            .push(log(e.time, Severity::ERROR, &e.message, e.span, attributes))
                    }
                }
            }
            Record::TelemetryDataError(e) => {
                let attributes = vec![kv(
                    "telemetron.telemetry_data_error",
                    string(e.kind.as_str()),
                )];
                out.logs
                    .push(log(e.time, Severity::WARN, &e.message, None, attributes));
            }
            Record::Rendering(r) => {
                let attributes = vec![
                    kv("rendering.env_id", string(&r.env_id)),
                    kv("rendering.episode", int(r.episode)),
                    kv("rendering.rl_step_first", int(r.rl_step_first)),
                    kv("rendering.rl_step_last", int(r.rl_step_last)),
                    kv("rendering.path", string(&r.path)),
                    kv("rendering.frames", int(r.frames as i64)),
                    kv("rendering.width", int(i64::from(r.width))),
                    kv("rendering.height", int(i64::from(r.height))),
                    kv("rendering.fps", int(i64::from(r.fps))),
                    kv("rendering.bytes", int(r.bytes as i64)),
                ];
                out.logs.push(log(
                    r.time,
                    Severity::INFO,
                    "rendering finished",
                    None,
                    attributes,
                ));
            }
            Record::Log(l) => {
                let (_, record) = log(
                    l.time,
                    l.severity,
                    &l.body,
                    l.span,
                    key_values(&l.attributes),
                );
                out.logs.push((l.logger.to_string(), record));
            }
            Record::Metric(m) => out.metrics.push(gauge(m)),
            Record::Scalar(p) => out.metrics.push(p.with_points(gauge)),
            Record::Rl(r) => out.metrics.push(rl_gauge(r)),
            Record::Histogram(h) => out.metrics.push(histogram(h)),
            Record::Attributes(a) => {
                let mut attributes: Vec<KeyValue> = a
                    .updates
                    .iter()
                    .map(|(path, value)| kv(path, run_attribute(value)))
                    .collect();
                if let Some(env) = &a.env_id {
                    attributes.push(kv("rl.env_id", string(env)));
                }
                if let Some(episode) = a.episode {
                    attributes.push(kv("rl.episode", int(episode as i64)));
                }
                attributes.push(kv("event.name", string("run_attributes")));
                out.logs.push(log(
                    a.time,
                    Severity::INFO,
                    "run attributes",
                    None,
                    attributes,
                ));
            }
            // Later signals are not mapped yet.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    /// Spans started and not yet stopped.
    pub fn open_spans(&self) -> usize {
        self.open.len()
    }
}

fn event(name: &str, time: Timestamp, attributes: &Attributes) -> OtlpEvent {
    OtlpEvent {
        time_unix_nano: time.0,
        name: name.to_string(),
        attributes: key_values(attributes),
        dropped_attributes_count: 0,
    }
}

/// A log record under the scope `telemetron` (the Recorder's own records).
fn log(
    time: Timestamp,
    severity: Severity,
    body: &str,
    span: Option<SpanContext>,
    attributes: Vec<KeyValue>,
) -> (String, OtlpLog) {
    let record = OtlpLog {
        time_unix_nano: time.0,
        observed_time_unix_nano: time.0,
        severity_number: i32::from(severity.number()),
        severity_text: severity.text().to_string(),
        body: Some(string(body)),
        attributes,
        flags: if span.is_some() { SAMPLED } else { 0 },
        trace_id: span.map_or_else(Vec::new, |c| c.trace_id.0.to_be_bytes().to_vec()),
        span_id: span.map_or_else(Vec::new, |c| c.span_id.0.to_be_bytes().to_vec()),
        ..Default::default()
    };
    ("telemetron".to_string(), record)
}

/// Attributes as OTLP key-values, types kept.
pub fn key_values(attributes: &Attributes) -> Vec<KeyValue> {
    attributes.iter().map(|(k, v)| kv(k, value(v))).collect()
}

/// One OTLP key-value.
pub fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(value),
        ..Default::default()
    }
}

/// A string `AnyValue`.
pub fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    }
}

/// An int `AnyValue`.
pub fn int(i: i64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(i)),
    }
}

fn value(v: &AttributeValue) -> AnyValue {
    use any_value::Value as V;
    let array = |values: Vec<AnyValue>| V::ArrayValue(ArrayValue { values });
    let inner = match v {
        AttributeValue::Bool(b) => V::BoolValue(*b),
        AttributeValue::I64(i) => V::IntValue(*i),
        AttributeValue::F64(f) => V::DoubleValue(*f),
        AttributeValue::String(s) => V::StringValue(s.clone()),
        AttributeValue::BoolList(l) => array(l.iter().map(|b| wrap(V::BoolValue(*b))).collect()),
        AttributeValue::I64List(l) => array(l.iter().map(|i| wrap(V::IntValue(*i))).collect()),
        AttributeValue::F64List(l) => array(l.iter().map(|f| wrap(V::DoubleValue(*f))).collect()),
        AttributeValue::StringList(l) => {
            array(l.iter().map(|s| wrap(V::StringValue(s.clone()))).collect())
        }
    };
    wrap(inner)
}

/// Wraps a value into an `AnyValue`.
pub fn wrap(value: any_value::Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetron_runtime::model::{
        ErrorRecord, Event, LogRecord, Name, SpanStart, SpanStop, TraceId,
    };

    fn ctx(span: u64) -> SpanContext {
        SpanContext {
            trace_id: TraceId(7),
            span_id: SpanId(span),
        }
    }

    fn assemble(records: Vec<Record>) -> (Assembled, Assembler) {
        let mut assembler = Assembler::default();
        let mut out = Assembled::default();
        for r in &records {
            assembler.add(r, &mut out);
        }
        (out, assembler)
    }

    #[test]
    fn a_span_collects_its_events_and_errors_and_is_sent_at_its_stop() {
        let attrs = Attributes::new().with("epoch", 1).unwrap();
        let (out, assembler) = assemble(vec![
            Record::SpanStart(Box::new(SpanStart {
                context: ctx(2),
                parent: Some(SpanId(1)),
                name: Name::Borrowed("epoch"),
                time: Timestamp(100),
                attributes: attrs.clone(),
                start_event_attributes: Attributes::new(),
            })),
            Record::Event(Box::new(Event {
                span: Some(ctx(2)),
                name: Name::Borrowed("checkpoint"),
                time: Timestamp(150),
                attributes: Attributes::new(),
            })),
            Record::Error(Box::new(ErrorRecord {
                span: Some(ctx(2)),
                message: "Error in epoch: boom".into(),
                exception_type: Some("ValueError".into()),
                exception_message: Some("boom".into()),
                traceback: None,
                time: Timestamp(160),
            })),
            Record::SpanStop(Box::new(SpanStop {
                context: ctx(2),
                parent: Some(SpanId(1)),
                name: Name::Borrowed("epoch"),
                start_time: Timestamp(100),
                time: Timestamp(200),
                duration_ns: 100,
                status: SpanStatus::Error("Error in epoch: boom".into()),
                attributes: Attributes::new().with("loss", 0.5).unwrap(),
                // Added while it ran: a new key, and a new value for a start attribute.
                span_attributes: Attributes::new()
                    .with("duration_msec", 1i64)
                    .and_then(|a| a.with("epoch", 2i64))
                    .unwrap(),
            })),
            Record::Event(Box::new(Event {
                span: Some(ctx(2)),
                name: Name::Borrowed("late"),
                time: Timestamp(300),
                attributes: Attributes::new(),
            })),
        ]);
        assert_eq!(assembler.open_spans(), 0);
        let [span] = out.spans.as_slice() else {
            panic!("{:?}", out.spans)
        };
        assert_eq!(span.trace_id, 7u128.to_be_bytes().to_vec());
        assert_eq!(span.parent_span_id, 1u64.to_be_bytes().to_vec());
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (100, 200)
        );
        let keys: Vec<_> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["epoch", "loss", "duration_msec"]);
        assert_eq!(
            span.attributes[0].value,
            Some(wrap(any_value::Value::IntValue(2)))
        );
        let events: Vec<_> = span.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(events, ["checkpoint", "exception"]);
        let status = span.status.as_ref().unwrap();
        assert_eq!(status.code, StatusCode::Error as i32);
        // An event naming a span that already stopped becomes a log record.
        let [(scope, late)] = out.logs.as_slice() else {
            panic!("{:?}", out.logs)
        };
        assert_eq!(scope, "telemetron");
        assert_eq!(late.span_id, 2u64.to_be_bytes().to_vec());
    }

    #[test]
    fn log_records_keep_their_logger_severity_and_span() {
        let (out, _) = assemble(vec![Record::Log(Box::new(LogRecord {
            time: Timestamp(5),
            severity: Severity::WARN,
            body: "slow".into(),
            logger: Name::Borrowed("trainer.io"),
            span: Some(ctx(3)),
            attributes: Attributes::new(),
        }))]);
        let [(scope, log)] = out.logs.as_slice() else {
            panic!()
        };
        assert_eq!(scope, "trainer.io");
        assert_eq!(
            (log.severity_number, log.severity_text.as_str()),
            (13, "WARN")
        );
        assert_eq!(log.trace_id, 7u128.to_be_bytes().to_vec());
        assert_eq!(log.flags, SAMPLED);
    }
}
