//! `_native.Runtime`: one Telemetron runtime.

use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;
use telemetron::model::{Severity, SpanStatus, TelemetryDataErrorKind};
use telemetron::{Backpressure, ConfigLoader, ErrorInfo, Runtime};

use crate::attributes::to_attributes;
use crate::convert::{report_to_python, to_json};
use crate::errors::{ToPyErr, ValidationError};
use crate::span_ref::SpanRef;
use crate::timestamps::timestamp_arg;

#[pyclass(frozen, module = "telemetron._native", name = "Runtime")]
pub(crate) struct PyRuntime {
    // Dropped by hand in `Drop`: with the GIL released, or never for an abandoned runtime.
    pub(crate) runtime: ManuallyDrop<Runtime>,
    abandoned: AtomicBool,
    /// Whether a recording call can wait: `block`, or a positive enqueue timeout.
    may_wait: bool,
    description: String,
    /// Where each enabled exporter sends its records ("file telemetron-out/x.jsonl").
    destinations: Vec<String>,
    /// What the config loader noticed (a misspelled `TELEMETRON_*` variable, ...).
    config_warnings: Vec<String>,
    renderer: crate::rendering::RendererSlot,
    /// The last environment list of the RL calls.
    pub(crate) envs: crate::envs::EnvCache,
}

impl PyRuntime {
    /// Runs a recording call (without the GIL when backpressure may make it wait), maps its
    /// error, then shows the background errors that arrived since the last call as
    /// `TelemetronWarning`s (`error_strategy: warn`; one relaxed load when there are none).
    pub(crate) fn maybe_detached<T: Send, E: ToPyErr + Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce() -> Result<T, E> + Send,
    ) -> PyResult<T> {
        let result = if self.may_wait { py.detach(f) } else { f() };
        let value = result.map_err(ToPyErr::to_py)?;
        self.show_notices(py)?;
        Ok(value)
    }

    /// Background errors not yet shown, as `TelemetronWarning`s.
    pub(crate) fn show_notices(&self, py: Python<'_>) -> PyResult<()> {
        match self.runtime.take_notices() {
            Some(notices) => crate::errors::warn_all(py, notices),
            None => Ok(()),
        }
    }
}

#[pymethods]
impl PyRuntime {
    #[new]
    #[pyo3(signature = (exporters=None, plugins=None, config_file=None, settings=None, registry_layers=None))]
    fn new(
        py: Python<'_>,
        exporters: Option<&Bound<'_, PyList>>,
        plugins: Option<&Bound<'_, PyList>>,
        config_file: Option<PathBuf>,
        settings: Option<&Bound<'_, PyDict>>,
        registry_layers: Option<Vec<(String, Bound<'_, PyDict>)>>,
    ) -> PyResult<Self> {
        crate::errors::guarded(|| {
            let mut loader = ConfigLoader::new();
            if let Some(list) = exporters {
                let Value::Array(items) = to_json(list.as_any(), "exporters")? else {
                    unreachable!()
                };
                loader = loader.exporters(items);
            }
            if let Some(list) = plugins {
                let Value::Array(items) = to_json(list.as_any(), "plugins")? else {
                    unreachable!()
                };
                loader = loader.plugins(items);
            }
            if let Some(path) = config_file {
                loader = loader.config_file(path);
            }
            if let Some(settings) = settings {
                if let Value::Object(map) = to_json(settings.as_any(), "settings")? {
                    for (k, v) in map {
                        loader = loader.set(&k, v);
                    }
                }
            }
            for (name, layer) in registry_layers.unwrap_or_default() {
                if let Value::Object(map) = to_json(layer.as_any(), &name)? {
                    loader = loader.registry_layer(name, map);
                }
            }
            let loaded = loader.load().map_err(ToPyErr::to_py)?;
            crate::columns::MAX_VALUES_PER_CALL.store(
                loaded.settings.max_values_per_call,
                std::sync::atomic::Ordering::Relaxed,
            );
            // Exporters initialized at start (Metrana's handshake) may wait on the network.
            let runtime = py
                .detach(|| telemetron::start_loaded(&loaded))
                .map_err(ToPyErr::to_py)?;
            let mut config_warnings = loaded.warnings.clone();
            if crate::rendering::rendering_configured(&loaded.provenance) {
                if let Err(e) = crate::rendering::preload(py) {
                    config_warnings.push(format!(
                        "rendering settings are configured, but log_rendering will fail: {e}"
                    ));
                }
            }
            Ok(PyRuntime {
                may_wait: loaded.settings.backpressure == Backpressure::Block
                    || loaded.settings.enqueue_timeout_secs > 0.0,
                description: loaded.describe(),
                destinations: destinations(&loaded),
                config_warnings,
                runtime: ManuallyDrop::new(runtime),
                abandoned: AtomicBool::new(false),
                renderer: Default::default(),
                envs: Default::default(),
            })
        })
    }

    /// `start_time`: seconds since the epoch (default now).
    #[pyo3(signature = (name, parent=None, attributes=None, start_event_attributes=None, start_time=None))]
    fn start_span(
        &self,
        py: Python<'_>,
        name: String,
        parent: Option<SpanRef>,
        attributes: Option<&Bound<'_, PyDict>>,
        start_event_attributes: Option<&Bound<'_, PyDict>>,
        start_time: Option<f64>,
    ) -> PyResult<SpanRef> {
        crate::errors::guarded(|| {
            let attributes = to_attributes(attributes)?;
            let start_attrs = to_attributes(start_event_attributes)?;
            let parent = parent.map(|p| p.context());
            let time = timestamp_arg(start_time, "start_time")?;
            self.maybe_detached(py, || {
                self.runtime
                    .start_span_at(name, parent, attributes, start_attrs, time)
            })
            .map(SpanRef::from)
        })
    }

    /// `attributes` go on the stop event, `span_attributes` on the span; `stop_time` in
    /// seconds since the epoch (default now).
    #[pyo3(signature = (span, attributes=None, cancelled=false, span_attributes=None, stop_time=None))]
    fn stop_span(
        &self,
        py: Python<'_>,
        span: SpanRef,
        attributes: Option<&Bound<'_, PyDict>>,
        cancelled: bool,
        span_attributes: Option<&Bound<'_, PyDict>>,
        stop_time: Option<f64>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let attributes = to_attributes(attributes)?;
            let span_attributes = to_attributes(span_attributes)?;
            let time = timestamp_arg(stop_time, "stop_time")?;
            let status = if cancelled {
                SpanStatus::Cancelled
            } else {
                SpanStatus::Ok
            };
            self.maybe_detached(py, || {
                self.runtime
                    .stop_span_at(span.context(), status, attributes, span_attributes, time)
            })
        })
    }

    /// Adds attributes to a running span; exporters get them with its stop.
    fn update_span(
        &self,
        py: Python<'_>,
        span: SpanRef,
        attributes: &Bound<'_, PyDict>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let attributes = to_attributes(Some(attributes))?;
            self.maybe_detached(py, || self.runtime.update_span(span.context(), attributes))
        })
    }

    #[pyo3(signature = (span, name, attributes=None, time=None))]
    fn event(
        &self,
        py: Python<'_>,
        span: Option<SpanRef>,
        name: String,
        attributes: Option<&Bound<'_, PyDict>>,
        time: Option<f64>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let attributes = to_attributes(attributes)?;
            let time = timestamp_arg(time, "time")?;
            self.maybe_detached(py, || {
                self.runtime
                    .event_at(span.map(|s| s.context()), name, attributes, time)
            })
        })
    }

    /// A log record; `level` is a `logging` level (10 DEBUG ... 50 CRITICAL, 0..9 TRACE).
    #[pyo3(signature = (level, body, logger, span=None, attributes=None))]
    fn log(
        &self,
        py: Python<'_>,
        level: i64,
        body: String,
        logger: String,
        span: Option<SpanRef>,
        attributes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let attributes = to_attributes(attributes)?;
            let severity = Severity::from_python_level(level);
            self.maybe_detached(py, || {
                self.runtime.log(
                    severity,
                    body,
                    logger,
                    span.map(|s| s.context()),
                    attributes,
                )
            })
        })
    }

    #[pyo3(signature = (span, message, exception_type=None, exception_message=None, traceback=None, time=None))]
    #[allow(clippy::too_many_arguments)]
    fn error(
        &self,
        py: Python<'_>,
        span: Option<SpanRef>,
        message: String,
        exception_type: Option<String>,
        exception_message: Option<String>,
        traceback: Option<String>,
        time: Option<f64>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let info = ErrorInfo {
                message,
                exception_type,
                exception_message,
                traceback,
            };
            let time = timestamp_arg(time, "time")?;
            self.maybe_detached(py, || {
                self.runtime.error_at(span.map(|s| s.context()), info, time)
            })
        })
    }

    fn telemetry_data_error(&self, py: Python<'_>, kind: &str, message: String) -> PyResult<()> {
        crate::errors::guarded(|| {
            let kind = match kind {
            "no_telemetry_data" => TelemetryDataErrorKind::NoTelemetryData,
            "incomplete_telemetry_data" => TelemetryDataErrorKind::IncompleteTelemetryData,
            other => {
                return Err(ValidationError::new_err(format!(
                    "telemetry data error kind must be 'no_telemetry_data' or 'incomplete_telemetry_data', got {other:?}"
                )))
            }
        };
            self.maybe_detached(py, || self.runtime.telemetry_data_error(kind, message))
        })
    }

    /// Waits (without the GIL) until everything recorded so far is exported and flushed.
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        crate::errors::guarded(|| {
            crate::python_exporter::refuse_from_exporter("flush")?;
            let timeout = secs(timeout)?;
            py.detach(|| self.runtime.flush(timeout))
                .map_err(ToPyErr::to_py)
        })
    }

    /// Closes (without the GIL) and returns the close report as a dict, with the renderer's
    /// counters under `rendering`.
    fn close<'py>(&self, py: Python<'py>, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        crate::errors::guarded(|| {
            crate::python_exporter::refuse_from_exporter("shutdown")?;
            let timeout = secs(timeout)?;
            let report = py
                .detach(|| self.runtime.close(timeout))
                .map_err(ToPyErr::to_py)?;
            let report = report_to_python(py, &report)?;
            // The renderer's final counters (None when nothing was rendered).
            report.set_item("rendering", self.renderer.metrics(py)?)?;
            Ok(report)
        })
    }

    /// Copies an environment frame and queues it for H.264 encoding (see `telemetron.log_rendering`).
    #[pyo3(signature = (frame, rl_step, episode, env_id=None))]
    fn log_rendering(
        &self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        rl_step: i128,
        episode: i128,
        env_id: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        crate::errors::guarded(|| {
            self.renderer
                .log(py, &self.runtime, frame, rl_step, episode, env_id)
        })
    }

    /// The renderer's counters, or None before the first `log_rendering`.
    fn rendering_metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.renderer.metrics(py)
    }

    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        report_to_python(py, &self.runtime.metrics())
    }

    fn exporter_health<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        report_to_python(py, &self.runtime.exporter_health())
    }

    /// The effective configuration with the source of every value (secrets redacted).
    fn describe_config(&self) -> String {
        self.description.clone()
    }

    /// Where each enabled exporter sends its records, one line each.
    #[getter]
    fn destinations(&self) -> Vec<String> {
        self.destinations.clone()
    }

    /// What the config loader noticed but did not refuse (a misspelled `TELEMETRON_*`
    /// variable, with the closest known name).
    #[getter]
    fn config_warnings(&self) -> Vec<String> {
        self.config_warnings.clone()
    }

    #[getter]
    fn run_name(&self) -> String {
        self.runtime.run().run_name.clone()
    }

    /// The job's orchestration id (shared by every process of a distributed run).
    #[getter]
    fn orchestration_id(&self) -> String {
        self.runtime.run().orchestration_id.clone()
    }

    /// This writer's id.
    #[getter]
    fn logger_id(&self) -> u64 {
        self.runtime.run().logger_id
    }

    /// After `fork()`, in the child: this runtime's threads do not exist here, so it must
    /// never be closed (that would wait for nobody until the timeout). It is leaked instead.
    fn abandon(&self) {
        self.abandoned.store(true, Ordering::Release);
    }
}

impl Drop for PyRuntime {
    fn drop(&mut self) {
        if self.abandoned.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: `runtime` is taken once, here, and never used again.
        let runtime = unsafe { ManuallyDrop::take(&mut self.runtime) };
        // Closing waits for the exporters, and a Python exporter needs the GIL to finish.
        Python::attach(|py| py.detach(move || drop(runtime)));
    }
}

/// "file telemetron-out/run.jsonl", "otlp", ...: for telling a user
/// where an implicitly started runtime writes.
fn destinations(loaded: &telemetron::LoadedConfig) -> Vec<String> {
    loaded
        .exporters
        .iter()
        .filter(|e| e.spec.enabled)
        .map(|e| {
            let spec = &e.spec;
            // Network endpoints may carry credentials: only file paths are spelled out.
            let place = (spec.type_name == "file")
                .then(|| {
                    serde_json::from_value::<telemetron::FileExporterConfig>(Value::Object(
                        spec.options.clone(),
                    ))
                    .ok()
                })
                .flatten()
                .map(|c| c.resolved_path(&loaded.run.run_name).display().to_string());
            match place {
                Some(place) => format!("{} {place}", spec.type_name),
                None => spec.type_name.clone(),
            }
        })
        .collect()
}

fn secs(timeout: f64) -> PyResult<Duration> {
    if timeout.is_finite() && timeout >= 0.0 {
        Ok(Duration::from_secs_f64(timeout))
    } else {
        Err(ValidationError::new_err(format!(
            "timeout must be a finite number of seconds >= 0, got {timeout}"
        )))
    }
}

/// The registered exporter types.
#[pyfunction]
pub(crate) fn exporter_types() -> Vec<&'static str> {
    telemetron::plugins::exporter_types()
}
