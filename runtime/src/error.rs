//! Errors of the runtime's public API.

use thiserror::Error;

use crate::model::AttributeError;
use crate::report::CloseReport;

/// Why a recording call did not record.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EnqueueError {
    /// `raise` backpressure: the ingest queue stayed full for the whole enqueue timeout.
    #[error(
        "ingest queue full ({capacity} records) for the whole enqueue timeout; record dropped"
    )]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The input was invalid; nothing was recorded.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid (`span name`, `event name`, ...).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An attribute was invalid; nothing was recorded.
    #[error(transparent)]
    Attribute(#[from] AttributeError),
    /// The runtime is closed.
    #[error("the runtime is closed")]
    Closed,
    /// `raise_on_log`: errors happened in the background since the last call.
    #[error("background telemetry errors: {}", .0.join("; "))]
    Background(Vec<String>),
    /// `delivery_policy: all_or_crash`: a batch could be neither delivered nor spooled; the
    /// runtime records nothing more.
    #[error("telemetry delivery stopped (delivery_policy all_or_crash): {0}")]
    Undeliverable(String),
}

impl EnqueueError {
    /// Invalid input named `what`.
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        EnqueueError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Why the runtime did not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// Two exporters share a name.
    #[error("two exporters are named {0:?}; exporter names must be unique")]
    DuplicateExporter(String),
    /// An exporter initialized at start (e.g. Metrana's handshake) failed.
    #[error("exporter {name}: {message}")]
    Exporter {
        /// The exporter's instance name.
        name: String,
        /// Why.
        message: String,
    },
    /// A disk spool that must be there (an explicit `spool_dir`, or an offline run) cannot be
    /// used.
    #[error("spool: {0}")]
    Spool(String),
    /// The runtime's threads could not be started.
    #[error("could not start the runtime's threads: {0}")]
    Threads(String),
}

/// Why `close` reports failure.
#[derive(Debug, Error)]
pub enum ShutdownError {
    /// The runtime was closed before.
    #[error("the runtime is already closed")]
    AlreadyClosed,
    /// `raise_on_close`: background errors happened during the run. The report says what.
    #[error("{} background telemetry errors during the run; first: {}", .0.background_errors.len(),
        .0.background_errors.first().map(String::as_str).unwrap_or(""))]
    BackgroundErrors(Box<CloseReport>),
    /// `delivery_policy: all_or_crash`: a batch could be neither delivered nor spooled. The
    /// runtime is closed; the report says what was lost.
    #[error("telemetry delivery stopped (delivery_policy all_or_crash): {1}")]
    Undeliverable(Box<CloseReport>, String),
}
