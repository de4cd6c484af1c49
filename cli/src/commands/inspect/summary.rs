//! What `inspect` gathers in one pass, in memory bounded by the run's distinct names (span
//! names, series, loggers), not by its size.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use telemetron::model::{BinValues, Record, RunAttributeValue, SeriesKey, SpanStatus, Values};
use telemetron::reader::ExportHeader;

use super::durations::Durations;
use crate::commands::format::record_time;

/// Distinct error messages kept (others are counted together).
const MAX_ERROR_GROUPS: usize = 1000;
/// Telemetry data errors kept.
const MAX_DATA_ERRORS: usize = 100;

#[derive(Default)]
pub(crate) struct SpanSummary {
    pub durations: Durations,
    pub errors: u64,
    pub cancelled: u64,
}

/// Points of one series: step range and values.
#[derive(Default)]
pub(crate) struct SeriesSummary {
    pub points: u64,
    pub records: u64,
    pub step_min: u64,
    pub step_max: u64,
    pub last: f64,
    pub min: f64,
    pub max: f64,
    pub precision: &'static str,
    has_values: bool,
}

impl SeriesSummary {
    fn add(&mut self, steps: impl Iterator<Item = u64>, values: &Values) {
        for step in steps {
            if self.points == 0 || step < self.step_min {
                self.step_min = step;
            }
            self.step_max = self.step_max.max(step);
            self.points += 1;
        }
        let mut fold = |v: f64| {
            if !self.has_values {
                (self.min, self.max, self.has_values) = (v, v, true);
            }
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.last = v;
        };
        match values {
            Values::F32(v) => {
                self.precision = "f32";
                v.iter().for_each(|&x| fold(f64::from(x)));
            }
            Values::F64(v) => {
                self.precision = "f64";
                v.iter().for_each(|&x| fold(x));
            }
        }
        self.records += 1;
    }
}

#[derive(Default)]
pub(crate) struct RlSummary {
    pub values: SeriesSummary,
    pub envs: std::collections::BTreeSet<String>,
    pub max_episode: Option<u64>,
}

#[derive(Default)]
pub(crate) struct DistributionSummary {
    pub count: u64,
    pub step_min: u64,
    pub step_max: u64,
    /// Bins (histograms) or points (scatters) of the last one.
    pub last_size: usize,
    pub form: &'static str,
}

impl DistributionSummary {
    fn add(&mut self, step: u64, size: usize, form: &'static str) {
        if self.count == 0 || step < self.step_min {
            self.step_min = step;
        }
        self.step_max = self.step_max.max(step);
        self.count += 1;
        self.last_size = size;
        self.form = form;
    }
}

pub(crate) struct ErrorGroup {
    pub message: String,
    pub exception_type: Option<String>,
    pub span: Option<String>,
    pub count: u64,
    pub first_ns: u64,
}

#[derive(Default)]
pub(crate) struct RenderingSummary {
    pub videos: u64,
    pub frames: u64,
    pub bytes: u64,
    pub last_path: String,
}

#[derive(Default)]
pub(crate) struct Summary {
    pub headers: Vec<ExportHeader>,
    pub first_ns: Option<u64>,
    pub last_ns: u64,
    pub records: BTreeMap<&'static str, u64>,
    pub spans: BTreeMap<String, SpanSummary>,
    /// Names of spans started and not yet stopped, for naming the span of an error.
    open_spans: HashMap<u64, Arc<str>>,
    pub events: BTreeMap<String, u64>,
    pub metrics: BTreeMap<Arc<SeriesKey>, SeriesSummary>,
    pub rl: BTreeMap<Arc<SeriesKey>, RlSummary>,
    pub histograms: BTreeMap<Arc<SeriesKey>, DistributionSummary>,
    pub scatters: BTreeMap<Arc<SeriesKey>, DistributionSummary>,
    pub logs: BTreeMap<(u8, &'static str), u64>,
    pub loggers: BTreeMap<String, u64>,
    pub errors: Vec<ErrorGroup>,
    error_index: HashMap<(String, Option<String>), usize>,
    pub errors_not_grouped: u64,
    pub data_errors: Vec<(String, String, Option<String>)>,
    pub renderings: BTreeMap<String, RenderingSummary>,
    /// The run's attributes, last value per path.
    pub config: BTreeMap<String, String>,
    pub env_attribute_updates: u64,
}

impl Summary {
    /// The span of time the records cover, in ns.
    pub(crate) fn wall_ns(&self) -> u64 {
        self.first_ns.map_or(0, |f| self.last_ns.saturating_sub(f))
    }

    pub(crate) fn add(&mut self, record: Record) {
        let time = record_time(&record);
        if time > 0 {
            self.first_ns = Some(self.first_ns.map_or(time, |f| f.min(time)));
            self.last_ns = self.last_ns.max(time);
        }
        *self.records.entry(record.kind().as_str()).or_default() += 1;
        match record {
            Record::SpanStart(s) => {
                self.open_spans
                    .insert(s.context.span_id.0, Arc::from(&*s.name));
            }
            Record::SpanStop(s) => {
                self.open_spans.remove(&s.context.span_id.0);
                self.first_ns = Some(
                    self.first_ns
                        .map_or(s.start_time.0, |f| f.min(s.start_time.0)),
                );
                let entry = match self.spans.get_mut(&*s.name) {
                    Some(e) => e,
                    None => self.spans.entry(s.name.to_string()).or_default(),
                };
                entry.durations.add(s.duration_ns);
                match s.status {
                    SpanStatus::Error(_) => entry.errors += 1,
                    SpanStatus::Cancelled => entry.cancelled += 1,
                    SpanStatus::Ok => {}
                }
            }
            Record::Event(e) => match self.events.get_mut(&*e.name) {
                Some(n) => *n += 1,
                None => {
                    self.events.insert(e.name.to_string(), 1);
                }
            },
            Record::Error(e) => {
                let span = e
                    .span
                    .and_then(|s| self.open_spans.get(&s.span_id.0))
                    .map(|n| n.to_string());
                let key = (e.message, e.exception_type);
                match self.error_index.get(&key) {
                    Some(&i) => self.errors[i].count += 1,
                    None if self.errors.len() < MAX_ERROR_GROUPS => {
                        self.error_index.insert(key.clone(), self.errors.len());
                        self.errors.push(ErrorGroup {
                            message: key.0,
                            exception_type: key.1,
                            span,
                            count: 1,
                            first_ns: e.time.0,
                        });
                    }
                    None => self.errors_not_grouped += 1,
                }
            }
            Record::TelemetryDataError(e) if self.data_errors.len() < MAX_DATA_ERRORS => {
                self.data_errors
                    .push((e.kind.as_str().to_string(), e.message, e.exporter));
            }
            Record::Log(l) => {
                *self
                    .logs
                    .entry((l.severity.number(), l.severity.text()))
                    .or_default() += 1;
                match self.loggers.get_mut(&*l.logger) {
                    Some(n) => *n += 1,
                    None => {
                        self.loggers.insert(l.logger.to_string(), 1);
                    }
                }
            }
            Record::Metric(m) => {
                let entry = self.metrics.entry(m.series.clone()).or_default();
                entry.add(m.steps.iter().copied(), &m.values);
            }
            Record::Scalar(p) => {
                let entry = self.metrics.entry(p.series.clone()).or_default();
                entry.add(std::iter::once(p.step), &p.values());
            }
            Record::Rl(r) => {
                let entry = self.rl.entry(r.series.clone()).or_default();
                entry
                    .values
                    .add(std::iter::repeat_n(r.rl_step, r.values.len()), &r.values);
                for env in r.envs.iter() {
                    if !entry.envs.contains(env) {
                        entry.envs.insert(env.clone());
                    }
                }
                if let Some(e) = r.episodes.iter().flatten().max() {
                    entry.max_episode = Some(entry.max_episode.map_or(*e, |m| m.max(*e)));
                }
            }
            Record::Histogram(h) => {
                let form = match h.bins {
                    BinValues::Counts(_) => "counts",
                    BinValues::Densities(_) => "densities",
                };
                self.histograms.entry(h.series.clone()).or_default().add(
                    h.step,
                    h.bin_edges.len().saturating_sub(1),
                    form,
                );
            }
            Record::Scatter(s) => {
                let form = if s.zs.is_some() { "3d" } else { "2d" };
                self.scatters
                    .entry(s.series.clone())
                    .or_default()
                    .add(s.step, s.xs.len(), form);
            }
            Record::Attributes(a) => {
                if a.env_id.is_some() {
                    self.env_attribute_updates += a.updates.len() as u64;
                } else {
                    for (path, value) in a.updates {
                        let text = run_value(&value, self.config.get(&path));
                        self.config.insert(path, text);
                    }
                }
            }
            Record::Rendering(r) => {
                let entry = self.renderings.entry(r.env_id).or_default();
                entry.videos += 1;
                entry.frames += r.frames;
                entry.bytes += r.bytes;
                entry.last_path = r.path;
            }
            _ => {}
        }
    }
}

/// A run attribute as text; tag deltas apply to the set shown so far.
fn run_value(value: &RunAttributeValue, before: Option<&String>) -> String {
    match value {
        RunAttributeValue::Bool(b) => b.to_string(),
        RunAttributeValue::Int(i) => i.to_string(),
        RunAttributeValue::Float(f) => f.to_string(),
        RunAttributeValue::String(s) => s.clone(),
        RunAttributeValue::StringSet(set) => set.join(", "),
        RunAttributeValue::StringSetDelta { added, removed } => {
            let mut set: Vec<String> = before
                .map(|b| {
                    b.split(", ")
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            set.retain(|t| !removed.contains(t));
            for a in added {
                if !set.contains(a) {
                    set.push(a.clone());
                }
            }
            set.join(", ")
        }
    }
}
