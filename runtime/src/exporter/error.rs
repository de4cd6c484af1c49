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
    /// The exporter gave up at its deadline (`close(timeout)`), with what it could not finish.
    #[error("{0} (gave up at the deadline)")]
    DeadlinePassed(String),
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

    /// Gave up at the deadline with what was left undone.
    pub fn deadline_passed(message: impl Into<String>) -> Self {
        ExportError::DeadlinePassed(message.into())
    }

    /// Whether the exporter ran out of time (rather than failing).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            ExportError::TimedOut(_) | ExportError::DeadlinePassed(_)
        )
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

/// `err` followed by each of its causes, joined by `: ` (a cause whose text its parent already
/// shows is skipped): `error sending request: client error (Connect): invalid peer certificate:
/// UnknownIssuer` rather than reqwest's bare `error sending request`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    with_causes(err.to_string(), err.source())
}

/// `message` followed by `cause` and its own causes, each only if `message` does not show it
/// already (see [`error_chain`]).
pub fn with_causes(message: String, cause: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut out = message;
    let mut cause = cause;
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = e.source();
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let err = Layer(
            "error sending request",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "client error (Connect)",
                    Some(Box::new(Layer(
                        "invalid peer certificate: UnknownIssuer",
                        None,
                    ))),
                ))),
            ))),
        );
        assert_eq!(
            error_chain(&err),
            "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer"
        );
    }
}
