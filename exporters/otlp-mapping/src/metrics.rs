//! Metric records → OTLP metrics: gauges for points and RL calls, histograms for counting
//! histograms, per-bin gauges for density histograms; run attributes as attribute values.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint,
};
use telemetron_runtime::model::{
    BinValues, HistogramPoint, MetricPoints, RlPoints, RunAttributeValue, SeriesKey,
    SeriesOrdering, Timestamp, TimestampsMs,
};

use crate::assembler::{int, kv, string, wrap};

/// A series' points as one gauge: each point's attributes are the series labels, `step`,
/// `scale` and (for distributed series) `ordering`; its time is the point's timestamp, else
/// the time it was logged.
pub(crate) fn gauge(m: &MetricPoints) -> Metric {
    let mut common = series_attributes(&m.series);
    if m.ordering == SeriesOrdering::Unordered {
        common.push(kv("ordering", string(m.ordering.as_str())));
    }
    let values = m.values.to_f64();
    let data_points = m
        .steps
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (&step, value))| {
            let mut attributes = common.clone();
            attributes.push(kv("step", int(step as i64)));
            NumberDataPoint {
                attributes,
                time_unix_nano: point_time(&m.timestamps_ms, i, m.time),
                value: Some(number_data_point::Value::AsDouble(value)),
                ..Default::default()
            }
        })
        .collect();
    Metric {
        name: m.series.name().to_string(),
        data: Some(Data::Gauge(Gauge { data_points })),
        ..Default::default()
    }
}

fn series_attributes(key: &SeriesKey) -> Vec<KeyValue> {
    let mut attributes: Vec<KeyValue> =
        key.labels().iter().map(|(k, v)| kv(k, string(v))).collect();
    attributes.push(kv("scale", string(key.scale().as_str())));
    attributes
}

fn point_time(timestamps: &TimestampsMs, i: usize, logged: Timestamp) -> u64 {
    let ms = match timestamps {
        TimestampsMs::None => None,
        TimestampsMs::One(t) => Some(*t),
        TimestampsMs::Each(ts) => ts.get(i).copied(),
    };
    ms.map_or(logged.0, |ms| (ms.max(0) as u64).saturating_mul(1_000_000))
}

/// An RL call as one gauge: each value's attributes carry `rl.env_id`, `rl.step` (the major
/// step), `rl.episode` and `step` (the environment step, or the episode for scale EPISODE).
pub(crate) fn rl_gauge(r: &RlPoints) -> Metric {
    let common = series_attributes(&r.series);
    let values = r.values.to_f64();
    let data_points = values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let env = i / r.per_env.max(1);
            let mut attributes = common.clone();
            attributes.push(kv("rl.env_id", string(&r.envs[env])));
            attributes.push(kv("rl.step", int(r.rl_step as i64)));
            if let Some(episode) = r.episodes[env] {
                attributes.push(kv("rl.episode", int(episode as i64)));
            }
            attributes.push(kv("step", int(r.minor_steps.get(i, r.per_env) as i64)));
            NumberDataPoint {
                attributes,
                time_unix_nano: point_time(&r.timestamps_ms, i, r.time),
                value: Some(number_data_point::Value::AsDouble(value)),
                ..Default::default()
            }
        })
        .collect();
    Metric {
        name: r.series.name().to_string(),
        data: Some(Data::Gauge(Gauge { data_points })),
        ..Default::default()
    }
}

/// A counting histogram becomes an OTLP histogram (delta: each step is a snapshot): the
/// edges are the explicit bounds, and the two open-ended OTLP buckets are empty. A density
/// histogram has no OTLP form with counts: it becomes a gauge, one point per bin with
/// `bin.lower` / `bin.upper` attributes.
pub(crate) fn histogram(h: &HistogramPoint) -> Metric {
    let mut attributes = series_attributes(&h.series);
    attributes.push(kv("step", int(h.step as i64)));
    let time = (h.timestamp_ms.max(0) as u64).saturating_mul(1_000_000);
    let data = match &h.bins {
        BinValues::Counts(counts) => {
            let mut bucket_counts = Vec::with_capacity(counts.len() + 2);
            bucket_counts.push(0);
            bucket_counts.extend(counts);
            bucket_counts.push(0);
            Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes,
                    time_unix_nano: time,
                    count: counts.iter().sum(),
                    sum: h.stats.map(|s| s[2]),
                    min: h.stats.map(|s| s[0]),
                    max: h.stats.map(|s| s[1]),
                    bucket_counts,
                    explicit_bounds: h.bin_edges.clone(),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })
        }
        BinValues::Densities(densities) => Data::Gauge(Gauge {
            data_points: densities
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    let mut point_attributes = attributes.clone();
                    point_attributes.push(kv("bin.lower", double(h.bin_edges[i])));
                    point_attributes.push(kv("bin.upper", double(h.bin_edges[i + 1])));
                    NumberDataPoint {
                        attributes: point_attributes,
                        time_unix_nano: time,
                        value: Some(number_data_point::Value::AsDouble(d)),
                        ..Default::default()
                    }
                })
                .collect(),
        }),
    };
    Metric {
        name: h.series.name().to_string(),
        data: Some(data),
        ..Default::default()
    }
}

pub(crate) fn run_attribute(value: &RunAttributeValue) -> AnyValue {
    use any_value::Value as V;
    let strings = |v: &[String]| {
        wrap(V::ArrayValue(ArrayValue {
            values: v.iter().map(|s| string(s)).collect(),
        }))
    };
    match value {
        RunAttributeValue::Bool(b) => wrap(V::BoolValue(*b)),
        RunAttributeValue::Int(i) => int(*i),
        RunAttributeValue::Float(f) => double(*f),
        RunAttributeValue::String(s) => string(s),
        RunAttributeValue::StringSet(v) => strings(v),
        RunAttributeValue::StringSetDelta { added, removed } => {
            let mut text = added.iter().map(|a| format!("+{a}")).collect::<Vec<_>>();
            text.extend(removed.iter().map(|r| format!("-{r}")));
            string(&text.join(","))
        }
    }
}

fn double(f: f64) -> AnyValue {
    wrap(any_value::Value::DoubleValue(f))
}
