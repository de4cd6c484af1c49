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
    context: ExporterContext,
    restarts: Arc<AtomicU32>,
    health: Arc<HealthCell>,
    shared: Arc<Shared>,
    exporter: Option<Box<dyn Exporter>>,
    initialized: bool,
    closed: bool,
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
        }
    }

    /// Calls `f` on an initialized exporter, catching panics.
    fn call(
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

/// Flush the exporter.
pub(crate) struct FlushExporter;

impl Message for FlushExporter {
    type Result = Result<(), ExportError>;
}

impl Handler<FlushExporter> for ExporterWorker {
    type Result = Result<(), ExportError>;

    fn handle(&mut self, _: FlushExporter, ctx: &mut SyncContext<Self>) -> Self::Result {
        self.call(ctx, |e| e.flush())
    }
}

/// Close the exporter (idempotent) by the deadline. An exporter never built or never
/// initialized is closed without being opened.
pub(crate) struct CloseExporter {
    pub deadline: std::time::Instant,
}

impl Message for CloseExporter {
    type Result = Result<(), ExportError>;
}

impl Handler<CloseExporter> for ExporterWorker {
    type Result = Result<(), ExportError>;

    fn handle(&mut self, msg: CloseExporter, ctx: &mut SyncContext<Self>) -> Self::Result {
        if self.closed {
            return Ok(());
        }
        let result = match (&mut self.exporter, self.initialized) {
            (Some(_), true) => self.call(ctx, |e| e.close_by(msg.deadline)),
            _ => Ok(()),
        };
        self.closed = true;
        result
    }
}
