//! Per-exporter health: failures, success, the telemetry-data-error flag, disabling.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;
use serde::Serialize;

use crate::exporter::ExportError;
use crate::model::TelemetryDataErrorKind;

/// A snapshot of one exporter's health, as `Runtime::exporter_health()` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExporterHealth {
    /// Instance name, e.g. `file` or `file#2`.
    pub name: String,
    /// Exporter type, e.g. `file`.
    pub exporter_type: String,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Failures in all.
    pub total_failures: u32,
    /// Whether any batch was ever exported successfully.
    pub ever_succeeded: bool,
    /// Whether this exporter was already sent its one telemetry data error.
    pub telemetry_data_error_sent: bool,
    /// Panics caught in this exporter (each followed by a rebuild).
    pub panics: u32,
    /// Why it was disabled, if it was. A disabled exporter receives nothing more but `close`.
    pub disabled: Option<String>,
    /// The most recent failure.
    pub last_error: Option<String>,
    /// Records handed to it and not yet exported, failed or dropped (mailbox, queue, in flight).
    pub queued: u64,
}

/// Limits after which an exporter is disabled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HealthLimits {
    pub max_consecutive_failures: u32,
    pub max_total_failures: u32,
}

/// What the exporter actor must do after a failure.
#[derive(Debug, Default)]
pub(crate) struct FailureOutcome {
    /// Send the exporter its telemetry data error of this kind (first failure only).
    pub telemetry_data_error: Option<TelemetryDataErrorKind>,
    /// Disable the exporter, for this reason.
    pub disable: Option<String>,
}

/// Shared between the exporter actor (writer), the Recorder (reads `is_disabled`) and handles.
pub(crate) struct HealthCell {
    state: Mutex<ExporterHealth>,
    disabled: AtomicBool,
    queued: AtomicU64,
}

impl HealthCell {
    pub(crate) fn new(name: &str, exporter_type: &str) -> Self {
        HealthCell {
            state: Mutex::new(ExporterHealth {
                name: name.to_string(),
                exporter_type: exporter_type.to_string(),
                consecutive_failures: 0,
                total_failures: 0,
                ever_succeeded: false,
                telemetry_data_error_sent: false,
                panics: 0,
                disabled: None,
                last_error: None,
                queued: 0,
            }),
            disabled: AtomicBool::new(false),
            queued: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_disabled(&self) -> bool {
        self.disabled.load(Ordering::Acquire)
    }

    /// The Recorder reserves room for records as it hands them over...
    pub(crate) fn add_queued(&self, n: usize) {
        self.queued.fetch_add(n as u64, Ordering::AcqRel);
    }

    /// ...and the exporter actor releases it when they are exported, failed or dropped.
    pub(crate) fn sub_queued(&self, n: usize) {
        self.queued.fetch_sub(n as u64, Ordering::AcqRel);
    }

    pub(crate) fn queued(&self) -> u64 {
        self.queued.load(Ordering::Acquire)
    }

    pub(crate) fn record_success(&self) {
        let mut s = self.state.lock();
        s.consecutive_failures = 0;
        s.ever_succeeded = true;
    }

    /// Enables a disabled exporter again (its spool's probe reached the backend); returns why
    /// it was disabled, if it was.
    pub(crate) fn enable(&self) -> Option<String> {
        if !self.is_disabled() {
            return None;
        }
        let mut s = self.state.lock();
        s.consecutive_failures = 0;
        self.disabled.store(false, Ordering::Release);
        s.disabled.take()
    }

    pub(crate) fn record_panic(&self) {
        self.state.lock().panics += 1;
    }

    /// Marks the one telemetry data error as sent (by any path); false if it already was.
    pub(crate) fn claim_telemetry_data_error(&self) -> bool {
        let mut s = self.state.lock();
        !std::mem::replace(&mut s.telemetry_data_error_sent, true)
    }

    pub(crate) fn record_failure(&self, err: &ExportError, limits: HealthLimits) -> FailureOutcome {
        let mut s = self.state.lock();
        s.consecutive_failures += 1;
        s.total_failures += 1;
        // Backend errors may quote URLs with credentials or a declared secret.
        let err = crate::redact::redact_text(&err.to_string());
        s.last_error = Some(err.clone());
        let mut outcome = FailureOutcome::default();
        if !s.telemetry_data_error_sent {
            s.telemetry_data_error_sent = true;
            outcome.telemetry_data_error = Some(if s.ever_succeeded {
                TelemetryDataErrorKind::IncompleteTelemetryData
            } else {
                TelemetryDataErrorKind::NoTelemetryData
            });
        }
        if s.disabled.is_none() {
            let reason = if s.consecutive_failures >= limits.max_consecutive_failures {
                Some(format!(
                    "{} consecutive failures (limit {}); last error: {err}",
                    s.consecutive_failures, limits.max_consecutive_failures
                ))
            } else if s.total_failures >= limits.max_total_failures {
                Some(format!(
                    "{} failures in all (limit {}); last error: {err}",
                    s.total_failures, limits.max_total_failures
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                s.disabled = Some(reason.clone());
                self.disabled.store(true, Ordering::Release);
                outcome.disable = Some(reason);
            }
        }
        outcome
    }

    pub(crate) fn snapshot(&self) -> ExporterHealth {
        let mut s = self.state.lock().clone();
        s.queued = self.queued();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> HealthLimits {
        HealthLimits {
            max_consecutive_failures: 3,
            max_total_failures: 4,
        }
    }

    #[test]
    fn first_failure_asks_for_one_telemetry_data_error() {
        let cell = HealthCell::new("x", "test");
        let err = ExportError::failed("boom");
        let first = cell.record_failure(&err, limits());
        assert_eq!(
            first.telemetry_data_error,
            Some(TelemetryDataErrorKind::NoTelemetryData)
        );
        assert!(cell
            .record_failure(&err, limits())
            .telemetry_data_error
            .is_none());
    }

    #[test]
    fn incomplete_after_a_success_and_disabled_at_the_consecutive_limit() {
        let cell = HealthCell::new("x", "test");
        cell.record_success();
        let err = ExportError::failed("boom");
        let first = cell.record_failure(&err, limits());
        assert_eq!(
            first.telemetry_data_error,
            Some(TelemetryDataErrorKind::IncompleteTelemetryData)
        );
        assert!(cell.record_failure(&err, limits()).disable.is_none());
        let third = cell.record_failure(&err, limits());
        assert!(third.disable.unwrap().contains("3 consecutive failures"));
        assert!(cell.is_disabled());
    }

    #[test]
    fn total_cap_disables_even_with_successes_between() {
        let cell = HealthCell::new("x", "test");
        let err = ExportError::failed("boom");
        for _ in 0..3 {
            assert!(cell.record_failure(&err, limits()).disable.is_none());
            cell.record_success();
        }
        let fourth = cell.record_failure(&err, limits());
        assert!(fourth.disable.unwrap().contains("4 failures in all"));
    }
}
