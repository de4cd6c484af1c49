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
//!   (`otherData.start_time_unix_ns`). Every event waits as JSON in a temporary file until that
//!   and the tracks are known: memory holds a few numbers per span (for the track layout) and
//!   the spans still open, not attributes or metric points.

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

/// What the track layout needs of a span; its JSON waits in the span spill, in `order`.
struct Span {
    id: u64,
    parent: Option<u64>,
    start: u64,
    dur: u64,
    /// Position in the span spill (file order of the stop: an enclosing span stops later).
    order: u32,
    /// Index into the interned span names.
    name: u32,
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

    /// An event whose JSON was spilled as `{...}` without `ts` (and `tid`, given here).
    fn push_at(&mut self, ns: u64, tid: Option<&str>, spilled: &str) -> std::io::Result<()> {
        self.separator()?;
        let rest = spilled.strip_prefix('{').unwrap_or(spilled);
        write!(self.out, "{{\"ts\":{},", self.us(ns))?;
        if let Some(tid) = tid {
            write!(self.out, "{tid},")?;
        }
        self.out.write_all(rest.as_bytes())
    }
}

/// Events held on disk until the run's earliest time and the tracks are known: one
/// `key<TAB>json` line each (`key`: the event's time in ns, with `<TAB>span id` for instants).
struct Spill {
    file: BufWriter<File>,
}

impl Spill {
    fn new() -> Result<Self, CliError> {
        let file = tempfile::tempfile().map_err(spill_err)?;
        Ok(Spill {
            file: BufWriter::with_capacity(1 << 20, file),
        })
    }

    fn push(&mut self, key: std::fmt::Arguments<'_>, event: &Value) -> Result<(), CliError> {
        self.file.write_fmt(key).map_err(spill_err)?;
        self.file.write_all(b"\t").map_err(spill_err)?;
        serde_json::to_writer(&mut self.file, event).map_err(|e| spill_err(e.into()))?;
        self.file.write_all(b"\n").map_err(spill_err)
    }

    /// Reads the lines back in the order they were written.
    fn lines(self) -> Result<std::io::Lines<BufReader<File>>, CliError> {
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| spill_err(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(spill_err)?;
        Ok(BufReader::with_capacity(1 << 20, file).lines())
    }
}

fn spill_err(e: std::io::Error) -> CliError {
    CliError::Runtime(format!("temporary file for the timeline: {e}"))
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
    // Counters (`ns`), spans (`start ns`, in stop order) and instants (`ns<TAB>span id`).
    let mut counters = Spill::new()?;
    let mut span_bodies = Spill::new()?;
    let mut instants = Spill::new()?;
    let mut base = u64::MAX;

    let mut spans: Vec<Span> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut name_index: HashMap<String, u32> = HashMap::new();
    let mut intern = |name: &str| -> u32 {
        if let Some(&i) = name_index.get(name) {
            return i;
        }
        let i = names.len() as u32;
        names.push(name.to_owned());
        name_index.insert(name.to_owned(), i);
        i
    };
    // Started and not yet stopped: (name, start, parent, attributes).
    let mut started: HashMap<u64, (String, u64, Option<u64>, Attributes)> = HashMap::new();
    let mut run_name = String::new();
    let mut last_ns = 0u64;
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
                let body = json!({"name": &*s.name, "cat": "span", "ph": "X", "pid": 1,
                    "dur": s.duration_ns as f64 / 1000.0, "args": args});
                let name = intern(&s.name);
                let place = (
                    s.context.span_id.0,
                    s.parent.map(|p| p.0),
                    s.start_time.0,
                    s.duration_ns,
                );
                push_span(&mut spans, &mut span_bodies, place, name, &body)?;
            }
            Record::Event(e) => {
                let mut args = Map::new();
                attributes_json(&e.attributes, &mut args);
                let event = json!({"name": &*e.name, "cat": "event", "ph": "i", "pid": 1,
                    "args": args});
                push_instant(&mut instants, e.time.0, e.span.map(|s| s.span_id.0), &event)?;
            }
            Record::Error(e) => {
                let name = format!(
                    "error: {}",
                    e.exception_type.as_deref().unwrap_or(&e.message)
                );
                let event = json!({"name": name, "cat": "error", "ph": "i", "pid": 1,
                "args": {
                    "message": e.message,
                    "exception_type": e.exception_type,
                    "exception_message": e.exception_message,
                    "traceback": e.traceback,
                }});
                push_instant(&mut instants, e.time.0, e.span.map(|s| s.span_id.0), &event)?;
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
                let event = json!({"name": name, "cat": "log", "ph": "i", "pid": 1,
                    "args": args});
                push_instant(&mut instants, l.time.0, l.span.map(|s| s.span_id.0), &event)?;
            }
            Record::Metric(_) | Record::Scalar(_) => {
                let Some(m) = record.metric_points() else {
                    continue;
                };
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
                    counters.push(format_args!("{ns}"), &event)?;
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
                counters.push(format_args!("{ns}"), &event)?;
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
        let dur = last_ns.saturating_sub(start);
        let body = json!({"name": name, "cat": "span", "ph": "X", "pid": 1,
            "dur": dur as f64 / 1000.0, "args": args});
        let name = intern(&name);
        push_span(
            &mut spans,
            &mut span_bodies,
            (id, parent, start, dur),
            name,
            &body,
        )?;
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
    for line in counters.lines()? {
        let line = line.map_err(spill_err)?;
        if let Some((ns, event)) = line.split_once('\t') {
            events
                .push_at(ns.parse().unwrap_or(base), None, event)
                .map_err(werr)?;
        }
    }
    // Tracks: the layout sorts by start; the bodies are then read back in stop order.
    let tracks = layout(&mut spans);
    let mut track_by_order = vec![0u32; spans.len()];
    let mut track_of: HashMap<u64, u32> = HashMap::with_capacity(spans.len());
    let mut track_names: Vec<Option<u32>> = Vec::new();
    for (span, &track) in spans.iter().zip(&tracks) {
        track_by_order[span.order as usize] = track as u32;
        track_of.insert(span.id, track as u32);
        if track_names.len() <= track {
            track_names.resize(track + 1, None);
        }
        track_names[track].get_or_insert(span.name);
    }
    drop(spans);
    for (order, line) in span_bodies.lines()?.enumerate() {
        let line = line.map_err(spill_err)?;
        if let Some((ns, event)) = line.split_once('\t') {
            let tid = format!("\"tid\":{}", track_by_order.get(order).map_or(0, |t| t + 1));
            events
                .push_at(ns.parse().unwrap_or(base), Some(&tid), event)
                .map_err(werr)?;
        }
    }
    for line in instants.lines()? {
        let line = line.map_err(spill_err)?;
        let mut parts = line.splitn(3, '\t');
        let (Some(ns), Some(span), Some(event)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let track = span.parse::<u64>().ok().and_then(|s| track_of.get(&s));
        let tid = match track {
            Some(t) => format!("\"s\":\"t\",\"tid\":{}", t + 1),
            None => "\"s\":\"g\",\"tid\":0".to_owned(),
        };
        events
            .push_at(ns.parse().unwrap_or(base), Some(&tid), event)
            .map_err(werr)?;
    }
    let process = json!({"name": "process_name", "ph": "M", "pid": 1,
        "args": {"name": format!("telemetron run {run_name}")}});
    events.push(&process).map_err(werr)?;
    for (t, name) in track_names.iter().enumerate() {
        let name = name.map_or("", |n| names[n as usize].as_str());
        let label = if t == 0 {
            name.to_owned()
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

/// A stopped span: its JSON to the spill, what the layout needs to `spans`.
fn push_span(
    spans: &mut Vec<Span>,
    bodies: &mut Spill,
    (id, parent, start, dur): (u64, Option<u64>, u64, u64),
    name: u32,
    body: &Value,
) -> Result<(), CliError> {
    bodies.push(format_args!("{start}"), body)?;
    spans.push(Span {
        id,
        parent,
        start,
        dur,
        order: spans.len() as u32,
        name,
    });
    Ok(())
}

/// An instant waits with its time and its span (`-` for none) until the tracks are known.
fn push_instant(
    spill: &mut Spill,
    ns: u64,
    span: Option<u64>,
    event: &Value,
) -> Result<(), CliError> {
    match span {
        Some(id) => spill.push(format_args!("{ns}\t{id}"), event),
        None => spill.push(format_args!("{ns}\t-"), event),
    }
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
