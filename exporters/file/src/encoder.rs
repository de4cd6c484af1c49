//! Records → JSON Lines, written by hand into one buffer: no intermediate values, no
//! allocation per record.

use telemetron_runtime::model::{AttributeValue, Attributes, Record, SpanContext, SpanId};
use telemetron_runtime::ExporterContext;

/// The `schema` field of every line. Bumped on any incompatible change to the format.
pub const SCHEMA_VERSION: u32 = 1;

/// `,"<name>":` as bytes, built at compile time: one append per key.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":").as_bytes()
    };
}

/// The opening of a line of `kind`, up to the value of `time_ns`.
macro_rules! line_start {
    ($kind:literal) => {
        concat!("{\"schema\":1,\"kind\":\"", $kind, "\",\"time_ns\":").as_bytes()
    };
}

// The `line_start!` literal spells the schema version out.
const _: () = assert!(SCHEMA_VERSION == 1);

/// Appends one JSON line (with its newline) for `record`.
mod metrics;

pub fn encode_record(record: &Record, out: &mut Vec<u8>) {
    match record {
        Record::SpanStart(s) => {
            out.extend_from_slice(line_start!("span_start"));
            u64_value(out, s.time.0);
            span_ids(out, Some(s.context));
            parent_id(out, s.parent);
            field_str(out, key!("name"), &s.name);
            attributes(out, key!("attributes"), &s.attributes);
            attributes(
                out,
                key!("start_event_attributes"),
                &s.start_event_attributes,
            );
        }
        Record::SpanStop(s) => {
            out.extend_from_slice(line_start!("span_stop"));
            u64_value(out, s.time.0);
            span_ids(out, Some(s.context));
            parent_id(out, s.parent);
            field_str(out, key!("name"), &s.name);
            field_u64(out, key!("start_time_ns"), s.start_time.0);
            field_u64(out, key!("duration_ns"), s.duration_ns);
            field_str(out, key!("status"), s.status.as_str());
            if let telemetron_runtime::model::SpanStatus::Error(message) = &s.status {
                field_str(out, key!("status_message"), message);
            }
            attributes(out, key!("attributes"), &s.attributes);
            attributes(out, key!("span_attributes"), &s.span_attributes);
        }
        Record::Event(e) => {
            out.extend_from_slice(line_start!("event"));
            u64_value(out, e.time.0);
            span_ids(out, e.span);
            field_str(out, key!("name"), &e.name);
            attributes(out, key!("attributes"), &e.attributes);
        }
        Record::Error(e) => {
            out.extend_from_slice(line_start!("error"));
            u64_value(out, e.time.0);
            span_ids(out, e.span);
            field_str(out, key!("message"), &e.message);
            field_opt_str(out, key!("exception_type"), e.exception_type.as_deref());
            field_opt_str(
                out,
                key!("exception_message"),
                e.exception_message.as_deref(),
            );
            field_opt_str(out, key!("traceback"), e.traceback.as_deref());
        }
        Record::TelemetryDataError(e) => {
            out.extend_from_slice(line_start!("telemetry_data_error"));
            u64_value(out, e.time.0);
            field_str(out, key!("error_type"), e.kind.as_str());
            field_str(out, key!("message"), &e.message);
            field_opt_str(out, key!("exporter"), e.exporter.as_deref());
        }
        Record::Rendering(r) => {
            out.extend_from_slice(line_start!("rendering"));
            u64_value(out, r.time.0);
            field_str(out, key!("env_id"), &r.env_id);
            field_i64(out, key!("episode"), r.episode);
            field_i64(out, key!("rl_step_first"), r.rl_step_first);
            field_i64(out, key!("rl_step_last"), r.rl_step_last);
            field_str(out, key!("path"), &r.path);
            field_u64(out, key!("frames"), r.frames);
            field_u64(out, key!("width"), u64::from(r.width));
            field_u64(out, key!("height"), u64::from(r.height));
            field_u64(out, key!("fps"), u64::from(r.fps));
            field_f64(out, key!("duration_secs"), r.duration_secs);
            field_u64(out, key!("bytes"), r.bytes);
        }
        Record::Log(l) => {
            out.extend_from_slice(line_start!("log"));
            u64_value(out, l.time.0);
            span_ids(out, l.span);
            field_u64(out, key!("severity_number"), u64::from(l.severity.number()));
            field_str(out, key!("severity_text"), l.severity.text());
            field_str(out, key!("logger"), &l.logger);
            field_str(out, key!("body"), &l.body);
            attributes(out, key!("attributes"), &l.attributes);
        }
        Record::Metric(m) => metrics::metric(out, m),
        Record::Scalar(p) => p.with_points(|m| metrics::metric(out, m)),
        Record::Rl(r) => metrics::rl(out, r),
        Record::Histogram(h) => metrics::histogram(out, h),
        Record::Scatter(p) => metrics::scatter(out, p),
        Record::Attributes(a) => metrics::attributes(out, a),
        // Kinds added by later signals are written as their kind alone until encoded here.
        #[allow(unreachable_patterns)]
        _ => {
            out.extend_from_slice(line_start!("unknown"));
            u64_value(out, 0);
        }
    }
    out.extend_from_slice(b"}\n");
}

/// Appends the header line that opens every file: the run, the process, the producer.
pub(crate) fn encode_header(ctx: &ExporterContext, out: &mut Vec<u8>) {
    out.extend_from_slice(line_start!("header"));
    u64_value(out, telemetron_runtime::model::Timestamp::now().0);
    out.extend_from_slice(b",\"run\":{\"run_name\":");
    let run = &ctx.run;
    string(out, &run.run_name);
    field_opt_str(out, key!("workspace"), run.workspace.as_deref());
    field_opt_str(out, key!("project"), run.project.as_deref());
    field_opt_str(out, key!("experiment"), run.experiment.as_deref());
    field_str(out, key!("orchestration_id"), &run.orchestration_id);
    field_u64(out, key!("logger_id"), run.logger_id);
    out.push(b'}');
    field_str(out, key!("exporter"), &ctx.name);
    field_u64(out, key!("pid"), u64::from(std::process::id()));
    field_str(
        out,
        key!("producer"),
        concat!("telemetron ", env!("CARGO_PKG_VERSION")),
    );
    out.extend_from_slice(b"}\n");
}

fn span_ids(out: &mut Vec<u8>, span: Option<SpanContext>) {
    match span {
        Some(ctx) => {
            out.extend_from_slice(key!("trace_id"));
            hex_string(out, ctx.trace_id.0, 32);
            out.extend_from_slice(key!("span_id"));
            hex_string(out, u128::from(ctx.span_id.0), 16);
        }
        None => out.extend_from_slice(b",\"trace_id\":null,\"span_id\":null"),
    }
}

fn parent_id(out: &mut Vec<u8>, parent: Option<SpanId>) {
    out.extend_from_slice(key!("parent_span_id"));
    match parent {
        Some(p) => hex_string(out, u128::from(p.0), 16),
        None => out.extend_from_slice(b"null"),
    }
}

fn field_str(out: &mut Vec<u8>, key: &[u8], value: &str) {
    out.extend_from_slice(key);
    string(out, value);
}

fn field_opt_str(out: &mut Vec<u8>, key: &[u8], value: Option<&str>) {
    out.extend_from_slice(key);
    match value {
        Some(v) => string(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn field_u64(out: &mut Vec<u8>, key: &[u8], value: u64) {
    out.extend_from_slice(key);
    u64_value(out, value);
}

fn field_i64(out: &mut Vec<u8>, key: &[u8], value: i64) {
    out.extend_from_slice(key);
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Finite floats only (the model refuses others); a non-finite one is written as null.
fn field_f64(out: &mut Vec<u8>, key: &[u8], value: f64) {
    out.extend_from_slice(key);
    if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

#[inline]
fn u64_value(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Two lowercase hex digits for every byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    table
};

/// `"<digits lowercase hex digits>"`, built on the stack and appended at once.
fn hex_string(out: &mut Vec<u8>, value: u128, digits: usize) {
    let bytes = value.to_be_bytes();
    let mut text = [0u8; 34];
    text[0] = b'"';
    for (i, b) in bytes[16 - digits / 2..].iter().enumerate() {
        text[1 + 2 * i..3 + 2 * i].copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
    }
    text[digits + 1] = b'"';
    out.extend_from_slice(&text[..digits + 2]);
}

fn attributes(out: &mut Vec<u8>, key: &[u8], attrs: &Attributes) {
    out.extend_from_slice(key);
    if attrs.is_empty() {
        out.extend_from_slice(b"{}");
        return;
    }
    out.push(b'{');
    for (i, (k, v)) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        value(out, v);
    }
    out.push(b'}');
}

fn value(out: &mut Vec<u8>, v: &AttributeValue) {
    match v {
        AttributeValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        AttributeValue::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        AttributeValue::F64(f) => float(out, *f),
        AttributeValue::String(s) => string(out, s),
        AttributeValue::BoolList(l) => list(out, l, |o, b| {
            o.extend_from_slice(if *b { b"true" } else { b"false" })
        }),
        AttributeValue::I64List(l) => list(out, l, |o, n| {
            o.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes())
        }),
        AttributeValue::F64List(l) => list(out, l, |o, f| float(o, *f)),
        AttributeValue::StringList(l) => list(out, l, |o, s| string(o, s)),
    }
}

fn list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(b']');
}

fn float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    } else {
        // Attributes refuse non-finite floats; stay valid JSON if one ever gets here.
        out.extend_from_slice(b"null");
    }
}

/// A JSON string. The common case (nothing to escape) is one copy.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetron_runtime::model::{Event, Timestamp, TraceId};

    #[test]
    fn every_line_is_json_with_schema_and_kind() {
        let attrs = Attributes::new()
            .with("quote\"d", "line\nbreak\u{1}")
            .unwrap()
            .with("list", vec![1.5, 2.0])
            .unwrap();
        let event = Record::Event(Box::new(Event {
            span: Some(SpanContext {
                trace_id: TraceId(1),
                span_id: SpanId(2),
            }),
            name: "ckpt".into(),
            time: Timestamp(7),
            attributes: attrs,
        }));
        let mut out = Vec::new();
        encode_record(&event, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["kind"], "event");
        assert_eq!(v["trace_id"], "00000000000000000000000000000001");
        assert_eq!(v["span_id"], "0000000000000002");
        assert_eq!(v["attributes"]["quote\"d"], "line\nbreak\u{1}");
        assert_eq!(v["attributes"]["list"], serde_json::json!([1.5, 2.0]));
    }
}
