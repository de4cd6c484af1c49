//! The exporter trait (what a backend implements) and the batches it receives.

mod batch;
mod deliveries;
mod error;
mod seeds;
mod spooled;

pub use batch::RecordBatch;
pub use deliveries::{Count, Deliveries, KindCounts};
pub use error::{error_chain, with_causes, ExportError};
pub use seeds::{CursorSeed, CursorSeeds};
pub use spooled::{DeliveryId, Unacknowledged};

use std::sync::Arc;

use crate::model::{
    ErrorRecord, Event, HistogramPoint, LogRecord, MetricPoints, Record, Rendering, RlPoints,
    RunAttributes, ScatterPoint, SpanStart, SpanStop, TelemetryDataError,
};
use crate::settings::RunIdentity;

/// What an exporter learns about itself when it is (re)initialized.
#[derive(Clone, Debug)]
pub struct ExporterContext {
    /// The exporter's instance name (unique within a runtime), e.g. `file` or `file#2`.
    pub name: String,
    /// The run every record belongs to.
    pub run: RunIdentity,
    /// How many times this exporter was rebuilt after a panic (0 on the first start). An exporter
    /// that writes files appends instead of truncating when this is non-zero.
    pub restarts: u32,
    /// Where to report records the backend rejected, or acknowledged after `export_batch`.
    pub deliveries: Deliveries,
    /// Where to hand over the cursors of a resumed run (see [`CursorSeeds`]).
    pub seeds: CursorSeeds,
    /// A disk spool backs this exporter: what the backend does not acknowledge by the close
    /// deadline is kept for [`Exporter::take_unacknowledged`] instead of being counted dropped.
    pub spooled: bool,
}

/// A telemetry backend: file, OTLP, Kafka, Metrana, or a user's own.
///
/// # Contract
/// - **Never called concurrently.** One exporter instance lives on one runtime-owned thread;
///   every method is called from that thread, one call at a time, in record order.
/// - **Bounded time.** Each call must return within the exporter's own timeout; the runtime
///   stops waiting for a stuck exporter at `close(timeout)` and reports what it did not deliver.
/// - **Errors say whether to retry.** Return [`ExportError::retryable`] for transient failures
///   (the wrapper retries the same batch with exponential backoff) and [`ExportError::failed`]
///   otherwise. Failures feed the exporter's health: its first failure sends it a
///   [`TelemetryDataError`], and repeated failures disable it.
/// - **A panic is a failure**, caught at the call boundary; the exporter is then dropped and a
///   fresh one is built by its factory and initialized with `restarts + 1`.
/// - **`close` is idempotent** and is called even on a disabled exporter. After `close` no other
///   method is called.
/// - Blocking I/O is allowed: the thread is the exporter's own, never an actor arbiter.
pub trait Exporter: Send + 'static {
    /// Opens connections or files. Called once before any export; a failure is counted like an
    /// export failure and `initialize` is tried again before the next batch.
    fn initialize(&mut self, _ctx: &ExporterContext) -> Result<(), ExportError> {
        Ok(())
    }

    /// Whether `initialize` runs inside `Runtime::start`, on the starting thread, so that its
    /// failure fails the start and the cursors it seeds are in place before the first call.
    /// For backends whose session decides what the caller may log (Metrana's handshake).
    fn initialize_at_start(&self) -> bool {
        false
    }

    /// Whether the backend acknowledges records after `export_batch` returns (a window of
    /// requests in flight). Such an exporter reports `sent` itself through
    /// [`Deliveries::acknowledged`]; the wrapper counts a returned batch as sent otherwise.
    fn acknowledges_later(&self) -> bool {
        false
    }

    /// Whether a disk spool backs this exporter unless its entry says `spool: false`: true for
    /// network backends, whose outages the spool bridges; false (the default) for local ones.
    fn spool_by_default(&self) -> bool {
        false
    }

    /// Exports a frame read back from the spool, under `id` (its writer's logger id, a session
    /// and a sequence number: the same for every re-send of the frame). A backend that
    /// de-duplicates by (logger, session, sequence) should send the frame as one request under
    /// `id`, so a re-send after a crash is applied once. An exporter that
    /// [acknowledges later](Self::acknowledges_later) reports the frame through
    /// [`Deliveries::settled`] once the backend acknowledged or refused it for good; for the
    /// others the frame is delivered when this returns. The default exports it as a batch.
    fn export_spooled(&mut self, batch: &RecordBatch, id: DeliveryId) -> Result<(), ExportError> {
        let _ = id;
        self.export_batch(batch)
    }

    /// Hands back, in order, what `export_batch` accepted and the backend has not acknowledged,
    /// and forgets what `export_spooled` sent and is not acknowledged (the spool still holds
    /// it). Called when the spool takes over from a backend that stopped answering, and after
    /// `close_by`. The default hands back nothing: an exporter that is done with a batch when
    /// `export_batch` returns.
    fn take_unacknowledged(&mut self) -> Vec<Unacknowledged> {
        Vec::new()
    }

    // Every per-record method below ignores its record by default: an exporter overrides the
    // ones for the kinds it carries, or `export_batch` when it writes in bulk.

    /// A span started. The default ignores it.
    fn export_start(&mut self, _span: &SpanStart) -> Result<(), ExportError> {
        Ok(())
    }

    /// A span stopped. The default ignores it.
    fn export_stop(&mut self, _span: &SpanStop) -> Result<(), ExportError> {
        Ok(())
    }

    /// An event happened. The default ignores it.
    fn export_event(&mut self, _event: &Event) -> Result<(), ExportError> {
        Ok(())
    }

    /// An application error was recorded. The default ignores it.
    fn export_error(&mut self, _error: &ErrorRecord) -> Result<(), ExportError> {
        Ok(())
    }

    /// The telemetry of this exporter (or of all) can no longer be trusted. The default
    /// ignores it.
    fn export_telemetry_data_error(
        &mut self,
        _error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        Ok(())
    }

    /// A video of an environment's episode was finished. The default ignores it: only
    /// exporters that list renderings override it.
    fn export_rendering(&mut self, _rendering: &Rendering) -> Result<(), ExportError> {
        Ok(())
    }

    /// A log record. The default ignores it: only exporters that carry logs override it.
    fn export_log(&mut self, _log: &LogRecord) -> Result<(), ExportError> {
        Ok(())
    }

    /// Points of a metric series. The default ignores them: only exporters that carry metrics
    /// override it.
    fn export_metric(&mut self, _points: &MetricPoints) -> Result<(), ExportError> {
        Ok(())
    }

    /// Points of an RL series. The default ignores them.
    fn export_rl(&mut self, _points: &RlPoints) -> Result<(), ExportError> {
        Ok(())
    }

    /// A histogram. The default ignores it.
    fn export_histogram(&mut self, _point: &HistogramPoint) -> Result<(), ExportError> {
        Ok(())
    }

    /// A scatter. The default ignores it.
    fn export_scatter(&mut self, _point: &ScatterPoint) -> Result<(), ExportError> {
        Ok(())
    }

    /// Run or environment attributes. The default ignores them.
    fn export_attributes(&mut self, _attributes: &RunAttributes) -> Result<(), ExportError> {
        Ok(())
    }

    /// Exports a batch. The default calls the per-record methods in order and stops at the first
    /// error; exporters that write in bulk override it. A retried batch is sent again whole.
    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        for record in batch.iter() {
            match record {
                Record::SpanStart(r) => self.export_start(r)?,
                Record::SpanStop(r) => self.export_stop(r)?,
                Record::Event(r) => self.export_event(r)?,
                Record::Error(r) => self.export_error(r)?,
                Record::TelemetryDataError(r) => self.export_telemetry_data_error(r)?,
                Record::Rendering(r) => self.export_rendering(r)?,
                Record::Log(r) => self.export_log(r)?,
                Record::Metric(r) => self.export_metric(r)?,
                Record::Scalar(r) => r.with_points(|m| self.export_metric(m))?,
                Record::Attributes(r) => self.export_attributes(r)?,
                Record::Rl(r) => self.export_rl(r)?,
                Record::Histogram(r) => self.export_histogram(r)?,
                Record::Scatter(r) => self.export_scatter(r)?,
                // Absorbed by the Recorder: its attributes arrive with the span's stop.
                Record::SpanUpdate(_) => {}
            }
        }
        Ok(())
    }

    /// Makes everything exported so far durable or delivered.
    fn flush(&mut self) -> Result<(), ExportError> {
        Ok(())
    }

    /// Flushes and releases resources. Idempotent.
    fn close(&mut self) -> Result<(), ExportError> {
        Ok(())
    }

    /// `close`, bounded by `deadline`: what `Runtime::close(timeout)` calls (the deadline is a
    /// little before the runtime's, so the report arrives in time). An exporter that waits on
    /// its backend at close (acknowledgements, reconnects) overrides this, uses the time it is
    /// given rather than a fixed budget, and when the deadline comes first returns
    /// [`ExportError::deadline_passed`] after reporting what it could not deliver. The default
    /// calls `close`.
    fn close_by(&mut self, deadline: std::time::Instant) -> Result<(), ExportError> {
        let _ = deadline;
        self.close()
    }
}

/// Builds a fresh exporter instance: at start and after every panic.
pub type ExporterFactory = Arc<dyn Fn() -> Box<dyn Exporter> + Send + Sync>;
