//! The messages an exporter actor takes: records from the Recorder, its telemetry data error,
//! flush and close.

use std::sync::Arc;

use actix::prelude::*;
use futures::channel::oneshot;

use super::{ExporterActor, ExporterCloseReport};
use crate::actors::supervision::catch_panic;
use crate::background::Source;
use crate::model::{Record, TelemetryDataError};

/// Records fanned out by the Recorder.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Deliver(pub Arc<Vec<Record>>);

impl Handler<Deliver> for ExporterActor {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Context<Self>) {
        if let Err(panic) = catch_panic(|| self.accept(msg.0, ctx)) {
            self.shared
                .counters
                .panics
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.shared.report(
                Source::Panic,
                format!("exporter actor {} panicked: {panic}; restarting", self.name),
            );
            ctx.stop();
        }
    }
}

/// Send the exporter its telemetry data error unless it already had one.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct OfferDataError(pub TelemetryDataError);

impl Handler<OfferDataError> for ExporterActor {
    type Result = ();

    fn handle(&mut self, msg: OfferDataError, ctx: &mut Context<Self>) {
        // Queued like any record so it keeps its place in the stream.
        if !self.health.is_disabled() && self.health.claim_telemetry_data_error() {
            self.health.add_queued(1);
            self.accept(Arc::new(vec![Record::from(msg.0)]), ctx);
        }
    }
}

/// Export everything queued, then flush the exporter.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct FlushQueue(pub oneshot::Sender<Result<(), String>>);

impl Handler<FlushQueue> for ExporterActor {
    type Result = ();

    fn handle(&mut self, msg: FlushQueue, ctx: &mut Context<Self>) {
        self.flush_waiters.push(msg.0);
        self.dispatch(ctx);
    }
}

/// Export everything queued, then close the exporter (disabled ones too) by the deadline.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct CloseQueue(
    pub oneshot::Sender<ExporterCloseReport>,
    pub std::time::Instant,
);

impl Handler<CloseQueue> for ExporterActor {
    type Result = ();

    fn handle(&mut self, msg: CloseQueue, ctx: &mut Context<Self>) {
        self.close_waiter = Some((msg.0, msg.1));
        self.closing_with_spool(msg.1, ctx);
        self.dispatch(ctx);
    }
}

/// `spool_then_raise`: a caller found the ingest queue full; write the backlog to the spool.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Failover;

impl Handler<Failover> for ExporterActor {
    type Result = ();

    fn handle(&mut self, _: Failover, ctx: &mut Context<Self>) {
        self.dispatch(ctx);
    }
}
