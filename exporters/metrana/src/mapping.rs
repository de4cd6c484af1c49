//! Records → one `UpdateRunRequest`: series are declared once per stream session and then
//! addressed by their declaration id.

use std::collections::HashMap;

use telemetron_proto::metrana::common::v1::StringSet;
use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunRequest;
use telemetron_proto::metrana::ingestion::v1::types::{
    attribute_update, histogram_point::HistogramStats, AttributeUpdate, EnvAttrUpdates,
    HistogramPoint as WireHistogram, OrderingMode, PointBatch, ScatterPoint as WireScatter,
    SeriesDeclaration, StreamingHistogramSeriesUpdate, StreamingScatterSeriesUpdate,
    StreamingSeriesUpdate, StringSetDelta,
};
use telemetron_runtime::model::{
    BinValues, MetricPoints, Record, RunAttributeValue, SeriesKey, SeriesOrdering, TimestampsMs,
    Values,
};

use crate::rl_wire::encode_rl;

/// Declarations: series key → declaration id, stable for the exporter's life. A new stream
/// re-sends them all with its first request.
#[derive(Default)]
pub(crate) struct Declarations {
    ids: HashMap<(SeriesKey, i32), u64>,
    all: Vec<SeriesDeclaration>,
    next: u64,
}

impl Declarations {
    /// Every declaration made so far.
    pub(crate) fn all(&self) -> Vec<SeriesDeclaration> {
        self.all.clone()
    }

    /// Drops declarations the server refused, so that later streams do not repeat them.
    pub(crate) fn forget(&mut self, refused: &[SeriesDeclaration]) {
        let gone: std::collections::HashSet<u64> =
            refused.iter().map(|d| d.declaration_id).collect();
        self.all.retain(|d| !gone.contains(&d.declaration_id));
        self.ids.retain(|_, id| !gone.contains(id));
    }

    fn id(&mut self, key: &SeriesKey, ordering: OrderingMode, out: &mut UpdateRunRequest) -> u64 {
        if let Some(id) = self.ids.get(&(key.clone(), ordering as i32)) {
            return *id;
        }
        self.next += 1;
        let id = self.next;
        let declaration = SeriesDeclaration {
            metric_name: key.name().to_string(),
            scale: key.scale().as_str().to_string(),
            labels: key.labels().iter().cloned().collect(),
            ordering: ordering as i32,
            declaration_id: id,
        };
        self.all.push(declaration.clone());
        out.series_declarations.push(declaration);
        self.ids.insert((key.clone(), ordering as i32), id);
        id
    }
}

fn ordering(o: SeriesOrdering) -> OrderingMode {
    match o {
        SeriesOrdering::Ordered => OrderingMode::AbsoluteOrdered,
        SeriesOrdering::Unordered => OrderingMode::AbsoluteUnordered,
    }
}

fn put_values(values: &Values, f64s: &mut Vec<f64>, f32s: &mut Vec<f32>) {
    match values {
        Values::F32(v) => f32s.extend_from_slice(v),
        Values::F64(v) => f64s.extend_from_slice(v),
    }
}

/// Adds a metric-kind record to `out` (RL points straight to their encoded form in `rl`, which
/// follows `out` on the wire); false for records Metrana does not take.
pub(crate) fn add(
    declarations: &mut Declarations,
    record: &Record,
    out: &mut UpdateRunRequest,
    rl: &mut Vec<u8>,
) -> bool {
    match record {
        Record::Metric(m) => {
            add_metric(declarations, m, out);
            true
        }
        Record::Scalar(p) => {
            p.with_points(|m| add_metric(declarations, m, out));
            true
        }
        Record::Rl(r) => {
            let id = declarations.id(&r.series, ordering(r.ordering), out);
            encode_rl(id, r, rl);
            true
        }
        Record::Histogram(h) => {
            let id = declarations.id(&h.series, OrderingMode::AbsoluteUnordered, out);
            let mut point = WireHistogram {
                step: h.step,
                timestamp_millis: Some(h.timestamp_ms),
                bin_edges: h.bin_edges.clone(),
                stats: h.stats.map(|s| HistogramStats {
                    min: s[0],
                    max: s[1],
                    sum: s[2],
                    sum_of_squares: s[3],
                }),
                ..Default::default()
            };
            match &h.bins {
                BinValues::Counts(c) => point.counts = c.clone(),
                BinValues::Densities(d) => point.densities = d.clone(),
            }
            out.histogram_series.push(StreamingHistogramSeriesUpdate {
                series_id: id,
                points: vec![point],
            });
            true
        }
        Record::Scatter(p) => {
            let id = declarations.id(&p.series, OrderingMode::AbsoluteUnordered, out);
            let titles = ["x_title", "y_title", "z_title"]
                .iter()
                .zip(&p.titles)
                .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
                .collect();
            out.scatter_series.push(StreamingScatterSeriesUpdate {
                series_id: id,
                points: vec![WireScatter {
                    step: p.step,
                    timestamp_millis: Some(p.timestamp_ms),
                    xs: p.xs.clone(),
                    ys: p.ys.clone(),
                    zs: p.zs.clone().unwrap_or_default(),
                }],
                metadata_labels: titles,
                is_3d: p.zs.is_some(),
            });
            true
        }
        Record::Attributes(a) => {
            let updates: Vec<AttributeUpdate> = a
                .updates
                .iter()
                .map(|(path, value)| AttributeUpdate {
                    path: path.clone(),
                    value: Some(attribute(value)),
                })
                .collect();
            match &a.env_id {
                None => out.attributes.extend(updates),
                Some(env) => out.env_attr_updates.push(EnvAttrUpdates {
                    environment_id: env.clone(),
                    episode: a.episode,
                    attributes: updates,
                }),
            }
            true
        }
        _ => false,
    }
}

fn add_metric(declarations: &mut Declarations, m: &MetricPoints, out: &mut UpdateRunRequest) {
    let id = declarations.id(&m.series, ordering(m.ordering), out);
    let contiguous = m.steps.windows(2).all(|w| w[1] == w[0] + 1);
    let mut batch = PointBatch::default();
    put_values(&m.values, &mut batch.values, &mut batch.values_f32);
    if contiguous {
        batch.first_step = m.steps.first().copied();
    } else {
        batch.steps = m.steps.to_vec();
    }
    match &m.timestamps_ms {
        TimestampsMs::None => {}
        TimestampsMs::One(t) => batch.timestamp_millis = Some(*t),
        TimestampsMs::Each(ts) => batch.timestamps_millis = ts.clone(),
    }
    out.series.push(StreamingSeriesUpdate {
        series_id: id,
        point_batches: vec![batch],
    });
}

/// A generous estimate of a record's encoded size, cheap to compute: the exact size of a
/// request is computed only once the estimates reach `max_msg_size`.
pub(crate) fn approximate_size(record: &Record) -> usize {
    const OVERHEAD: usize = 64;
    match record {
        Record::Metric(m) => OVERHEAD + m.values.len() * 32,
        Record::Scalar(_) => OVERHEAD + 32,
        Record::Rl(r) => OVERHEAD + r.envs.len() * (OVERHEAD + 16) + r.values.len() * 32,
        Record::Histogram(h) => OVERHEAD + h.bin_edges.len() * 18,
        Record::Scatter(p) => OVERHEAD + p.xs.len() * 27,
        Record::Attributes(a) => OVERHEAD + a.updates.len() * OVERHEAD,
        _ => 0,
    }
}

fn attribute(value: &RunAttributeValue) -> attribute_update::Value {
    use attribute_update::Value as V;
    match value {
        RunAttributeValue::Bool(b) => V::BoolValue(*b),
        RunAttributeValue::Int(i) => V::IntValue(*i),
        RunAttributeValue::Float(f) => V::FloatValue(*f),
        RunAttributeValue::String(s) => V::StringValue(s.clone()),
        RunAttributeValue::StringSet(v) => V::StringSetValue(StringSet { values: v.clone() }),
        RunAttributeValue::StringSetDelta { added, removed } => {
            V::StringSetDeltaValue(StringSetDelta {
                added_values: added.clone(),
                removed_values: removed.clone(),
            })
        }
    }
}
