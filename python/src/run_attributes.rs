//! Run and environment attributes from Python: `(path, value)` pairs already flattened by the
//! Python layer (`log_config`, tags, description, `log_env_attributes`).

use crate::runtime::PyRuntime;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use telemetron::model::RunAttributeValue;

use crate::errors::ValidationError;

fn strings(value: Option<Bound<'_, PyAny>>, path: &str) -> PyResult<Vec<String>> {
    match value {
        None => Ok(Vec::new()),
        Some(v) => v.extract().map_err(|_| {
            ValidationError::new_err(format!("invalid attribute value: {path} needs strings"))
        }),
    }
}

fn value_of(path: &str, value: &Bound<'_, PyAny>) -> PyResult<RunAttributeValue> {
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(RunAttributeValue::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        let i: i64 = value.extract().map_err(|_| {
            ValidationError::new_err(format!(
                "invalid attribute value: {path} is out of the 64-bit range"
            ))
        })?;
        return Ok(RunAttributeValue::Int(i));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(RunAttributeValue::Float(f.value()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(RunAttributeValue::String(s.to_string()));
    }
    if let Ok(d) = value.cast::<PyDict>() {
        if let Some(set) = d.get_item("set")? {
            return Ok(RunAttributeValue::StringSet(strings(Some(set), path)?));
        }
        return Ok(RunAttributeValue::StringSetDelta {
            added: strings(d.get_item("added")?, path)?,
            removed: strings(d.get_item("removed")?, path)?,
        });
    }
    let type_name = value.get_type().name()?;
    Err(ValidationError::new_err(format!(
        "invalid attribute value: {path} is a {type_name}; use bool, int, float or str"
    )))
}

/// One update of run (or environment) attributes.
pub(crate) fn log_run_attributes(
    py: Python<'_>,
    rt: &PyRuntime,
    updates: Vec<(String, Bound<'_, PyAny>)>,
    env_id: Option<String>,
    episode: Option<u64>,
) -> PyResult<()> {
    let updates = updates
        .iter()
        .map(|(path, value)| Ok((path.clone(), value_of(path, value)?)))
        .collect::<PyResult<Vec<_>>>()?;
    rt.maybe_detached(py, || {
        rt.runtime.log_run_attributes(env_id, episode, updates)
    })
}
