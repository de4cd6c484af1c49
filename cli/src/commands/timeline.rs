//! `telemetron timeline RUN.jsonl -o run.trace.json`: the run as Chrome Trace Event JSON
//! (Perfetto and chrome://tracing load it).
//!
//! - Spans are complete events (`ph: X`) on tracks (`tid`): a root span opens a track (reused by
//!   the next root once free, so sequential roots form one chain), and a child sits on its
//!   parent's track when it nests inside the parent there; a child that overlaps a sibling or
//!   outlives its parent gets a free track of its own. So events on one track always nest, and
//!   an enclosing span on a track is always an ancestor.
//! - Events and errors (and logs with `--logs`) are instants (`ph: i`) on their span's track
//!   (`s: t`), or global (`s: g`) without a span; attributes are their `args`.
//! - Scalar metric series are counters (`ph: C`, one track per series) at their timestamps (the
//!   points' own, else when they were logged); RL series one counter per series, one value per
//!   environment.
//! - `ts` and `dur` are microseconds since the earliest time in the run
//!   (`otherData.start_time_unix_ns`); counters wait in a temporary file until that is known,
//!   so memory holds spans and instants, not metric points.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::{json, Map, Value};
use telemetron::model::{AttributeValue, Attributes, Record, SpanStatus, TimestampsMs, Values};
use telemetron::reader::ReadItem;

use super::format::{record_time, series_label};
use crate::error::CliError;
use crate::input::{report_skipped, RunInput};
use crate::Host;

struct Span {
    id: u64,
    parent: Option<u64>,
    name: String,
    start: u64,
    dur: u64,
    /// File order of the stop: an enclosing span stops later.
    order: u64,
    args: Map<String, Value>,
}

struct Instant {
    ts: u64,
    span: Option<u64>,
    name: String,
    cat: &'static str,
    args: Map<String, Value>,
}

pub(crate) fn attributes_json(attrs: &Attributes, into: &mut Map<String, Value>) {
    for (k, v) in attrs.iter() {
        let value = match v {
            AttributeValue::Bool(b) => json!(b),
            AttributeValue::I64(i) => json!(i),
            AttributeValue::F64(f) => json!(f),
            AttributeValue::String(s) => json!(s),
            AttributeValue::BoolList(l) => json!(l),
            AttributeValue::I64List(l) => json!(l),
            AttributeValue::F64List(l) => json!(l),
            AttributeValue::StringList(l) => json!(l),
        };
        into.insert(k.to_string(), value);
    }
}

/// Writes events separated by commas, each with `ts` in µs since `base`.
struct Events<W: Write> {
    out: W,
    first: bool,
    base: u64,
}

impl<W: Write> Events<W> {
    fn us(&self, ns: u64) -> f64 {
        // Subtract as integers: an f64 of Unix ns is only good to 256 ns.
        (i128::from(ns) - i128::from(self.base)) as f64 / 1000.0
    }

    fn separator(&mut self) -> std::io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        Ok(())
    }

    fn push(&mut self, event: &Value) -> std::io::Result<()> {
        self.separator()?;
        serde_json::to_writer(&mut self.out, event).map_err(std::io::Error::other)
    }

    /// An event whose JSON (without `ts`) was spilled as `{...}` with its time in ns.
    fn push_at(&mut self, ns: u64, event_without_ts: &str) -> std::io::Result<()> {
        self.separator()?;
        let rest = event_without_ts
            .strip_prefix('{')
            .unwrap_or(event_without_ts);
        write!(self.out, "{{\"ts\":{},{rest}", self.us(ns))
    }
}

/// Counter events held on disk until the run's earliest time is known: `ns<TAB>json` lines.
struct Spill {
    file: BufWriter<File>,
}

impl Spill {
    fn push(&mut self, ns: u64, event: &Value) -> std::io::Result<()> {
        write!(self.file, "{ns}\t")?;
        serde_json::to_writer(&mut self.file, event).map_err(std::io::Error::other)?;
        self.file.write_all(b"\n")
    }
}

pub(super) fn run(
    path: &Path,
    output: &Path,
    logs: bool,
    rotated: bool,
    host: &Host,
) -> Result<(), CliError> {
    let mut input = RunInput::open(path, rotated, "timeline", host)?;
    let sink: Box<dyn Write> = if output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(output).map_err(|e| CliError::write(output, e))?)
    };
    let werr = |e| CliError::write(output, e);
    let spill_err = |e| CliError::Runtime(format!("temporary file for counters: {e}"));
    let mut spill = Spill {
        file: BufWriter::with_capacity(1 << 20, tempfile::tempfile().map_err(spill_err)?),
    };
    let mut base = u64::MAX;

    let mut spans: Vec<Span> = Vec::new();
    // Started and not yet stopped: (name, start, parent, attributes).
    let mut started: HashMap<u64, (String, u64, Option<u64>, Attributes)> = HashMap::new();
    let mut instants: Vec<Instant> = Vec::new();
    let mut run_name = String::new();
    let mut last_ns = 0u64;
    let mut stops = 0u64;
    while let Some(item) = input.next_item()? {
        let record = match item {
            ReadItem::Header(h) => {
                if run_name.is_empty() {
                    run_name = h.run.run_name;
                }
                continue;
            }
            ReadItem::Record(r) => r,
        };
        last_ns = last_ns.max(record_time(&record));
        base = base.min(record_time(&record));
        match record {
            Record::SpanStart(s) => {
                let mut attrs = s.attributes;
                attrs.merge(s.start_event_attributes);
                started.insert(
                    s.context.span_id.0,
                    (s.name.to_string(), s.time.0, s.parent.map(|p| p.0), attrs),
                );
            }
            Record::SpanStop(s) => {
                base = base.min(s.start_time.0);
                let mut args = Map::new();
                args.insert("span_id".into(), json!(s.context.span_id.to_string()));
                args.insert("trace_id".into(), json!(s.context.trace_id.to_string()));
                if let Some(p) = s.parent {
                    args.insert("parent_span_id".into(), json!(p.to_string()));
                }
                args.insert("status".into(), json!(s.status.as_str()));
                if let SpanStatus::Error(m) = &s.status {
                    args.insert("status_message".into(), json!(m));
                }
                if let Some((_, _, _, attrs)) = started.remove(&s.context.span_id.0) {
                    attributes_json(&attrs, &mut args);
                }
                attributes_json(&s.attributes, &mut args);
                stops += 1;
                spans.push(Span {
                    id: s.context.span_id.0,
                    parent: s.parent.map(|p| p.0),
                    name: s.name.to_string(),
                    start: s.start_time.0,
                    dur: s.duration_ns,
                    order: stops,
                    args,
                });
            }
            Record::Event(e) => {
                let mut args = Map::new();
                attributes_json(&e.attributes, &mut args);
                instants.push(Instant {
                    ts: e.time.0,
                    span: e.span.map(|s| s.span_id.0),
                    name: e.name.to_string(),
                    cat: "event",
                    args,
                });
            }
            Record::Error(e) => {
                let args = json!({
                    "message": e.message,
                    "exception_type": e.exception_type,
                    "exception_message": e.exception_message,
                    "traceback": e.traceback,
                });
                instants.push(Instant {
                    ts: e.time.0,
                    span: e.span.map(|s| s.span_id.0),
                    name: format!(
                        "error: {}",
                        e.exception_type.as_deref().unwrap_or(&e.message)
                    ),
                    cat: "error",
                    args: args.as_object().cloned().unwrap_or_default(),
                });
            }
            Record::Log(l) if logs => {
                let mut args = Map::new();
                args.insert("severity".into(), json!(l.severity.text()));
                args.insert("logger".into(), json!(&*l.logger));
                args.insert("body".into(), json!(l.body));
                attributes_json(&l.attributes, &mut args);
                let mut name: String = l.body.chars().take(80).collect();
                if name.is_empty() {
                    name = l.logger.to_string();
                }
                instants.push(Instant {
                    ts: l.time.0,
                    span: l.span.map(|s| s.span_id.0),
                    name,
                    cat: "log",
                    args,
                });
            }
            Record::Metric(m) => {
                let name = series_label(&m.series);
                let values = m.values.to_f64();
                for (i, v) in values.iter().enumerate() {
                    let ns = match &m.timestamps_ms {
                        TimestampsMs::Each(ts) => ms_to_ns(ts[i]),
                        TimestampsMs::One(t) => ms_to_ns(*t),
                        TimestampsMs::None => m.time.0,
                    };
                    base = base.min(ns);
                    let event = json!({"name": name, "cat": "metric", "ph": "C", "pid": 1,
                        "args": {"value": v}});
                    spill.push(ns, &event).map_err(spill_err)?;
                }
            }
            Record::Rl(r) => {
                let per_env = r.per_env.max(1);
                let mut args = Map::new();
                for (i, env) in r.envs.iter().enumerate() {
                    // An environment's last value of this call.
                    let at = (i + 1) * per_env - 1;
                    let v = match &r.values {
                        Values::F32(v) => v.get(at).map(|x| f64::from(*x)),
                        Values::F64(v) => v.get(at).copied(),
                    };
                    if let Some(v) = v {
                        args.insert(env.clone(), json!(v));
                    }
                }
                let ns = match &r.timestamps_ms {
                    TimestampsMs::One(t) => ms_to_ns(*t),
                    TimestampsMs::Each(ts) => ts.last().map_or(r.time.0, |t| ms_to_ns(*t)),
                    TimestampsMs::None => r.time.0,
                };
                base = base.min(ns);
                let event = json!({"name": series_label(&r.series), "cat": "rl_metric", "ph": "C",
                    "pid": 1, "args": args});
                spill.push(ns, &event).map_err(spill_err)?;
            }
            _ => {}
        }
    }
    // Spans that never stopped (a torn file): drawn up to the last record.
    for (id, (name, start, parent, attrs)) in started {
        let mut args = Map::new();
        args.insert(
            "span_id".into(),
            json!(telemetron::model::SpanId(id).to_string()),
        );
        args.insert("unfinished".into(), json!(true));
        attributes_json(&attrs, &mut args);
        stops += 1;
        spans.push(Span {
            id,
            parent,
            name,
            start,
            dur: last_ns.saturating_sub(start),
            order: stops,
            args,
        });
    }
    if base == u64::MAX {
        base = 0;
    }
    let mut events = Events {
        out: BufWriter::with_capacity(1 << 20, sink),
        first: true,
        base,
    };
    events
        .out
        .write_all(b"{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n")
        .map_err(werr)?;
    let mut spilled = spill
        .file
        .into_inner()
        .map_err(|e| spill_err(e.into_error()))?;
    spilled.seek(SeekFrom::Start(0)).map_err(spill_err)?;
    for line in BufReader::with_capacity(1 << 20, spilled).lines() {
        let line = line.map_err(spill_err)?;
        if let Some((ns, event)) = line.split_once('\t') {
            events
                .push_at(ns.parse().unwrap_or(base), event)
                .map_err(werr)?;
        }
    }
    let tracks = layout(&mut spans);
    let mut track_of: HashMap<u64, usize> = HashMap::with_capacity(spans.len());
    for (span, track) in spans.iter().zip(&tracks) {
        track_of.insert(span.id, *track);
    }
    let mut track_names: Vec<Option<String>> = Vec::new();
    for (span, &track) in spans.iter_mut().zip(&tracks) {
        if track_names.len() <= track {
            track_names.resize(track + 1, None);
        }
        track_names[track].get_or_insert_with(|| span.name.clone());
        let event = json!({"name": span.name, "cat": "span", "ph": "X", "pid": 1,
            "tid": track + 1, "ts": events.us(span.start), "dur": span.dur as f64 / 1000.0,
            "args": std::mem::take(&mut span.args)});
        events.push(&event).map_err(werr)?;
    }
    for i in instants {
        let track = i.span.and_then(|s| track_of.get(&s));
        let event = match track {
            Some(t) => json!({"name": i.name, "cat": i.cat, "ph": "i", "s": "t", "pid": 1,
                "tid": t + 1, "ts": events.us(i.ts), "args": i.args}),
            None => json!({"name": i.name, "cat": i.cat, "ph": "i", "s": "g", "pid": 1,
                "tid": 0, "ts": events.us(i.ts), "args": i.args}),
        };
        events.push(&event).map_err(werr)?;
    }
    let process = json!({"name": "process_name", "ph": "M", "pid": 1,
        "args": {"name": format!("telemetron run {run_name}")}});
    events.push(&process).map_err(werr)?;
    for (t, name) in track_names.iter().enumerate() {
        let name = name.clone().unwrap_or_default();
        let label = if t == 0 {
            name
        } else {
            format!("{name} ({})", t + 1)
        };
        let meta = json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": t + 1,
            "args": {"name": label}});
        events.push(&meta).map_err(werr)?;
    }
    let other = json!({"run_name": run_name, "start_time_unix_ns": base,
        "end_time_unix_ns": last_ns, "producer": concat!("telemetron ", env!("CARGO_PKG_VERSION"))});
    write!(events.out, "\n],\"otherData\":{other}}}\n").map_err(werr)?;
    events.out.flush().map_err(werr)?;
    report_skipped(&input.stats());
    Ok(())
}

fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// Assigns each span a track (sorts `spans` by start). See the module docs for the rules.
fn layout(spans: &mut [Span]) -> Vec<usize> {
    spans.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.dur.cmp(&a.dur))
            .then(b.order.cmp(&a.order))
    });
    // Per track: the stack of spans open at the current start (end, id).
    let mut stacks: Vec<Vec<(u64, u64)>> = Vec::new();
    let mut placed: HashMap<u64, usize> = HashMap::with_capacity(spans.len());
    let mut tracks = Vec::with_capacity(spans.len());
    for span in spans.iter() {
        let end = span.start.saturating_add(span.dur);
        let on_parent = span
            .parent
            .and_then(|p| placed.get(&p).copied())
            .filter(|&t| {
                let stack = &mut stacks[t];
                while stack.last().is_some_and(|&(e, _)| e <= span.start) {
                    stack.pop();
                }
                stack
                    .last()
                    .is_some_and(|&(e, id)| Some(id) == span.parent && end <= e)
            });
        let track = on_parent.unwrap_or_else(|| {
            let free = stacks.iter_mut().position(|stack| {
                while stack.last().is_some_and(|&(e, _)| e <= span.start) {
                    stack.pop();
                }
                stack.is_empty()
            });
            free.unwrap_or_else(|| {
                stacks.push(Vec::new());
                stacks.len() - 1
            })
        });
        stacks[track].push((end, span.id));
        placed.insert(span.id, track);
        tracks.push(track);
    }
    tracks
}
