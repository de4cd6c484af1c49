//! The exception hierarchy and the one Rust → Python error mapping.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
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

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("TelemetronError", py.get_type::<TelemetronError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("EnqueueError", py.get_type::<EnqueueError>())?;
    m.add("QueueFullError", py.get_type::<QueueFullError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("ExporterError", py.get_type::<ExporterError>())?;
    m.add("ShutdownError", py.get_type::<ShutdownError>())?;
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
            rs::EnqueueError::Background(_) => ExporterError::new_err(message),
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
            rs::ShutdownError::BackgroundErrors(_) => ExporterError::new_err(self.to_string()),
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
