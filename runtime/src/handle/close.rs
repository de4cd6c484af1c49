//! `flush` and `close`: control messages that travel the ingest queue behind the records.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Inner, Runtime};
use crate::actors::recorder::{CloseRecorder, FlushRecorder};
use crate::error::ShutdownError;
use crate::ingest::IngestItem;
use crate::redact::redact_text;
use crate::report::{CloseReport, ExporterLosses, Spooled, Undelivered};
use crate::settings::ErrorStrategy;

/// Extra time for the runtime's threads to wind down after the deadline before they are left.
const THREAD_GRACE: Duration = Duration::from_millis(500);
/// The Recorder answers at its deadline; allow for the hop back.
const REPLY_GRACE: Duration = Duration::from_millis(50);

/// Why a flush did not complete.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FlushError {
    /// Some exporters failed or did not finish in time.
    #[error("flush incomplete: {}", .0.iter().map(|(n, e)| format!("{n}: {e}")).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<(String, String)>),
    /// The runtime is closed.
    #[error("the runtime is closed")]
    Closed,
    /// `delivery_policy: all_or_crash`: a batch could be neither delivered nor spooled.
    #[error("telemetry delivery stopped (delivery_policy all_or_crash): {0}")]
    Undeliverable(String),
}

impl Runtime {
    /// Exports everything recorded before this call and flushes every exporter, waiting at most
    /// `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Err(FlushError::Closed);
        }
        if let Some(reason) = inner.shared.background.fatal() {
            return Err(FlushError::Undeliverable(reason));
        }
        let deadline = Instant::now() + timeout;
        // Components first: what they finish (encoded frames) is part of "recorded so far".
        let components = inner.components.lock().clone();
        let mut failures: Vec<(String, String)> = components
            .iter()
            .filter_map(|c| c.flush(deadline).err().map(|e| (c.name().to_string(), e)))
            .collect();
        match inner.control(deadline, |reply| {
            IngestItem::Flush(FlushRecorder { reply, deadline })
        }) {
            Ok(exporters) => failures.extend(exporters),
            Err(why) => failures.push(("runtime".into(), why.into())),
        }
        if let Some(reason) = inner.shared.background.fatal() {
            return Err(FlushError::Undeliverable(reason));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(FlushError::Incomplete(
                failures
                    .into_iter()
                    .map(|(name, why)| (name, redact_text(&why)))
                    .collect(),
            ))
        }
    }

    /// Delivers everything enqueued, stops open spans, closes every exporter in parallel, and
    /// returns what was not delivered. Returns within `timeout` (plus a short grace for threads)
    /// even when an exporter is stuck. With `raise_on_close`, background errors make it an error.
    pub fn close(&self, timeout: Duration) -> Result<CloseReport, ShutdownError> {
        let report = self
            .inner
            .close_inner(timeout)
            .ok_or(ShutdownError::AlreadyClosed)?;
        if let Some(reason) = self.inner.shared.background.fatal() {
            return Err(ShutdownError::Undeliverable(Box::new(report), reason));
        }
        if self.inner.shared.background.strategy() == ErrorStrategy::RaiseOnClose
            && !report.background_errors.is_empty()
        {
            return Err(ShutdownError::BackgroundErrors(Box::new(report)));
        }
        Ok(report)
    }
}

impl Inner {
    /// Closes once; `None` when already closed.
    pub(super) fn close_inner(&self, timeout: Duration) -> Option<CloseReport> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return None;
        }
        let deadline = Instant::now() + timeout;
        // Components first: their last records (finished videos) go through the queue ahead
        // of the Close message.
        let components = std::mem::take(&mut *self.components.lock());
        let component_losses: Vec<Undelivered> =
            components.iter().flat_map(|c| c.close(deadline)).collect();
        // A component that took the whole time gave up on what was left.
        let components_timed_out = !components.is_empty() && Instant::now() >= deadline;
        let reports = self
            .control(deadline, |reply| {
                IngestItem::Close(CloseRecorder { reply, deadline })
            })
            .ok();
        self.shared.closing.store(true, Ordering::Release);
        self.shared.room.notify_waiters();
        let metrics = self.metrics();
        let mut timed_out = components_timed_out
            || reports
                .as_ref()
                .is_none_or(|reports| reports.iter().any(|r| r.timed_out));
        let causes = |name: &str| {
            self.exporters
                .iter()
                .find(|e| e.name == name)
                .map(|e| ExporterLosses {
                    last_error: e.health.snapshot().last_error,
                    drop_reasons: e.counters.drop_reasons.snapshot(),
                })
                .unwrap_or_default()
        };
        let spooled: Vec<Spooled> = reports
            .iter()
            .flatten()
            .filter_map(|r| r.spool.clone())
            .filter(|s| s.records > 0 || s.bytes > 0)
            .collect();
        let mut undelivered = match reports {
            Some(reports) => CloseReport::from_exporters(reports, &metrics, &causes),
            None => self
                .exporters
                .iter()
                .map(|e| Undelivered {
                    exporter: e.name.clone(),
                    records: e.health.queued(),
                    reason: "close did not finish before the deadline".into(),
                })
                .collect(),
        };
        undelivered.extend(component_losses);
        let ingest_left = self.queue.len() as u64;
        if ingest_left > 0 {
            timed_out = true;
            undelivered.push(Undelivered {
                exporter: "ingest".into(),
                records: ingest_left,
                reason: "still in the ingest queue at the deadline".into(),
            });
        }
        let dropped_at_ingest: u64 = metrics.runtime.values().map(|c| c.dropped).sum();
        if dropped_at_ingest > 0 {
            undelivered.push(Undelivered {
                exporter: "ingest".into(),
                records: dropped_at_ingest,
                reason: "dropped by backpressure or rejected by the Recorder during the run".into(),
            });
        }
        self.system.stop();
        self.join_threads(deadline + THREAD_GRACE);
        // Every cursor is with the backends: a later run of this name starts from theirs. (A
        // killed process, or one that left a spool, keeps its journal for the next one.)
        if spooled.is_empty() {
            for file in &self.journal_files {
                let _ = std::fs::remove_file(file);
            }
        }
        let report = CloseReport {
            undelivered,
            timed_out,
            spooled,
            background_errors: self.shared.background.all(),
            metrics: self.metrics(),
        };
        Some(report)
    }

    /// Sends a control message through the ingest queue (so it follows every record enqueued
    /// before it) and waits for the Recorder's reply until `deadline`.
    fn control<T>(
        &self,
        deadline: Instant,
        message: impl FnOnce(crossbeam_channel::Sender<T>) -> IngestItem,
    ) -> Result<T, &'static str> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.queue.push_control(message(tx)) {
            return Err("the runtime's pump has stopped");
        }
        rx.recv_deadline(deadline + REPLY_GRACE)
            .map_err(|_| "no answer before the deadline")
    }

    /// Joins the runtime's threads that finish by `deadline`; a thread stuck in an exporter is
    /// left behind rather than holding the caller.
    fn join_threads(&self, deadline: Instant) {
        let threads = std::mem::take(&mut *self.threads.lock());
        for handle in threads {
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}
