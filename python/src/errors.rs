//! The exception hierarchy and the one Rust → Python error mapping.

use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyUserWarning};
use pyo3::prelude::*;
use telemetron as rs;

create_exception!(
    telemetron,
    TelemetronError,
    PyException,
    "Root of every Telemetron error."
);
create_exception!(
    telemetron,
    ConfigError,
    TelemetronError,
    "The configuration is wrong."
);
create_exception!(
    telemetron,
    EnqueueError,
    TelemetronError,
    "A recording call did not record."
);
create_exception!(
    telemetron,
    QueueFullError,
    EnqueueError,
    "`raise` backpressure: the queue stayed full."
);
create_exception!(
    telemetron,
    ValidationError,
    EnqueueError,
    "Invalid input; nothing was recorded."
);
create_exception!(
    telemetron,
    ExporterError,
    TelemetronError,
    "An exporter failed (background errors)."
);
create_exception!(
    telemetron,
    ShutdownError,
    TelemetronError,
    "Shutting down failed or already happened."
);

create_exception!(
    telemetron,
    TelemetronWarning,
    PyUserWarning,
    "Something went wrong in the background (an exporter failed or was disabled, records were dropped); shown under error_strategy='warn'."
);

create_exception!(
    telemetron,
    ExporterAbandoned,
    pyo3::exceptions::PyBaseException,
    "Raised inside a Python exporter's method that was still running after shutdown gave up on it (a BaseException, so `except Exception` does not swallow it)."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ExporterAbandoned", py.get_type::<ExporterAbandoned>())?;
    quiet_panics();
    m.add("TelemetronWarning", py.get_type::<TelemetronWarning>())?;
    m.add("TelemetronError", py.get_type::<TelemetronError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("EnqueueError", py.get_type::<EnqueueError>())?;
    m.add("QueueFullError", py.get_type::<QueueFullError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("ExporterError", py.get_type::<ExporterError>())?;
    m.add("ShutdownError", py.get_type::<ShutdownError>())?;
    Ok(())
}

/// Runs a binding's body so that a panic (a bug) becomes a `TelemetronError` instead of
/// pyo3's `PanicException`, which derives from `BaseException` and would get past a
/// training loop's `except Exception`.
#[inline]
pub(crate) fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(TelemetronError::new_err(format!(
            "internal error in telemetron ({message}); the call recorded nothing. Please report \
             it; set RUST_BACKTRACE=1 to print where it happened"
        )))
    })
}

/// Panics are turned into Python exceptions at the binding boundary and into background
/// errors in the runtime's threads: neither prints Rust's panic message on the user's stderr
/// unless `RUST_BACKTRACE` asks for it.
fn quiet_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
    }));
}

/// Shows background errors as `TelemetronWarning`s attributed to the caller's line.
pub(crate) fn warn_all(py: Python<'_>, messages: Vec<String>) -> PyResult<()> {
    let category = py.get_type::<TelemetronWarning>();
    for message in messages {
        let text = CString::new(message.replace('\0', " "))
            .unwrap_or_else(|_| CString::from(c"telemetron: background error"));
        PyErr::warn(py, category.as_any(), &text, 2)?;
    }
    Ok(())
}

/// A `ValidationError` "invalid <what>: <reason>", naming the argument.
pub(crate) fn invalid(what: &str, reason: impl std::fmt::Display) -> PyErr {
    ValidationError::new_err(format!("invalid {what}: {reason}"))
}

/// Every Rust error that reaches Python goes through here.
pub(crate) trait ToPyErr {
    fn to_py(self) -> PyErr;
}

impl ToPyErr for rs::EnqueueError {
    fn to_py(self) -> PyErr {
        let message = self.to_string();
        match self {
            rs::EnqueueError::QueueFull { .. } => QueueFullError::new_err(message),
            rs::EnqueueError::Invalid { .. } | rs::EnqueueError::Attribute(_) => {
                ValidationError::new_err(message)
            }
            rs::EnqueueError::Closed => ShutdownError::new_err(message),
            rs::EnqueueError::Background(_) | rs::EnqueueError::Undeliverable(_) => {
                ExporterError::new_err(message)
            }
        }
    }
}

impl ToPyErr for rs::TelemetronError {
    fn to_py(self) -> PyErr {
        match self {
            rs::TelemetronError::Config(e) => e.to_py(),
            rs::TelemetronError::Start(e) => e.to_py(),
        }
    }
}

impl ToPyErr for rs::ConfigError {
    fn to_py(self) -> PyErr {
        ConfigError::new_err(self.to_string())
    }
}

impl ToPyErr for rs::StartError {
    fn to_py(self) -> PyErr {
        match self {
            rs::StartError::Exporter { .. } => ExporterError::new_err(self.to_string()),
            _ => ConfigError::new_err(self.to_string()),
        }
    }
}

impl ToPyErr for rs::ShutdownError {
    fn to_py(self) -> PyErr {
        match self {
            rs::ShutdownError::BackgroundErrors(_) | rs::ShutdownError::Undeliverable(..) => {
                ExporterError::new_err(self.to_string())
            }
            _ => ShutdownError::new_err(self.to_string()),
        }
    }
}

impl ToPyErr for rs::FlushError {
    fn to_py(self) -> PyErr {
        match self {
            rs::FlushError::Closed => ShutdownError::new_err(self.to_string()),
            _ => ExporterError::new_err(self.to_string()),
        }
    }
}

impl ToPyErr for rs::model::AttributeError {
    fn to_py(self) -> PyErr {
        ValidationError::new_err(self.to_string())
    }
}
