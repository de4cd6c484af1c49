//! Records as Python dicts, for exporters written in Python. Keys match the file exporter's
//! JSON Lines fields.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use telemetron::model::{
    BinValues, MetricPoints, Record, RunAttributeValue, SeriesKey, SeriesOrdering, SpanContext,
    SpanId, TimestampsMs,
};

use crate::attributes::to_dict;

fn ids(d: &Bound<'_, PyDict>, span: Option<SpanContext>) -> PyResult<()> {
    d.set_item("trace_id", span.map(|s| s.trace_id.to_string()))?;
    d.set_item("span_id", span.map(|s| s.span_id.to_string()))
}

fn parent(d: &Bound<'_, PyDict>, parent: Option<SpanId>) -> PyResult<()> {
    d.set_item("parent_span_id", parent.map(|p| p.to_string()))
}

pub(crate) fn to_py_record<'py>(py: Python<'py>, record: &Record) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match record {
        Record::SpanStart(s) => {
            d.set_item("kind", "span_start")?;
            d.set_item("time_ns", s.time.0)?;
            ids(&d, Some(s.context))?;
            parent(&d, s.parent)?;
            d.set_item("name", s.name.as_ref())?;
            d.set_item("attributes", to_dict(py, &s.attributes)?)?;
            d.set_item(
                "start_event_attributes",
                to_dict(py, &s.start_event_attributes)?,
            )?;
        }
        Record::SpanStop(s) => {
            d.set_item("kind", "span_stop")?;
            d.set_item("time_ns", s.time.0)?;
            ids(&d, Some(s.context))?;
            parent(&d, s.parent)?;
            d.set_item("name", s.name.as_ref())?;
            d.set_item("start_time_ns", s.start_time.0)?;
            d.set_item("duration_ns", s.duration_ns)?;
            d.set_item("status", s.status.as_str())?;
            if let telemetron::model::SpanStatus::Error(m) = &s.status {
                d.set_item("status_message", m)?;
            }
            d.set_item("attributes", to_dict(py, &s.attributes)?)?;
            d.set_item("span_attributes", to_dict(py, &s.span_attributes)?)?;
        }
        Record::Event(e) => {
            d.set_item("kind", "event")?;
            d.set_item("time_ns", e.time.0)?;
            ids(&d, e.span)?;
            d.set_item("name", e.name.as_ref())?;
            d.set_item("attributes", to_dict(py, &e.attributes)?)?;
        }
        Record::Error(e) => {
            d.set_item("kind", "error")?;
            d.set_item("time_ns", e.time.0)?;
            ids(&d, e.span)?;
            d.set_item("message", &e.message)?;
            d.set_item("exception_type", &e.exception_type)?;
            d.set_item("exception_message", &e.exception_message)?;
            d.set_item("traceback", &e.traceback)?;
        }
        Record::TelemetryDataError(e) => {
            d.set_item("kind", "telemetry_data_error")?;
            d.set_item("time_ns", e.time.0)?;
            d.set_item("error_type", e.kind.as_str())?;
            d.set_item("message", &e.message)?;
            d.set_item("exporter", &e.exporter)?;
        }
        Record::Rendering(r) => {
            d.set_item("kind", "rendering")?;
            d.set_item("time_ns", r.time.0)?;
            d.set_item("env_id", &r.env_id)?;
            d.set_item("episode", r.episode)?;
            d.set_item("rl_step_first", r.rl_step_first)?;
            d.set_item("rl_step_last", r.rl_step_last)?;
            d.set_item("path", &r.path)?;
            d.set_item("frames", r.frames)?;
            d.set_item("width", r.width)?;
            d.set_item("height", r.height)?;
            d.set_item("fps", r.fps)?;
            d.set_item("duration_secs", r.duration_secs)?;
            d.set_item("bytes", r.bytes)?;
        }
        Record::Log(l) => {
            d.set_item("kind", "log")?;
            d.set_item("time_ns", l.time.0)?;
            ids(&d, l.span)?;
            d.set_item("severity_number", l.severity.number())?;
            d.set_item("severity_text", l.severity.text())?;
            d.set_item("logger", l.logger.as_ref())?;
            d.set_item("body", &l.body)?;
            d.set_item("attributes", to_dict(py, &l.attributes)?)?;
        }
        Record::Metric(m) => metric(py, &d, m)?,
        Record::Scalar(p) => metric(py, &d, &p.to_points())?,
        Record::Rl(r) => {
            d.set_item("kind", "rl_metric")?;
            d.set_item("time_ns", r.time.0)?;
            series(py, &d, &r.series, r.ordering)?;
            d.set_item("rl_step", r.rl_step)?;
            d.set_item("envs", &r.envs[..])?;
            d.set_item("episodes", &r.episodes)?;
            d.set_item("per_env", r.per_env)?;
            d.set_item("minor_steps", r.minor_steps.to_vec(r.per_env))?;
            d.set_item("values", r.values.to_f64())?;
        }
        Record::Histogram(h) => {
            d.set_item("kind", "histogram")?;
            d.set_item("time_ns", h.time.0)?;
            d.set_item("name", h.series.name())?;
            d.set_item("step", h.step)?;
            d.set_item("timestamp_ms", h.timestamp_ms)?;
            d.set_item("bin_edges", &h.bin_edges)?;
            match &h.bins {
                BinValues::Counts(c) => d.set_item("counts", c)?,
                BinValues::Densities(v) => d.set_item("densities", v)?,
            }
            d.set_item("stats", h.stats.map(|s| s.to_vec()))?;
        }
        Record::Scatter(p) => {
            d.set_item("kind", "scatter")?;
            d.set_item("time_ns", p.time.0)?;
            d.set_item("name", p.series.name())?;
            d.set_item("step", p.step)?;
            d.set_item("timestamp_ms", p.timestamp_ms)?;
            d.set_item("xs", &p.xs)?;
            d.set_item("ys", &p.ys)?;
            d.set_item("zs", &p.zs)?;
        }
        Record::Attributes(a) => {
            d.set_item("kind", "attributes")?;
            d.set_item("time_ns", a.time.0)?;
            d.set_item("env_id", &a.env_id)?;
            d.set_item("episode", a.episode)?;
            let updates = pyo3::types::PyList::empty(py);
            for (path, value) in &a.updates {
                let value: Bound<'_, PyAny> = match value {
                    RunAttributeValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
                    RunAttributeValue::Int(i) => i.into_pyobject(py)?.into_any(),
                    RunAttributeValue::Float(f) => f.into_pyobject(py)?.into_any(),
                    RunAttributeValue::String(s) => s.into_pyobject(py)?.into_any(),
                    RunAttributeValue::StringSet(v) => {
                        let set = PyDict::new(py);
                        set.set_item("set", v)?;
                        set.into_any()
                    }
                    RunAttributeValue::StringSetDelta { added, removed } => {
                        let delta = PyDict::new(py);
                        delta.set_item("added", added)?;
                        delta.set_item("removed", removed)?;
                        delta.into_any()
                    }
                };
                updates.append((path, value))?;
            }
            d.set_item("updates", updates)?;
        }
        _ => d.set_item("kind", "unknown")?,
    }
    Ok(d)
}

fn metric(py: Python<'_>, d: &Bound<'_, PyDict>, m: &MetricPoints) -> PyResult<()> {
    d.set_item("kind", "metric")?;
    d.set_item("time_ns", m.time.0)?;
    series(py, d, &m.series, m.ordering)?;
    d.set_item("steps", m.steps.as_slice())?;
    d.set_item("values", m.values.to_f64())?;
    match &m.timestamps_ms {
        TimestampsMs::None => d.set_item("timestamps_ms", py.None())?,
        TimestampsMs::One(t) => d.set_item("timestamps_ms", t)?,
        TimestampsMs::Each(ts) => d.set_item("timestamps_ms", ts)?,
    }
    Ok(())
}

/// A series' name, scale, labels and ordering.
fn series(
    py: Python<'_>,
    d: &Bound<'_, PyDict>,
    key: &SeriesKey,
    ordering: SeriesOrdering,
) -> PyResult<()> {
    d.set_item("name", key.name())?;
    d.set_item("scale", key.scale().as_str())?;
    let labels = PyDict::new(py);
    for (k, v) in key.labels() {
        labels.set_item(k, v)?;
    }
    d.set_item("labels", labels)?;
    d.set_item("ordering", ordering.as_str())
}
