//! Names and text shared by the commands: a series' label, a record's name, durations, times,
//! and the one readable line `tail` prints per record.

use std::fmt::Write;

use telemetron::model::{AttributeValue, Attributes, Record, SeriesKey, SpanStatus, Values};

/// `loss{split=train}`, or `loss` without labels.
pub(crate) fn series_label(key: &SeriesKey) -> String {
    if key.labels().is_empty() {
        return key.name().to_string();
    }
    let labels: Vec<String> = key
        .labels()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

/// What `tail --name` matches: span and event names, metric names, a log's logger, an
/// error's exception type, a rendering's environment.
pub(crate) fn record_name(record: &Record) -> Option<&str> {
    match record {
        Record::SpanStart(s) => Some(&s.name),
        Record::SpanStop(s) => Some(&s.name),
        Record::Event(e) => Some(&e.name),
        Record::Error(e) => e.exception_type.as_deref(),
        Record::TelemetryDataError(e) => Some(e.kind.as_str()),
        Record::Log(l) => Some(&l.logger),
        Record::Metric(m) => Some(m.series.name()),
        Record::Scalar(p) => Some(p.series.name()),
        Record::Rl(r) => Some(r.series.name()),
        Record::Histogram(h) => Some(h.series.name()),
        Record::Scatter(s) => Some(s.series.name()),
        Record::Attributes(a) => a.env_id.as_deref(),
        Record::Rendering(r) => Some(&r.env_id),
        _ => None,
    }
}

/// When a record happened (Unix ns).
pub(crate) fn record_time(record: &Record) -> u64 {
    match record {
        Record::SpanStart(s) => s.time.0,
        Record::SpanStop(s) => s.time.0,
        Record::Event(e) => e.time.0,
        Record::Error(e) => e.time.0,
        Record::TelemetryDataError(e) => e.time.0,
        Record::Log(l) => l.time.0,
        Record::Metric(m) => m.time.0,
        Record::Scalar(p) => p.time.0,
        Record::Rl(r) => r.time.0,
        Record::Histogram(h) => h.time.0,
        Record::Scatter(s) => s.time.0,
        Record::Attributes(a) => a.time.0,
        Record::Rendering(r) => r.time.0,
        _ => 0,
    }
}

/// `850 ns`, `12.3 µs`, `4.56 ms`, `1.23 s`, `2m03s`.
pub(crate) fn duration(ns: u64) -> String {
    let ns_f = ns as f64;
    match ns {
        0..=999 => format!("{ns} ns"),
        1_000..=999_999 => format!("{:.1} µs", ns_f / 1e3),
        1_000_000..=999_999_999 => format!("{:.2} ms", ns_f / 1e6),
        1_000_000_000..=59_999_999_999 => format!("{:.2} s", ns_f / 1e9),
        _ => format!("{}m{:02}s", ns / 60_000_000_000, (ns / 1_000_000_000) % 60),
    }
}

/// Unix nanoseconds as `2026-12-02T01:07:54.123Z` (UTC).
pub(crate) fn utc(ns: u64) -> String {
    telemetron::model::Timestamp(ns).utc().to_string()
}

fn value(v: &AttributeValue) -> String {
    fn list<T: std::fmt::Display>(items: &[T]) -> String {
        let items: Vec<String> = items.iter().map(T::to_string).collect();
        format!("[{}]", items.join(","))
    }
    match v {
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::I64(i) => i.to_string(),
        AttributeValue::F64(f) => f.to_string(),
        AttributeValue::String(s) => format!("{s:?}"),
        AttributeValue::BoolList(l) => list(l),
        AttributeValue::I64List(l) => list(l),
        AttributeValue::F64List(l) => list(l),
        AttributeValue::StringList(l) => {
            let items: Vec<String> = l.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(","))
        }
    }
}

fn attributes(out: &mut String, attrs: &Attributes) {
    for (k, v) in attrs.iter() {
        let _ = write!(out, " {k}={}", value(v));
    }
}

fn values(v: &Values) -> String {
    const SHOWN: usize = 8;
    let all = v.to_f64();
    let mut text: Vec<String> = all.iter().take(SHOWN).map(|x| format!("{x}")).collect();
    if all.len() > SHOWN {
        text.push(format!("… ({} values)", all.len()));
    }
    text.join(" ")
}

/// One readable line for a record: time, kind, name, what matters about it.
pub(crate) fn line(record: &Record) -> String {
    let mut out = String::with_capacity(120);
    let time = record_time(record);
    let _ = write!(out, "{} {:<10}", utc(time), record.kind().as_str());
    match record {
        Record::SpanStart(s) => {
            let _ = write!(out, " {} span={}", s.name, s.context.span_id);
            attributes(&mut out, &s.attributes);
        }
        Record::SpanStop(s) => {
            let status = match &s.status {
                SpanStatus::Error(m) => format!("error: {m}"),
                other => other.as_str().to_string(),
            };
            let _ = write!(
                out,
                " {} {} {status} span={}",
                s.name,
                duration(s.duration_ns),
                s.context.span_id
            );
            attributes(&mut out, &s.attributes);
        }
        Record::Event(e) => {
            let _ = write!(out, " {}", e.name);
            attributes(&mut out, &e.attributes);
        }
        Record::Error(e) => {
            let _ = write!(out, " {}", e.message);
            if let Some(t) = &e.exception_type {
                let _ = write!(out, " ({t})");
            }
        }
        Record::TelemetryDataError(e) => {
            let _ = write!(out, " {} {}", e.kind.as_str(), e.message);
            if let Some(x) = &e.exporter {
                let _ = write!(out, " exporter={x}");
            }
        }
        Record::Log(l) => {
            let _ = write!(out, " {:<5} {}: {}", l.severity.text(), l.logger, l.body);
            attributes(&mut out, &l.attributes);
        }
        Record::Metric(_) | Record::Scalar(_) => {
            if let Some(m) = record.metric_points() {
                let first = m.steps.first().copied().unwrap_or_default();
                let _ = write!(
                    out,
                    " {} step={first} {}",
                    series_label(&m.series),
                    values(&m.values)
                );
            }
        }
        Record::Rl(r) => {
            let _ = write!(
                out,
                " {} rl_step={} envs={} {}",
                series_label(&r.series),
                r.rl_step,
                r.envs.len(),
                values(&r.values)
            );
        }
        Record::Histogram(h) => {
            let bins = h.bin_edges.len().saturating_sub(1);
            let _ = write!(
                out,
                " {} step={} bins={bins}",
                series_label(&h.series),
                h.step
            );
        }
        Record::Scatter(s) => {
            let _ = write!(
                out,
                " {} step={} points={}",
                series_label(&s.series),
                s.step,
                s.xs.len()
            );
        }
        Record::Attributes(a) => {
            if let Some(env) = &a.env_id {
                let _ = write!(out, " env={env}");
            }
            for (path, _) in &a.updates {
                let _ = write!(out, " {path}");
            }
        }
        Record::Rendering(r) => {
            let _ = write!(
                out,
                " env={} episode={} frames={} {}",
                r.env_id, r.episode, r.frames, r.path
            );
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_and_durations_read_naturally() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_700_000_000_123_000_000), "2023-11-14T22:13:20.123Z");
        assert_eq!(duration(850), "850 ns");
        assert_eq!(duration(4_560_000), "4.56 ms");
        assert_eq!(duration(123_000_000_000), "2m03s");
    }
}
