//! The exporter's own blocking thread: a sync actor on a one-thread `SyncArbiter`. It owns the
//! exporter instance, so the exporter is never called concurrently and its I/O never runs on an
//! arbiter. A panic in the exporter is caught here; the worker then stops and `SyncContext`
//! builds a fresh one (and with it a fresh exporter) from the factory.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use actix::{Actor, Handler, Message, SyncContext};

use super::supervision::catch_panic;
use super::Shared;
use crate::exporter::{ExportError, Exporter, ExporterContext, ExporterFactory, RecordBatch};
use crate::health::HealthCell;
use crate::model::TelemetryDataError;

/// An exporter built by `Runtime::start` (and initialized there when it asks to be).
pub(crate) struct FirstInstance {
    pub exporter: Box<dyn Exporter>,
    pub initialized: bool,
}

pub(crate) struct ExporterWorker {
    factory: ExporterFactory,
    pub(super) context: ExporterContext,
    restarts: Arc<AtomicU32>,
    pub(super) health: Arc<HealthCell>,
    pub(super) shared: Arc<Shared>,
    pub(super) exporter: Option<Box<dyn Exporter>>,
    pub(super) initialized: bool,
    pub(super) closed: bool,
    /// The exporter's spool (shared with the workers rebuilt after a panic).
    pub(super) spool: Option<super::spool_worker::WorkerSpool>,
}

impl ExporterWorker {
    /// A worker whose exporter is `first` when given (built, and perhaps initialized, by
    /// `Runtime::start`), else built from the factory on first use.
    pub(crate) fn new(
        factory: ExporterFactory,
        context: ExporterContext,
        restarts: Arc<AtomicU32>,
        health: Arc<HealthCell>,
        shared: Arc<Shared>,
        first: Option<FirstInstance>,
        spool: Option<super::spool_worker::WorkerSpool>,
    ) -> Self {
        // Called on the worker's own thread: exports yield to the callers.
        crate::priority::lower_thread_priority();
        let (exporter, initialized) = match first {
            Some(f) => (Some(f.exporter), f.initialized),
            None => (None, false),
        };
        ExporterWorker {
            factory,
            context,
            restarts,
            health,
            shared,
            exporter,
            initialized,
            closed: false,
            spool,
        }
    }

    /// Calls `f` on an initialized exporter, catching panics.
    pub(super) fn call(
        &mut self,
        ctx: &mut SyncContext<Self>,
        f: impl FnOnce(&mut dyn Exporter) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        if self.closed {
            return Err(ExportError::failed("exporter is closed"));
        }
        let outcome = catch_panic(|| {
            let exporter = self.exporter.get_or_insert_with(|| (self.factory)());
            if !self.initialized {
                let mut context = self.context.clone();
                context.restarts = self.restarts.load(Ordering::Relaxed);
                exporter.initialize(&context)?;
                self.initialized = true;
            }
            f(exporter.as_mut())
        });
        outcome.unwrap_or_else(|message| {
            self.health.record_panic();
            self.shared
                .counters
                .panics
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.restarts.fetch_add(1, Ordering::Relaxed);
            // Stopping a sync actor makes SyncContext build a fresh worker from the factory.
            use actix::ActorContext;
            ctx.stop();
            Err(ExportError::Panicked(message))
        })
    }
}

impl Actor for ExporterWorker {
    type Context = SyncContext<Self>;
}

/// Export one batch.
pub(crate) struct ExportBatch(pub RecordBatch);

impl Message for ExportBatch {
    type Result = Result<(), ExportError>;
}

impl Handler<ExportBatch> for ExporterWorker {
    type Result = Result<(), ExportError>;

    fn handle(&mut self, msg: ExportBatch, ctx: &mut SyncContext<Self>) -> Self::Result {
        self.call(ctx, |e| e.export_batch(&msg.0))
    }
}

/// Deliver this exporter's one telemetry data error (not counted in its health).
pub(crate) struct DeliverDataError(pub TelemetryDataError);

impl Message for DeliverDataError {
    type Result = Result<(), ExportError>;
}

impl Handler<DeliverDataError> for ExporterWorker {
    type Result = Result<(), ExportError>;

    fn handle(&mut self, msg: DeliverDataError, ctx: &mut SyncContext<Self>) -> Self::Result {
        self.call(ctx, |e| e.export_telemetry_data_error(&msg.0))
    }
}

/// Flush the exporter (and trim the spool by what it settled).
pub(crate) struct FlushExporter;

impl Message for FlushExporter {
    type Result = Result<(), ExportError>;
}

impl Handler<FlushExporter> for ExporterWorker {
    type Result = Result<(), ExportError>;

    fn handle(&mut self, _: FlushExporter, ctx: &mut SyncContext<Self>) -> Self::Result {
        // Offline, or spooling before the exporter ever started: nothing to flush but the disk.
        if self.spool.is_some() && !self.initialized {
            return self.commit_spool();
        }
        let result = self.call(ctx, |e| e.flush());
        if result.is_ok() {
            self.settle_spool();
        }
        result
    }
}

/// Close the exporter (idempotent) by the deadline. An exporter never built or never
/// initialized is closed without being opened. With a spool, what the exporter did not get
/// acknowledged is written to it, and the spool is closed.
pub(crate) struct CloseExporter {
    pub deadline: std::time::Instant,
}

/// How the close went, and what is left on disk.
pub(crate) struct ExporterClosed {
    pub result: Result<(), ExportError>,
    pub spool: Option<crate::report::Spooled>,
}

impl Message for CloseExporter {
    type Result = ExporterClosed;
}

impl Handler<CloseExporter> for ExporterWorker {
    type Result = actix::MessageResult<CloseExporter>;

    fn handle(&mut self, msg: CloseExporter, ctx: &mut SyncContext<Self>) -> Self::Result {
        if self.closed {
            return actix::MessageResult(ExporterClosed {
                result: Ok(()),
                spool: None,
            });
        }
        let result = match (&mut self.exporter, self.initialized) {
            (Some(_), true) => self.call(ctx, |e| e.close_by(msg.deadline)),
            _ => Ok(()),
        };
        let spool = self.close_spool();
        self.closed = true;
        actix::MessageResult(ExporterClosed { result, spool })
    }
}
