//! Metric records as compact column batches: `metric`, `rl_metric`, `histogram`, `scatter`,
//! `attributes` lines (documented in the crate's README).

use telemetron_runtime::model::{
    BinValues, HistogramPoint, MetricPoints, RlPoints, RunAttributeValue, RunAttributes,
    ScatterPoint, SeriesKey, SeriesOrdering, TimestampsMs, Values,
};

use super::{field_i64, field_opt_str, field_str, field_u64, list, string, u64_value};

pub(super) fn metric(out: &mut Vec<u8>, m: &MetricPoints) {
    out.extend_from_slice(line_start!("metric"));
    u64_value(out, m.time.0);
    series(out, &m.series, m.ordering);
    out.extend_from_slice(key!("steps"));
    list(out, &m.steps, |out, s| u64_value(out, *s));
    columns(out, &m.values, &m.timestamps_ms);
}

pub(super) fn rl(out: &mut Vec<u8>, r: &RlPoints) {
    out.extend_from_slice(line_start!("rl_metric"));
    u64_value(out, r.time.0);
    series(out, &r.series, r.ordering);
    field_u64(out, key!("rl_step"), r.rl_step);
    out.extend_from_slice(key!("envs"));
    list(out, &r.envs, |out, e| string(out, e));
    out.extend_from_slice(key!("episodes"));
    list(out, &r.episodes, |out, e| match e {
        Some(e) => u64_value(out, *e),
        None => out.extend_from_slice(b"null"),
    });
    field_u64(out, key!("per_env"), r.per_env as u64);
    out.extend_from_slice(key!("minor_steps"));
    list(out, &r.minor_steps.to_vec(r.per_env), |out, s| {
        u64_value(out, *s)
    });
    columns(out, &r.values, &r.timestamps_ms);
}

pub(super) fn histogram(out: &mut Vec<u8>, h: &HistogramPoint) {
    out.extend_from_slice(line_start!("histogram"));
    u64_value(out, h.time.0);
    series(out, &h.series, SeriesOrdering::Unordered);
    field_u64(out, key!("step"), h.step);
    field_i64(out, key!("timestamp_ms"), h.timestamp_ms);
    out.extend_from_slice(key!("bin_edges"));
    list(out, &h.bin_edges, |out, x| {
        out.extend_from_slice(ryu::Buffer::new().format_finite(*x).as_bytes())
    });
    match &h.bins {
        BinValues::Counts(c) => {
            out.extend_from_slice(key!("counts"));
            list(out, c, |out, x| u64_value(out, *x));
        }
        BinValues::Densities(d) => {
            out.extend_from_slice(key!("densities"));
            list(out, d, |out, x| {
                out.extend_from_slice(ryu::Buffer::new().format_finite(*x).as_bytes())
            });
        }
    }
    out.extend_from_slice(key!("stats"));
    match &h.stats {
        Some(stats) => list(out, stats, |out, x| {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*x).as_bytes())
        }),
        None => out.extend_from_slice(b"null"),
    }
}

pub(super) fn scatter(out: &mut Vec<u8>, p: &ScatterPoint) {
    out.extend_from_slice(line_start!("scatter"));
    u64_value(out, p.time.0);
    series(out, &p.series, SeriesOrdering::Unordered);
    field_u64(out, key!("step"), p.step);
    field_i64(out, key!("timestamp_ms"), p.timestamp_ms);
    let floats = |out: &mut Vec<u8>, v: &[f64]| {
        list(out, v, |out, x| {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*x).as_bytes())
        })
    };
    out.extend_from_slice(key!("xs"));
    floats(out, &p.xs);
    out.extend_from_slice(key!("ys"));
    floats(out, &p.ys);
    out.extend_from_slice(key!("zs"));
    match &p.zs {
        Some(z) => floats(out, z),
        None => out.extend_from_slice(b"null"),
    }
    field_opt_str(out, key!("x_title"), p.titles[0].as_deref());
    field_opt_str(out, key!("y_title"), p.titles[1].as_deref());
    field_opt_str(out, key!("z_title"), p.titles[2].as_deref());
}

pub(super) fn attributes(out: &mut Vec<u8>, a: &RunAttributes) {
    out.extend_from_slice(line_start!("attributes"));
    u64_value(out, a.time.0);
    field_opt_str(out, key!("env_id"), a.env_id.as_deref());
    out.extend_from_slice(key!("episode"));
    match a.episode {
        Some(e) => u64_value(out, e),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(key!("updates"));
    list(out, &a.updates, |out, (path, value)| {
        out.push(b'[');
        string(out, path);
        out.push(b',');
        run_attribute(out, value);
        out.push(b']');
    });
}

/// `,"name":..,"scale":..,"labels":{..},"ordering":..` of a series.
fn series(out: &mut Vec<u8>, key: &SeriesKey, ordering: SeriesOrdering) {
    field_str(out, key!("name"), key.name());
    field_str(out, key!("scale"), key.scale().as_str());
    out.extend_from_slice(key!("labels"));
    out.push(b'{');
    for (i, (k, v)) in key.labels().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
    field_str(out, key!("ordering"), ordering.as_str());
}

/// `,"precision":..,"values":[..],"timestamps_ms":..`
fn columns(out: &mut Vec<u8>, values: &Values, timestamps: &TimestampsMs) {
    match values {
        Values::F32(v) => {
            field_str(out, key!("precision"), "f32");
            out.extend_from_slice(key!("values"));
            list(out, v, |out, x| {
                out.extend_from_slice(ryu::Buffer::new().format(*x).as_bytes())
            });
        }
        Values::F64(v) => {
            field_str(out, key!("precision"), "f64");
            out.extend_from_slice(key!("values"));
            list(out, v, |out, x| {
                out.extend_from_slice(ryu::Buffer::new().format(*x).as_bytes())
            });
        }
    }
    out.extend_from_slice(key!("timestamps_ms"));
    match timestamps {
        TimestampsMs::None => out.extend_from_slice(b"null"),
        TimestampsMs::One(t) => out.extend_from_slice(itoa::Buffer::new().format(*t).as_bytes()),
        TimestampsMs::Each(ts) => list(out, ts, |out, t| {
            out.extend_from_slice(itoa::Buffer::new().format(*t).as_bytes())
        }),
    }
}

fn run_attribute(out: &mut Vec<u8>, value: &RunAttributeValue) {
    let strings = |out: &mut Vec<u8>, v: &[String]| list(out, v, |out, s| string(out, s));
    match value {
        RunAttributeValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        RunAttributeValue::Int(i) => {
            out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes())
        }
        RunAttributeValue::Float(f) => {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*f).as_bytes())
        }
        RunAttributeValue::String(s) => string(out, s),
        RunAttributeValue::StringSet(v) => {
            out.extend_from_slice(b"{\"set\":");
            strings(out, v);
            out.push(b'}');
        }
        RunAttributeValue::StringSetDelta { added, removed } => {
            out.extend_from_slice(b"{\"added\":");
            strings(out, added);
            out.extend_from_slice(b",\"removed\":");
            strings(out, removed);
            out.push(b'}');
        }
    }
}
