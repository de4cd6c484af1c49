//! `_native.cli_main(argv)`: the `telemetron` command (the `telemetron-cli` crate) for the
//! console script and `python -m telemetron`. Runs without the GIL; Ctrl-C is noticed through
//! Python's signal handlers (exit code 130).

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::convert::to_json;

/// Runs the command line `argv` (program name first); returns the exit code.
#[pyfunction]
#[pyo3(signature = (argv, registry_layers=None))]
pub(crate) fn cli_main(
    py: Python<'_>,
    argv: Vec<String>,
    registry_layers: Option<Vec<(String, Bound<'_, PyDict>)>>,
) -> PyResult<i32> {
    let mut layers = Vec::new();
    for (name, layer) in registry_layers.unwrap_or_default() {
        if let Value::Object(map) = to_json(layer.as_any(), &name)? {
            layers.push((name, map));
        }
    }
    let host = telemetron_cli::Host {
        // A pending KeyboardInterrupt ends the command; the exit code says why.
        interrupted: Box::new(|| Python::attach(|py| py.check_signals().is_err())),
        registry_layers: layers,
    };
    Ok(py.detach(|| telemetron_cli::run(argv, &host)))
}
