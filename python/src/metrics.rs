//! `log` / `log_distributed` / `get_last_step`: Metrana's metric calls on the runtime's series.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use telemetron::model::{
    shown, F64Column, Scale, SeriesKey, SeriesOrdering, StepColumn, TimestampsMs, Values,
};
use telemetron::{MetricCall, Steps};

use crate::columns::{column, Origin};
use crate::errors::{invalid, ValidationError};
use crate::runtime::PyRuntime;

/// The series key from Python arguments. Label keys and values are str. `evaluation=True`
/// adds the label `evaluation: "true"` and `False` adds `"false"` unless the caller's labels
/// already have an `evaluation` key, which wins (Metrana's rule: both sides of an eval split
/// carry the key, so a metric keeps one label key set).
pub(crate) fn series_key(
    name: &str,
    scale: Option<&str>,
    labels: Option<&Bound<'_, PyDict>>,
    evaluation: Option<bool>,
) -> PyResult<SeriesKey> {
    let scale = match scale {
        None => Scale::MlStep,
        Some(s) => Scale::parse(s).map_err(|e| ValidationError::new_err(e.to_string()))?,
    };
    let mut pairs = Vec::new();
    if let Some(labels) = labels {
        for (k, v) in labels.iter() {
            let key: String = k
                .extract()
                .map_err(|_| invalid("label key", format!("{} is not a str", type_name_of(&k))))?;
            let value: String = v.extract().map_err(|_| {
                invalid(
                    "label value",
                    format!(
                        "the value of {} is a {}, not a str",
                        shown(&key),
                        type_name_of(&v)
                    ),
                )
            })?;
            pairs.push((key, value));
        }
    }
    if let Some(evaluation) = evaluation {
        if !pairs.iter().any(|(k, _)| k == "evaluation") {
            pairs.push(("evaluation".into(), evaluation.to_string()));
        }
    }
    SeriesKey::new(name, scale, pairs).map_err(|e| ValidationError::new_err(e.to_string()))
}

fn type_name_of(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "value".into())
}

/// Values in the precision Metrana ships: floats as f32 (round to nearest even), integers as
/// f64 (exact to 2**53); `dtype` overrides (`float32`, `float64`, or `int64` / `int32`, which
/// truncate toward zero and refuse NaN and infinities).
pub(crate) fn values_of(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    dtype: Option<&str>,
) -> PyResult<Values> {
    let mut col = column(py, value, "value")?;
    // float16/float32 arrays stay single precision unless another dtype is asked for (then
    // `f64s` converts them: the column is only taken when it is used as it is).
    if matches!(dtype, None | Some("float32")) {
        if let Some(f32s) = col.f32s.take() {
            return Ok(Values::from(f32s));
        }
    }
    let origin = col.origin;
    let values = col.f64s();
    let truncate = |bits: u32| -> PyResult<Values> {
        let (lo, hi) = if bits == 32 {
            (f64::from(i32::MIN), f64::from(i32::MAX))
        } else {
            (i64::MIN as f64, i64::MAX as f64)
        };
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if !v.is_finite() {
                    return Err(invalid(
                        "value",
                        format!("value #{i} is {v}; dtype int{bits} needs finite values"),
                    ));
                }
                let t = v.trunc();
                if t < lo || t > hi {
                    return Err(invalid(
                        "value",
                        format!("value #{i} ({v}) does not fit int{bits}"),
                    ));
                }
                Ok(t)
            })
            .collect::<PyResult<F64Column>>()
            .map(Values::F64)
    };
    match dtype {
        None => Ok(match origin {
            Origin::Int => Values::F64(values),
            Origin::Float32 | Origin::Float64 => {
                Values::F32(values.iter().map(|&v| v as f32).collect())
            }
        }),
        Some("float32") => Ok(Values::F32(values.iter().map(|&v| v as f32).collect())),
        Some("float64") => Ok(Values::F64(values)),
        Some("int64") => truncate(64),
        Some("int32") => truncate(32),
        Some(other) => Err(invalid(
            "dtype",
            format!("{other:?} is not float32, float64, int64 or int32"),
        )),
    }
}

fn steps_of(py: Python<'_>, step: Option<&Bound<'_, PyAny>>) -> PyResult<Steps> {
    let Some(step) = step.filter(|s| !s.is_none()) else {
        return Ok(Steps::Auto);
    };
    let col = column(py, step, "step")?;
    let ints = col
        .ints
        .ok_or_else(|| invalid("step", "steps must be integers"))?;
    let steps = ints
        .into_iter()
        .map(|s| crate::indices::index("step", i128::from(s)))
        .collect::<PyResult<StepColumn>>()?;
    Ok(match (col.scalar, steps.as_slice()) {
        (true, [first]) => Steps::From(*first),
        _ => Steps::Each(steps.into_vec()),
    })
}

pub(crate) fn timestamps_of(
    py: Python<'_>,
    timestamp: Option<&Bound<'_, PyAny>>,
) -> PyResult<TimestampsMs> {
    let Some(timestamp) = timestamp.filter(|t| !t.is_none()) else {
        return Ok(TimestampsMs::None);
    };
    let col = column(py, timestamp, "timestamp")?;
    let ints = col
        .ints
        .ok_or_else(|| invalid("timestamp", "timestamps are integer Unix milliseconds"))?;
    for &t in &ints {
        crate::indices::timestamp_ms(i128::from(t))?;
    }
    Ok(match (col.scalar, ints.as_slice()) {
        (true, [t]) => TimestampsMs::One(*t),
        _ => TimestampsMs::Each(ints.into_vec()),
    })
}

/// The arguments `log` and `log({...})` share, as the caller passed them.
pub(crate) struct MetricOptions<'a, 'py> {
    pub scale: Option<&'a str>,
    pub step: Option<&'a Bound<'py, PyAny>>,
    pub labels: Option<&'a Bound<'py, PyDict>>,
    pub evaluation: Option<bool>,
    pub timestamp: Option<&'a Bound<'py, PyAny>>,
    pub dtype: Option<&'a str>,
    /// `log` (true) or `log_distributed` (false).
    pub ordered: bool,
}

impl MetricOptions<'_, '_> {
    fn ordering(&self) -> SeriesOrdering {
        if self.ordered {
            SeriesOrdering::Ordered
        } else {
            SeriesOrdering::Unordered
        }
    }

    /// One series' call, converted and validated.
    fn call(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<MetricCall> {
        Ok(MetricCall {
            key: series_key(name, self.scale, self.labels, self.evaluation)?,
            ordering: self.ordering(),
            steps: steps_of(py, self.step)?,
            values: values_of(py, value, self.dtype)?,
            timestamps_ms: timestamps_of(py, self.timestamp)?,
        })
    }
}

/// One `log` / `log_distributed` call on one series.
pub(crate) fn log_metric(
    py: Python<'_>,
    rt: &PyRuntime,
    name: &str,
    value: &Bound<'_, PyAny>,
    options: &MetricOptions<'_, '_>,
) -> PyResult<()> {
    let call = options.call(py, name, value)?;
    rt.maybe_detached(py, || {
        rt.runtime.log_metric(
            call.key,
            call.ordering,
            call.steps,
            call.values,
            call.timestamps_ms,
        )
    })
}

/// `log({name: value, ...})`: every series converted and validated before any is recorded.
pub(crate) fn log_metrics(
    py: Python<'_>,
    rt: &PyRuntime,
    values: &Bound<'_, PyDict>,
    options: &MetricOptions<'_, '_>,
) -> PyResult<()> {
    let mut calls = Vec::with_capacity(values.len());
    for (name, value) in values.iter() {
        let name: String = name
            .extract()
            .map_err(|_| invalid("metric name", format!("{name} is not a str")))?;
        let call = options.call(py, &name, &value).map_err(|e| {
            ValidationError::new_err(format!("{name:?}: {}; nothing was logged", e.value(py)))
        })?;
        calls.push(call);
    }
    rt.maybe_detached(py, || rt.runtime.log_metrics(calls))
}
