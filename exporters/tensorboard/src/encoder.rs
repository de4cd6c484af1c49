//! Records → TensorBoard `Event`s, each framed as one TFRecord. The mapping (README):
//! scalar series → scalars (`name/k=v`), RL series → one scalar per environment
//! (`name/env_<id>`) at `rl_step`, histograms → histograms, the run's attributes → the HParams
//! plugin's session start info, span stops → `spans/<name>/duration_ms`, logs and errors →
//! text summaries. Scatters, events and renderings have no TensorBoard form and are skipped.

use std::collections::{BTreeMap, HashMap};

use prost::Message;
use telemetron_proto::tensorboard::hparams::{
    h_params_plugin_data, HParamsPluginData, SessionStartInfo,
};
use telemetron_proto::tensorboard::{
    event, summary, summary_metadata, DataType, Event, HistogramProto, Summary, SummaryMetadata,
    TensorProto, TensorShapeProto,
};
use telemetron_runtime::model::{
    BinValues, HistogramPoint, MetricPoints, Record, RlPoints, RunAttributeValue, RunAttributes,
    SeriesKey, TimestampsMs, Values,
};

use crate::service::tfrecord;

/// What the first record of every file says (TensorBoard checks it).
pub(crate) const FILE_VERSION: &str = "brain.Event:2";

/// Unix seconds from Unix nanoseconds.
fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

fn ms_secs(ms: i64) -> f64 {
    ms as f64 / 1e3
}

/// `name`, then `/k=v` per label.
pub(crate) fn tag(key: &SeriesKey) -> String {
    let mut tag = key.name().to_string();
    for (k, v) in key.labels() {
        tag.push('/');
        tag.push_str(k);
        tag.push('=');
        tag.push_str(v);
    }
    tag
}

fn step(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

fn plugin(name: &str, content: Vec<u8>) -> Option<SummaryMetadata> {
    Some(SummaryMetadata {
        plugin_data: Some(summary_metadata::PluginData {
            plugin_name: name.to_string(),
            content,
        }),
        ..Default::default()
    })
}

/// Per-run state: steps of tags that have none of their own, and the hparams so far.
#[derive(Default)]
pub(crate) struct Encoder {
    counters: HashMap<String, i64>,
    hparams: BTreeMap<String, prost_types::Value>,
    scratch: Vec<u8>,
}

impl Encoder {
    /// The framed `file_version` event that opens every file.
    pub(crate) fn file_version(&mut self, now_ns: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.push(
            &mut out,
            Event {
                wall_time: secs(now_ns),
                step: 0,
                what: Some(event::What::FileVersion(FILE_VERSION.into())),
                source_metadata: None,
            },
        );
        out
    }

    fn push(&mut self, out: &mut Vec<u8>, event: Event) {
        self.scratch.clear();
        // Encoding into a Vec cannot run out of room.
        let _ = event.encode(&mut self.scratch);
        tfrecord(&self.scratch, out);
    }

    fn summary(&mut self, out: &mut Vec<u8>, wall_time: f64, step: i64, value: summary::Value) {
        self.push(
            out,
            Event {
                wall_time,
                step,
                what: Some(event::What::Summary(Summary { value: vec![value] })),
                source_metadata: None,
            },
        );
    }

    fn scalar(&mut self, out: &mut Vec<u8>, tag: String, wall_time: f64, step: i64, v: f64) {
        let value = summary::Value {
            tag,
            // TensorBoard's scalars are float32.
            value: Some(summary::value::Value::SimpleValue(v as f32)),
            ..Default::default()
        };
        self.summary(out, wall_time, step, value);
    }

    /// The next step of a tag that has no step of its own (span durations, text).
    fn next_step(&mut self, tag: &str) -> i64 {
        let counter = match self.counters.get_mut(tag) {
            Some(c) => c,
            None => self.counters.entry(tag.to_string()).or_insert(0),
        };
        let step = *counter;
        *counter += 1;
        step
    }

    fn text(&mut self, out: &mut Vec<u8>, tag: &str, wall_time: f64, text: String) {
        let step = self.next_step(tag);
        let value = summary::Value {
            tag: tag.to_string(),
            metadata: plugin("text", Vec::new()),
            value: Some(summary::value::Value::Tensor(TensorProto {
                dtype: DataType::DtString as i32,
                tensor_shape: Some(TensorShapeProto::default()),
                string_val: vec![text.into_bytes()],
                ..Default::default()
            })),
            ..Default::default()
        };
        self.summary(out, wall_time, step, value);
    }

    /// Appends the events of one record.
    pub(crate) fn encode(&mut self, record: &Record, out: &mut Vec<u8>) {
        match record {
            Record::Metric(m) => self.metric(m, out),
            Record::Scalar(p) => p.with_points(|m| self.metric(m, out)),
            Record::Rl(r) => self.rl(r, out),
            Record::Histogram(h) => self.histogram(h, out),
            Record::Attributes(a) if a.env_id.is_none() => self.hparams(a, out),
            Record::SpanStop(s) => {
                let tag = format!("spans/{}/duration_ms", s.name);
                let step = self.next_step(&tag);
                self.scalar(out, tag, secs(s.time.0), step, s.duration_ns as f64 / 1e6);
            }
            Record::Log(l) => {
                let tag = format!("logs/{}", l.logger);
                let text = format!("**{}** {}", l.severity.text(), l.body);
                self.text(out, &tag, secs(l.time.0), text);
            }
            Record::Error(e) => {
                let mut text = e.message.clone();
                if let Some(t) = &e.exception_type {
                    text.push_str(&format!(" ({t})"));
                }
                if let Some(tb) = &e.traceback {
                    text.push_str(&format!("\n\n```\n{tb}\n```"));
                }
                self.text(out, "errors", secs(e.time.0), text);
            }
            Record::TelemetryDataError(e) => {
                let text = format!("{}: {}", e.kind.as_str(), e.message);
                self.text(out, "telemetry_data_errors", secs(e.time.0), text);
            }
            _ => {}
        }
    }

    fn metric(&mut self, m: &MetricPoints, out: &mut Vec<u8>) {
        let tag = tag(&m.series);
        let values = m.values.to_f64();
        for (i, v) in values.into_iter().enumerate() {
            let wall = match &m.timestamps_ms {
                TimestampsMs::Each(t) => ms_secs(t[i]),
                TimestampsMs::One(t) => ms_secs(*t),
                TimestampsMs::None => secs(m.time.0),
            };
            self.scalar(out, tag.clone(), wall, step(m.steps[i]), v);
        }
    }

    fn rl(&mut self, r: &RlPoints, out: &mut Vec<u8>) {
        let base = tag(&r.series);
        let per_env = r.per_env.max(1);
        let wall = match &r.timestamps_ms {
            TimestampsMs::One(t) => ms_secs(*t),
            TimestampsMs::Each(t) => t.first().map_or(secs(r.time.0), |t| ms_secs(*t)),
            TimestampsMs::None => secs(r.time.0),
        };
        for (i, env) in r.envs.iter().enumerate() {
            let row = i * per_env..(i + 1) * per_env;
            // Several values of one environment at one rl_step: their mean.
            let mean = match &r.values {
                Values::F32(v) => v[row].iter().map(|x| f64::from(*x)).sum::<f64>(),
                Values::F64(v) => v[row].iter().sum::<f64>(),
            } / per_env as f64;
            self.scalar(
                out,
                format!("{base}/env_{env}"),
                wall,
                step(r.rl_step),
                mean,
            );
        }
    }

    fn histogram(&mut self, h: &HistogramPoint, out: &mut Vec<u8>) {
        let counts: Vec<f64> = match &h.bins {
            BinValues::Counts(c) => c.iter().map(|&c| c as f64).collect(),
            // TensorBoard histograms hold counts: density × bin width.
            BinValues::Densities(d) => d
                .iter()
                .zip(h.bin_edges.windows(2))
                .map(|(d, w)| d * (w[1] - w[0]))
                .collect(),
        };
        let num: f64 = counts.iter().sum();
        let (min, max, sum, sum_squares) = match h.stats {
            Some([min, max, sum, sq]) => (min, max, sum, sq),
            None => {
                let centers = h.bin_edges.windows(2).map(|w| (w[0] + w[1]) / 2.0);
                let (s, sq) = centers
                    .zip(&counts)
                    .fold((0.0, 0.0), |(s, sq), (c, n)| (s + c * n, sq + c * c * n));
                let first = h.bin_edges.first().copied().unwrap_or(0.0);
                let last = h.bin_edges.last().copied().unwrap_or(0.0);
                (first, last, s, sq)
            }
        };
        // Bucket i covers (limit[i-1], limit[i]]; an empty first bucket ends at the first edge.
        let mut bucket = Vec::with_capacity(counts.len() + 1);
        bucket.push(0.0);
        bucket.extend(counts);
        let value = summary::Value {
            tag: tag(&h.series),
            value: Some(summary::value::Value::Histo(HistogramProto {
                min,
                max,
                num,
                sum,
                sum_squares,
                bucket_limit: h.bin_edges.clone(),
                bucket,
            })),
            ..Default::default()
        };
        self.summary(out, ms_secs(h.timestamp_ms), step(h.step), value);
    }

    /// Every run attribute so far, as one session start info: the run's row in the HParams tab.
    fn hparams(&mut self, a: &RunAttributes, out: &mut Vec<u8>) {
        use prost_types::value::Kind;
        for (path, value) in &a.updates {
            let kind = match value {
                RunAttributeValue::Bool(b) => Kind::BoolValue(*b),
                RunAttributeValue::Int(i) => Kind::NumberValue(*i as f64),
                RunAttributeValue::Float(f) => Kind::NumberValue(*f),
                RunAttributeValue::String(s) => Kind::StringValue(s.clone()),
                RunAttributeValue::StringSet(set) => Kind::StringValue(set.join(",")),
                RunAttributeValue::StringSetDelta { added, removed } => {
                    let mut tags: Vec<String> =
                        match self.hparams.get(path).and_then(|v| v.kind.as_ref()) {
                            Some(Kind::StringValue(s)) if !s.is_empty() => {
                                s.split(',').map(String::from).collect()
                            }
                            _ => Vec::new(),
                        };
                    tags.retain(|t| !removed.contains(t));
                    tags.extend(
                        added
                            .iter()
                            .filter(|t| !tags.contains(t))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                    Kind::StringValue(tags.join(","))
                }
            };
            self.hparams
                .insert(path.clone(), prost_types::Value { kind: Some(kind) });
        }
        let data = HParamsPluginData {
            version: 0,
            data: Some(h_params_plugin_data::Data::SessionStartInfo(
                SessionStartInfo {
                    hparams: self.hparams.clone().into_iter().collect(),
                    start_time_secs: secs(a.time.0),
                    ..Default::default()
                },
            )),
        };
        let value = summary::Value {
            tag: "_hparams_/session_start_info".into(),
            metadata: plugin("hparams", data.encode_to_vec()),
            ..Default::default()
        };
        self.summary(out, secs(a.time.0), 0, value);
    }
}
