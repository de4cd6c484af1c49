//! `otlp_proto` / `otlp_json`: the records mapped by the shared OTLP mapping (exactly what the
//! `otlp` exporter sends), one `Export*ServiceRequest` per message, cut to fit the size limit.

use prost::Message;
use telemetron_otlp_mapping::opentelemetry_proto::tonic::logs::v1::LogRecord;
use telemetron_otlp_mapping::opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, Gauge, Histogram, Metric,
};
use telemetron_otlp_mapping::opentelemetry_proto::tonic::trace::v1::Span;
use telemetron_otlp_mapping::{logs_request, metrics_request, trace_request, Assembled};
use telemetron_runtime::model::RecordKind;
use telemetron_runtime::{Count, KindCounts, RecordBatch};

use super::{Encoded, Encoder, OutMessage};
use crate::config::{Encoding, KeyMode, Topics};

/// One mapped item and the record it completes, with the record's data points (none for all
/// but the last part of a split).
struct Item<T> {
    value: T,
    completes: Option<(RecordKind, Count)>,
}

pub(super) fn encode(enc: &mut Encoder, batch: &RecordBatch) -> Encoded {
    let mut out = Encoded::default();
    let mut spans: Vec<Item<Span>> = Vec::new();
    let mut logs: Vec<Item<(String, LogRecord)>> = Vec::new();
    let mut metrics: Vec<Item<Metric>> = Vec::new();
    let mut leftover = KindCounts::default();
    let mut mapped = Assembled::default();
    for record in batch.iter() {
        let kind = record.kind();
        let count = Count::of(record);
        enc.assembler.add(record, &mut mapped);
        let produced =
            !mapped.spans.is_empty() || !mapped.logs.is_empty() || !mapped.metrics.is_empty();
        let items = mapped.spans.len() + mapped.logs.len() + mapped.metrics.len();
        let mut seen = 0;
        let mut completes = || {
            seen += 1;
            (seen == items).then_some((kind, count))
        };
        for s in mapped.spans.drain(..) {
            spans.push(Item {
                value: s,
                completes: completes(),
            });
        }
        for l in mapped.logs.drain(..) {
            logs.push(Item {
                value: l,
                completes: completes(),
            });
        }
        for m in mapped.metrics.drain(..) {
            metrics.push(Item {
                value: m,
                completes: completes(),
            });
        }
        if !produced {
            // Span starts, events and errors inside an open span, scatters: they travel in a
            // later item (the span) or not at all in OTLP. No points of theirs were sent.
            leftover.add(kind, 1);
        }
    }
    let metrics = split_large_metrics(metrics, enc.max_bytes / 2);
    let trace_groups = match enc.key {
        KeyMode::TraceId => group_by_trace(spans),
        _ => vec![(enc.run_key(), spans)],
    };
    for (key, group) in trace_groups {
        chunk(enc, group, key, &mut out);
    }
    chunk(enc, logs, enc.run_key(), &mut out);
    chunk(enc, metrics, enc.run_key(), &mut out);
    match out.messages.last_mut() {
        Some(last) => last.tally.merge(leftover),
        None => out.nothing_to_send.merge(leftover),
    }
    out
}

/// Spans grouped by trace, in order of first appearance, keyed by the 32-hex trace id.
fn group_by_trace(spans: Vec<Item<Span>>) -> Vec<(Option<String>, Vec<Item<Span>>)> {
    let mut groups: Vec<(Vec<u8>, Vec<Item<Span>>)> = Vec::new();
    for item in spans {
        match groups.iter_mut().find(|(id, _)| *id == item.value.trace_id) {
            Some((_, g)) => g.push(item),
            None => groups.push((item.value.trace_id.clone(), vec![item])),
        }
    }
    groups
        .into_iter()
        .map(|(id, g)| {
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            (Some(hex), g)
        })
        .collect()
}

/// A metric whose data points exceed `budget` bytes becomes several metrics of the same name,
/// each with a run of its points (the last one completes the record). The points are moved
/// into their parts, not copied: each part clones only the metric's name, unit and the like
/// (a per-part clone of the whole metric made a 20,000-point split quadratic).
fn split_large_metrics(metrics: Vec<Item<Metric>>, budget: usize) -> Vec<Item<Metric>> {
    let mut out = Vec::with_capacity(metrics.len());
    for mut item in metrics {
        let len = item.value.encoded_len();
        let points = match &item.value.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            _ => 0,
        };
        if len <= budget || points < 2 {
            out.push(item);
            continue;
        }
        let per_part = (points * budget / len).max(1);
        let parts: Vec<Data> = match item.value.data.take() {
            Some(Data::Gauge(mut g)) => runs(std::mem::take(&mut g.data_points), per_part)
                .map(|data_points| Data::Gauge(Gauge { data_points }))
                .collect(),
            Some(Data::Histogram(mut h)) => runs(std::mem::take(&mut h.data_points), per_part)
                .map(|data_points| {
                    Data::Histogram(Histogram {
                        data_points,
                        ..h.clone()
                    })
                })
                .collect(),
            _ => unreachable!("only gauges and histograms have points here"),
        };
        let last = parts.len() - 1;
        for (p, data) in parts.into_iter().enumerate() {
            out.push(Item {
                value: Metric {
                    data: Some(data),
                    ..item.value.clone()
                },
                completes: if p == last { item.completes } else { None },
            });
        }
    }
    out
}

/// `points` moved into consecutive runs of `per_part` (the last one shorter).
fn runs<P>(points: Vec<P>, per_part: usize) -> impl Iterator<Item = Vec<P>> {
    let mut rest = points.into_iter();
    std::iter::from_fn(move || {
        let run: Vec<P> = rest.by_ref().take(per_part).collect();
        (!run.is_empty()).then_some(run)
    })
}

/// A mapped item of one signal: its size, and the request a run of them makes.
trait Mapped: Clone + Sized {
    const TOPIC: fn(&Topics) -> &String;
    fn cost(&self) -> usize;
    fn request(enc: &Encoder, run: Vec<Self>) -> Vec<u8>;
}

impl Mapped for Span {
    const TOPIC: fn(&Topics) -> &String = |t| &t.traces;
    fn cost(&self) -> usize {
        framed(self.encoded_len())
    }
    fn request(enc: &Encoder, run: Vec<Self>) -> Vec<u8> {
        bytes(enc, &trace_request(enc.resource.clone(), run))
    }
}

impl Mapped for (String, LogRecord) {
    const TOPIC: fn(&Topics) -> &String = |t| &t.logs;
    fn cost(&self) -> usize {
        // The record, plus its share of a scope (name, version) when it opens one.
        framed(self.1.encoded_len()) + self.0.len() + 16
    }
    fn request(enc: &Encoder, run: Vec<Self>) -> Vec<u8> {
        bytes(enc, &logs_request(enc.resource.clone(), run))
    }
}

impl Mapped for Metric {
    const TOPIC: fn(&Topics) -> &String = |t| &t.metrics;
    fn cost(&self) -> usize {
        framed(self.encoded_len())
    }
    fn request(enc: &Encoder, run: Vec<Self>) -> Vec<u8> {
        bytes(enc, &metrics_request(enc.resource.clone(), run))
    }
}

fn framed(len: usize) -> usize {
    1 + prost::length_delimiter_len(len) + len
}

/// A request as protobuf or OTLP/JSON (`opentelemetry-proto`'s serde form: hex ids,
/// camelCase, as the OTLP/JSON spec and the Collector's `otlp_json` read it).
fn bytes<M: Message + serde::Serialize>(enc: &Encoder, request: &M) -> Vec<u8> {
    match enc.encoding {
        // Serializing generated messages into a Vec cannot fail.
        Encoding::OtlpJson => serde_json::to_vec(request).unwrap_or_default(),
        _ => request.encode_to_vec(),
    }
}

/// Greedy runs of items under the size limit (JSON: about 2.5 times the protobuf size), each
/// made into a request and checked exactly; a run still too large is halved.
fn chunk<T: Mapped>(enc: &Encoder, items: Vec<Item<T>>, key: Option<String>, out: &mut Encoded) {
    if items.is_empty() {
        return;
    }
    let factor = if enc.encoding == Encoding::OtlpJson {
        5
    } else {
        2
    };
    let base = T::request(enc, Vec::new()).len();
    let budget = enc.max_bytes.saturating_sub(base + 64);
    let mut run: Vec<Item<T>> = Vec::new();
    let mut size = 0;
    let mut runs = Vec::new();
    for item in items {
        let cost = item.value.cost() * factor / 2;
        if !run.is_empty() && size + cost > budget {
            runs.push(std::mem::take(&mut run));
            size = 0;
        }
        size += cost;
        run.push(item);
    }
    runs.push(run);
    for run in runs {
        emit(enc, run, &key, out);
    }
}

fn emit<T: Mapped>(enc: &Encoder, mut run: Vec<Item<T>>, key: &Option<String>, out: &mut Encoded) {
    let values: Vec<T> = run.iter().map(|i| i.value.clone()).collect();
    let payload = T::request(enc, values);
    if payload.len() > enc.max_bytes {
        if run.len() > 1 {
            let second = run.split_off(run.len() / 2);
            emit(enc, run, key, out);
            emit(enc, second, key, out);
        } else if let Some((kind, count)) = run[0].completes {
            out.refused.0.push((
                kind,
                count,
                format!(
                    "its OTLP form is {} bytes, over max_message_bytes {}",
                    payload.len(),
                    enc.max_bytes
                ),
            ));
        }
        return;
    }
    let mut tally = KindCounts::default();
    for item in &run {
        if let Some((kind, count)) = item.completes {
            tally.add(kind, count);
        }
    }
    out.messages.push(OutMessage {
        topic: T::TOPIC(&enc.topics).clone(),
        key: key.clone(),
        payload,
        content_type: match enc.encoding {
            Encoding::OtlpJson => "application/json",
            _ => "application/x-protobuf",
        },
        tally,
    });
}
