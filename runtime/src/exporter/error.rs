//! What an exporter reports when a call fails.

use thiserror::Error;

/// An export failure. The exporter actor decides from [`ExportError::is_retryable`] alone
/// whether to send the same batch again.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// Transient (connection refused, timeout, 503): worth retrying.
    #[error("{0} (retryable)")]
    Retryable(String),
    /// Transient, and the backend asked to wait this long first (HTTP `Retry-After`, gRPC
    /// `RetryInfo`). The wrapper waits at least this long, at most `retry_max_backoff_secs`.
    #[error("{0} (retryable after {1:?})")]
    RetryAfter(String, std::time::Duration),
    /// Permanent for this batch (bad data, unwritable path, auth refused).
    #[error("{0}")]
    Failed(String),
    /// The exporter panicked; it is rebuilt from its factory.
    #[error("exporter panicked: {0}")]
    Panicked(String),
    /// The exporter did not answer within the deadline.
    #[error("exporter did not answer within {0:?}")]
    TimedOut(std::time::Duration),
}

impl ExportError {
    /// A transient failure.
    pub fn retryable(message: impl Into<String>) -> Self {
        ExportError::Retryable(message.into())
    }

    /// A permanent failure.
    pub fn failed(message: impl Into<String>) -> Self {
        ExportError::Failed(message.into())
    }

    /// A transient failure the backend asked to retry after `delay`.
    pub fn retry_after(message: impl Into<String>, delay: std::time::Duration) -> Self {
        ExportError::RetryAfter(message.into(), delay)
    }

    /// Whether the wrapper should retry the batch.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ExportError::Retryable(_) | ExportError::RetryAfter(..)
        )
    }

    /// The delay the backend asked for, if any.
    pub fn requested_delay(&self) -> Option<std::time::Duration> {
        match self {
            ExportError::RetryAfter(_, delay) => Some(*delay),
            _ => None,
        }
    }
}

impl From<std::io::Error> for ExportError {
    fn from(err: std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        match err.kind() {
            Interrupted | WouldBlock | TimedOut | StorageFull => {
                ExportError::Retryable(err.to_string())
            }
            _ => ExportError::Failed(err.to_string()),
        }
    }
}
