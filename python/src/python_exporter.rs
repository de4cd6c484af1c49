//! `type: python`: an exporter class written in Python (`class: "pkg.module:ClassName"`, or the
//! name of an entry point in the `telemetron.exporters` group). It runs on the exporter's own
//! runtime thread and takes the GIL only there, once per batch.
//!
//! `type: onelogger` is the same machinery around `telemetron.onelogger`'s adapter, which runs
//! an existing OneLogger exporter class (`class: "pkg.module:TheirExporter"`).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};
use telemetron::model::{ErrorRecord, Event, Record, SpanStart, SpanStop, TelemetryDataError};
use telemetron::plugins::{BuildContext, ExporterRegistration, RegistryError};
use telemetron::{ExportError, Exporter, ExporterContext, ExporterFactory, RecordBatch};

use crate::convert::to_python;
use crate::records::to_py_record;

thread_local! {
    /// Set while this thread runs a Python exporter's method: a call from there back into
    /// `flush`, `shutdown` or `configure` would wait for this very thread.
    static IN_EXPORTER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Refuses, at once, a call that would wait for the exporter thread it is made from.
#[pyfunction]
pub(crate) fn refuse_from_exporter(what: &str) -> PyResult<()> {
    if IN_EXPORTER.with(std::cell::Cell::get) {
        return Err(crate::errors::TelemetronError::new_err(format!(
            "telemetron.{what}() was called from inside an exporter: it would wait for the \
             exporter's own thread (a deadlock); call it from the application instead"
        )));
    }
    Ok(())
}

/// The Python thread idents of the exporter threads inside a Python exporter's method now.
static INSIDE: parking_lot::Mutex<Vec<std::ffi::c_ulong>> = parking_lot::Mutex::new(Vec::new());

/// Runs `f` (which calls into a Python exporter) with `IN_EXPORTER` set and this thread listed
/// in `INSIDE`.
fn in_exporter<T>(f: impl FnOnce() -> T) -> T {
    struct Leave(std::ffi::c_ulong);
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_EXPORTER.with(|c| c.set(false));
            let mut inside = INSIDE.lock();
            if let Some(at) = inside.iter().position(|&t| t == self.0) {
                inside.swap_remove(at);
            }
        }
    }
    IN_EXPORTER.with(|c| c.set(true));
    // SAFETY: a plain getter of the calling thread's id (the GIL is not needed).
    let ident = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
    INSIDE.lock().push(ident);
    let _leave = Leave(ident);
    f()
}

/// How many exporter threads are inside a Python exporter's method now.
#[pyfunction]
pub(crate) fn exporters_inside() -> usize {
    INSIDE.lock().len()
}

/// Raises `ExporterAbandoned` in every exporter thread inside a Python exporter's method (one
/// stuck in a loop past the shutdown deadline), so that it leaves Python before the
/// interpreter finalizes: a runtime thread still running Python code then would abort the
/// process. Returns how many threads were told. (A thread blocked in C code sees it when it
/// returns to Python.)
#[pyfunction]
pub(crate) fn interrupt_exporters(py: Python<'_>) -> usize {
    let exception = py.get_type::<crate::errors::ExporterAbandoned>();
    let inside = INSIDE.lock().clone();
    for &ident in &inside {
        // SAFETY: the GIL is held; the exception type is a live class object.
        unsafe {
            pyo3::ffi::PyThreadState_SetAsyncExc(ident as std::ffi::c_long, exception.as_ptr());
        }
    }
    inside.len()
}

struct PythonExporter {
    class: Arc<Py<PyAny>>,
    kwargs: Map<String, Value>,
    instance: Option<Py<PyAny>>,
}

fn describe(py: Python<'_>, err: PyErr) -> ExportError {
    let type_name = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    ExportError::failed(format!("{type_name}: {}", err.value(py)))
}

impl PythonExporter {
    /// Calls the method for each record's kind, taking the GIL once for all of them.
    fn call<'a>(&mut self, records: impl Iterator<Item = &'a Record>) -> Result<(), ExportError> {
        in_exporter(|| {
            Python::attach(|py| {
                let instance = self
                    .instance
                    .as_ref()
                    .ok_or_else(|| ExportError::failed("python exporter used before initialize"))?
                    .bind(py);
                for record in records {
                    // Renderings and logs are newer than the exporter interface: classes written
                    // before them (without the method) keep working.
                    let method = method_for(record);
                    if matches!(
                        record,
                        Record::Rendering(_)
                            | Record::Log(_)
                            | Record::Metric(_)
                            | Record::Scalar(_)
                            | Record::Attributes(_)
                            | Record::Rl(_)
                            | Record::Histogram(_)
                            | Record::Scatter(_)
                    ) && !instance.hasattr(method).unwrap_or(false)
                    {
                        continue;
                    }
                    let dict = to_py_record(py, record).map_err(|e| describe(py, e))?;
                    instance
                        .call_method1(method, (dict,))
                        .map_err(|e| describe(py, e))?;
                }
                Ok(())
            })
        })
    }

    fn one(&mut self, record: Record) -> Result<(), ExportError> {
        self.call(std::iter::once(&record))
    }
}

fn method_for(record: &Record) -> &'static str {
    match record {
        Record::SpanStart(_) => "export_start",
        Record::SpanStop(_) => "export_stop",
        Record::Event(_) => "export_event",
        Record::Error(_) => "export_error",
        Record::TelemetryDataError(_) => "export_telemetry_data_error",
        Record::Rendering(_) => "export_rendering",
        Record::Log(_) => "export_log",
        Record::Metric(_) | Record::Scalar(_) => "export_metric",
        Record::Attributes(_) => "export_attributes",
        Record::Rl(_) => "export_rl_metric",
        Record::Histogram(_) => "export_histogram",
        Record::Scatter(_) => "export_scatter",
        _ => "export_event",
    }
}

impl Exporter for PythonExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        in_exporter(|| {
            Python::attach(|py| {
                let kwargs = PyDict::new(py);
                for (k, v) in &self.kwargs {
                    kwargs
                        .set_item(k, to_python(py, v).map_err(|e| describe(py, e))?)
                        .map_err(|e| describe(py, e))?;
                }
                let instance = self
                    .class
                    .bind(py)
                    .call((), Some(&kwargs))
                    .map_err(|e| describe(py, e))?;
                let context = PyDict::new(py);
                let fill = || -> PyResult<()> {
                    context.set_item("name", &ctx.name)?;
                    context.set_item("run_name", &ctx.run.run_name)?;
                    context.set_item("restarts", ctx.restarts)
                };
                fill().map_err(|e| describe(py, e))?;
                instance
                    .call_method1("initialize", (context,))
                    .map_err(|e| ExportError::failed(format!("initialize: {}", describe(py, e))))?;
                self.instance = Some(instance.unbind());
                Ok(())
            })
        })
    }

    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.one(Record::SpanStart(Box::new(span.clone())))
    }

    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.one(Record::SpanStop(Box::new(span.clone())))
    }

    fn export_event(&mut self, event: &Event) -> Result<(), ExportError> {
        self.one(Record::Event(Box::new(event.clone())))
    }

    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.one(Record::Error(Box::new(error.clone())))
    }

    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.one(Record::from(error.clone()))
    }

    /// One GIL acquisition per batch.
    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.call(batch.iter())
    }

    fn close(&mut self) -> Result<(), ExportError> {
        let Some(instance) = self.instance.take() else {
            return Ok(());
        };
        in_exporter(|| {
            Python::attach(|py| {
                instance
                    .bind(py)
                    .call_method0("close")
                    .map(drop)
                    .map_err(|e| describe(py, e))
            })
        })
    }
}

impl Drop for PythonExporter {
    fn drop(&mut self) {
        // Python objects are released with the GIL held.
        if let Some(instance) = self.instance.take() {
            Python::attach(|_py| drop(instance));
        }
    }
}

fn build(
    options: &Map<String, Value>,
    _ctx: &BuildContext<'_>,
) -> Result<ExporterFactory, RegistryError> {
    let invalid = |reason: String| RegistryError::InvalidOptions {
        kind: "exporter",
        name: "python".into(),
        reason,
    };
    let path = match options.get("class") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(invalid("`class` must name the exporter class as \"pkg.module:ClassName\" or an entry point of the telemetron.exporters group".into())),
    };
    let class = Python::attach(|py| -> Result<Py<PyAny>, RegistryError> {
        let registry = py.import("telemetron._registry").map_err(|e| {
            invalid(format!(
                "cannot import telemetron._registry: {}",
                e.value(py)
            ))
        })?;
        let class = registry
            .call_method1("resolve_exporter_class", (path.as_str(),))
            .map_err(|e| invalid(format!("cannot load class {path:?}: {}", e.value(py))))?;
        registry
            .call_method1("check_exporter_class", (&class,))
            .map_err(|e| invalid(format!("class {path:?}: {}", e.value(py))))?;
        Ok(class.unbind())
    })?;
    Ok(factory(class, without_class(options)))
}

fn without_class(options: &Map<String, Value>) -> Map<String, Value> {
    options
        .iter()
        .filter(|(k, _)| k.as_str() != "class")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Instances of `class(**kwargs)`, built on the exporter's thread.
fn factory(class: Py<PyAny>, kwargs: Map<String, Value>) -> ExporterFactory {
    let class = Arc::new(class);
    Arc::new(move || {
        Box::new(PythonExporter {
            class: class.clone(),
            kwargs: kwargs.clone(),
            instance: None,
        })
    })
}

/// `type: onelogger`: checks the OneLogger class now (a missing `nv-one-logger-core` or a wrong
/// class is a configuration error) and runs it through `telemetron.onelogger`'s adapter.
fn build_onelogger(
    options: &Map<String, Value>,
    _ctx: &BuildContext<'_>,
) -> Result<ExporterFactory, RegistryError> {
    let invalid = |reason: String| RegistryError::InvalidOptions {
        kind: "exporter",
        name: "onelogger".into(),
        reason,
    };
    let path = match options.get("class") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(invalid(
                "`class` must name a OneLogger exporter class as \"pkg.module:ClassName\"".into(),
            ))
        }
    };
    let adapter = Python::attach(|py| -> PyResult<Py<PyAny>> {
        Ok(py
            .import("telemetron.onelogger")?
            .call_method1("adapter_for", (path.as_str(),))?
            .unbind())
    })
    .map_err(|e| {
        Python::attach(|py| {
            invalid(format!(
                "cannot run OneLogger exporter {path:?}: {}",
                e.value(py)
            ))
        })
    })?;
    let mut kwargs = without_class(options);
    kwargs.insert("exporter_class".into(), Value::String(path));
    Ok(factory(adapter, kwargs))
}

/// The options a Python exporter class names in its `secret_options` attribute: redacted in
/// `config show`, reports and messages like the built-in exporters' secrets.
fn secret_options(options: &Map<String, Value>) -> Vec<String> {
    let Some(Value::String(path)) = options.get("class") else {
        return Vec::new();
    };
    Python::attach(|py| -> PyResult<Vec<String>> {
        py.import("telemetron._registry")?
            .call_method1("resolve_exporter_class", (path.as_str(),))?
            .getattr("secret_options")?
            .extract()
    })
    .unwrap_or_default()
}

telemetron::plugins::inventory::submit! {
    telemetron::plugins::SecretOptionsRegistration {
        type_name: "python",
        secret_options,
    }
}

telemetron::plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "python",
        description: "an exporter class written in Python (class: \"pkg.module:ClassName\")",
        secret_keys: &[],
        build,
    }
}

telemetron::plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "onelogger",
        description: "a NVIDIA OneLogger exporter class (class: \"pkg.module:ClassName\"; needs nv-one-logger-core)",
        // Keyword arguments a W&B-style exporter may take: never shown by `config show`.
        secret_keys: &["api_key", "token", "password"],
        build: build_onelogger,
    }
}
