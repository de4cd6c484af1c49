//! The disk spool from Python: `Runtime.is_offline`, `Runtime.spool_status`, and
//! `replay_spool` (the `telemetron sync` of the `telemetron-cli` crate, without the GIL).

use std::path::PathBuf;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

use crate::convert::{report_to_python, to_json};
use crate::errors::ExporterError;
use crate::runtime::PyRuntime;

#[pymethods]
impl PyRuntime {
    /// Whether the run is offline (`mode: offline`): spooled exporters write to disk only.
    fn is_offline(&self) -> bool {
        self.runtime.is_offline()
    }

    /// Each spooled exporter's spool: records and bytes on disk, leftovers still to deliver.
    fn spool_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        report_to_python(py, &self.runtime.spool_status())
    }
}

/// Delivers spools under `spool_dir` to `exporters` (or the configured ones); returns the
/// report as a dict. See `telemetron.replay_spool`.
#[pyfunction]
#[pyo3(signature = (spool_dir=None, *, workspace=None, project=None, run_name=None, exporters=None, config_file=None, timeout=60.0, registry_layers=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn replay_spool<'py>(
    py: Python<'py>,
    spool_dir: Option<PathBuf>,
    workspace: Option<String>,
    project: Option<String>,
    run_name: Option<String>,
    exporters: Option<&Bound<'py, PyList>>,
    config_file: Option<PathBuf>,
    timeout: f64,
    registry_layers: Option<Vec<(String, Bound<'py, PyDict>)>>,
) -> PyResult<Bound<'py, PyAny>> {
    let exporters = match exporters {
        Some(list) => match to_json(list.as_any(), "exporters")? {
            Value::Array(items) => items,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut layers = Vec::new();
    for (name, layer) in registry_layers.unwrap_or_default() {
        if let Value::Object(map) = to_json(layer.as_any(), &name)? {
            layers.push((name, map));
        }
    }
    let request = telemetron_cli::SyncRequest {
        spool_dir,
        workspace,
        project,
        run_name,
        config: config_file,
        exporters,
        timeout,
        progress: false,
    };
    let host = telemetron_cli::Host {
        interrupted: Box::new(|| Python::attach(|py| py.check_signals().is_err())),
        registry_layers: layers,
    };
    let report = py.detach(|| telemetron_cli::sync(&request, &host));
    match report {
        Ok(report) => report_to_python(py, &report),
        Err(telemetron_cli::CliError::Usage(why)) => Err(PyValueError::new_err(why)),
        Err(telemetron_cli::CliError::Config(e)) => Err(crate::errors::ToPyErr::to_py(e)),
        Err(telemetron_cli::CliError::Interrupted) => Err(
            pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted"),
        ),
        Err(telemetron_cli::CliError::Runtime(why)) => Err(ExporterError::new_err(why)),
        Err(e) => Err(PyRuntimeError::new_err(e.to_string())),
    }
}
