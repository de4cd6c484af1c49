//! The spool side of an exporter's worker thread: writing batches to the spool, draining it
//! back through the exporter in order, trimming what the backend settled, closing it. Disk I/O
//! happens here, on the exporter's own thread, never on an actor arbiter.

use std::sync::Arc;
use std::time::Instant;

use actix::{Handler, Message, SyncContext};
use parking_lot::Mutex;

use super::exporter_worker::ExporterWorker;
use super::supervision::catch_panic;
use crate::background::Source;
use crate::exporter::{ExportError, RecordBatch, Unacknowledged};
use crate::metrics::{ExporterCounter, ExporterCounters, KindTally};
use crate::model::Record;
use crate::report::Spooled;
use crate::spool::{ExporterSpool, SpoolStatus};

/// What a worker (and the workers rebuilt after a panic) shares of its exporter's spool.
#[derive(Clone)]
pub(crate) struct WorkerSpool {
    pub spool: Arc<Mutex<ExporterSpool>>,
    pub counters: Arc<ExporterCounters>,
    pub name: String,
    pub acknowledges_later: bool,
    /// The latest status, for `Runtime::spool_status` without a round trip.
    pub status: Arc<Mutex<SpoolStatus>>,
}

/// Write these batches to the spool; first, when `take_back`, what the exporter holds
/// unacknowledged (it is older).
pub(crate) struct SpoolBatches {
    pub batches: Vec<RecordBatch>,
    pub take_back: bool,
}

/// What a spool write did.
pub(crate) struct SpoolWritten {
    /// Records that did not fit or could not be written, and why.
    pub lost: Option<(KindTally, String)>,
}

impl Message for SpoolBatches {
    type Result = SpoolWritten;
}

/// Deliver spooled frames until `until` (or the end of the spool).
pub(crate) struct DrainSpool {
    pub until: Instant,
}

/// What a drain did.
pub(crate) struct Drained {
    /// Records delivered (or, for an exporter that acknowledges later, settled).
    pub delivered: u64,
    /// Nothing is left in the spool.
    pub empty: bool,
    /// The backend did not take the next frame: try again later.
    pub error: Option<ExportError>,
}

impl Message for DrainSpool {
    type Result = Drained;
}

impl ExporterWorker {
    fn spool_parts(&self) -> Option<WorkerSpool> {
        self.spool.clone()
    }

    /// Calls `take_unacknowledged` on an initialized exporter (a panic hands back nothing).
    fn take_unacknowledged(&mut self) -> Vec<Unacknowledged> {
        if !self.initialized || self.closed {
            return Vec::new();
        }
        match self.exporter.as_mut() {
            Some(exporter) => catch_panic(|| exporter.take_unacknowledged()).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Appends records handed back by the exporter; what could not be written goes in `lost`.
    fn append_taken_back(
        ws: &WorkerSpool,
        spool: &mut ExporterSpool,
        back: Vec<Unacknowledged>,
        lost: &mut Option<(KindTally, String)>,
    ) {
        for u in back.into_iter().filter(|u| !u.records.is_empty()) {
            Self::append_or_lose(
                ws,
                spool,
                || u.records.iter(),
                u.records.len(),
                u.sent_as,
                lost,
            );
        }
    }

    /// Appends records handed back by the exporter; what could not be written is counted
    /// dropped, the reason starting with `what`.
    fn spool_taken_back(
        ws: &WorkerSpool,
        spool: &mut ExporterSpool,
        back: Vec<Unacknowledged>,
        what: &str,
    ) {
        let mut lost = None;
        Self::append_taken_back(ws, spool, back, &mut lost);
        if let Some((tally, why)) = lost {
            tally.drop_because(&ws.counters, &format!("{what}: {why}"));
        }
    }

    /// Appends one frame, counted spooled, unless an append already failed; from the first
    /// failure on, this frame and every later one are tallied in `lost` instead.
    fn append_or_lose<'a, I: Iterator<Item = &'a Record>>(
        ws: &WorkerSpool,
        spool: &mut ExporterSpool,
        records: impl Fn() -> I,
        count: usize,
        sent_as: Option<(u64, u64)>,
        lost: &mut Option<(KindTally, String)>,
    ) {
        let tally = KindTally::of(records());
        if lost.is_none() {
            match spool.append(records(), count, sent_as) {
                Ok(_) => {
                    tally.apply(&ws.counters, ExporterCounter::Spooled);
                    return;
                }
                Err(e) => *lost = Some((KindTally::default(), e.to_string())),
            }
        }
        if let Some((all, _)) = lost.as_mut() {
            all.merge(&tally);
        }
    }

    /// Takes the frames the exporter settled since the last look (`all`: after a flush, every
    /// frame sent): counted recovered, off the spooled gauge when they were this runtime's.
    fn settle_locked(ws: &WorkerSpool, spool: &mut ExporterSpool, all: bool) -> u64 {
        let mut settled = 0;
        let done = if all {
            spool.settle_all_sent()
        } else {
            spool.take_settled()
        };
        for (leftover, tally) in done {
            tally.apply(&ws.counters, ExporterCounter::Recovered);
            if !leftover {
                tally.unspool(&ws.counters);
            }
            settled += tally.total();
        }
        settled
    }

    /// After a flush: trims what the exporter acknowledged.
    pub(super) fn settle_spool(&mut self) {
        let Some(ws) = self.spool_parts() else {
            return;
        };
        let mut spool = ws.spool.lock();
        if Self::settle_locked(&ws, &mut spool, true) > 0 {
            if let Err(e) = spool.save() {
                self.shared.report(
                    Source::Spool(ws.name.clone()),
                    format!("exporter {}: spool: {e}", ws.name),
                );
            }
        }
        *ws.status.lock() = spool.status();
    }

    /// A flush with nothing but the spool: make it durable.
    pub(super) fn commit_spool(&mut self) -> Result<(), ExportError> {
        match self.spool_parts() {
            Some(ws) => ws
                .spool
                .lock()
                .commit()
                .map_err(|e| ExportError::failed(e.to_string())),
            None => Ok(()),
        }
    }

    /// At close: what the exporter did not get acknowledged goes to the spool, which is closed.
    pub(super) fn close_spool(&mut self) -> Option<Spooled> {
        let ws = self.spool_parts()?;
        let back = self.take_unacknowledged();
        let mut spool = ws.spool.lock();
        Self::settle_locked(&ws, &mut spool, false);
        Self::spool_taken_back(&ws, &mut spool, back, "not spooled at close");
        if let Err(e) = spool.finish() {
            self.shared.report(
                Source::Spool(ws.name.clone()),
                format!("exporter {}: closing the spool: {e}", ws.name),
            );
        }
        let status = spool.status();
        *ws.status.lock() = status.clone();
        let records: u64 = ws.counters.snapshot().values().map(|c| c.spooled).sum();
        Some(Spooled {
            exporter: ws.name.clone(),
            records,
            bytes: status.own_bytes + status.leftover_bytes,
            path: status.dir.display().to_string(),
            bad_frames: status.bad_frames,
        })
    }
}

impl Handler<SpoolBatches> for ExporterWorker {
    type Result = actix::MessageResult<SpoolBatches>;

    fn handle(&mut self, msg: SpoolBatches, _ctx: &mut SyncContext<Self>) -> Self::Result {
        let Some(ws) = self.spool_parts() else {
            let mut tally = KindTally::default();
            for b in &msg.batches {
                tally.merge(&KindTally::of(b.iter()));
            }
            return actix::MessageResult(SpoolWritten {
                lost: Some((tally, "no spool".into())),
            });
        };
        let back = if msg.take_back {
            self.take_unacknowledged()
        } else {
            Vec::new()
        };
        let mut spool = ws.spool.lock();
        let mut lost: Option<(KindTally, String)> = None;
        Self::append_taken_back(&ws, &mut spool, back, &mut lost);
        for batch in &msg.batches {
            Self::append_or_lose(
                &ws,
                &mut spool,
                || batch.iter(),
                batch.len(),
                None,
                &mut lost,
            );
        }
        if let Err(e) = spool.commit() {
            // Written to the page cache, not made durable: said, not counted as lost.
            self.shared.report(
                Source::Spool(ws.name.clone()),
                format!("exporter {}: spool fsync failed: {e}", ws.name),
            );
        }
        *ws.status.lock() = spool.status();
        actix::MessageResult(SpoolWritten { lost })
    }
}

impl Handler<DrainSpool> for ExporterWorker {
    type Result = actix::MessageResult<DrainSpool>;

    fn handle(&mut self, msg: DrainSpool, ctx: &mut SyncContext<Self>) -> Self::Result {
        let Some(ws) = self.spool_parts() else {
            return actix::MessageResult(Drained {
                delivered: 0,
                empty: true,
                error: None,
            });
        };
        let spool_arc = ws.spool.clone();
        let mut spool = spool_arc.lock();
        let mut delivered = Self::settle_locked(&ws, &mut spool, false);
        let mut error = None;
        let mut read_all = false;
        while Instant::now() < msg.until {
            let frame = match spool.next() {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    read_all = true;
                    break;
                }
                Err(e) => {
                    error = Some(ExportError::failed(format!("reading the spool: {e}")));
                    break;
                }
            };
            let (leftover, index, id) = (frame.leftover, frame.index, frame.id);
            let tally = KindTally::of(frame.records.iter());
            let batch = RecordBatch::from_records(frame.records);
            match self.call(ctx, |e| e.export_spooled(&batch, id)) {
                Ok(()) if ws.acknowledges_later => {
                    spool.await_settlement(id, leftover, index, tally);
                }
                Ok(()) => {
                    spool.settle(leftover, index);
                    tally.apply(&ws.counters, ExporterCounter::Sent);
                    tally.apply(&ws.counters, ExporterCounter::Recovered);
                    if !leftover {
                        tally.unspool(&ws.counters);
                    }
                    delivered += tally.total();
                }
                Err(e) if e.is_retryable() || e.is_timeout() => {
                    error = Some(e);
                    break;
                }
                Err(e) => {
                    // Refused for good (bad data) or the exporter panicked on it: a poison
                    // frame never blocks the spool.
                    spool.settle(leftover, index);
                    let why = format!("refused from the spool: {e}");
                    tally.drop_because(&ws.counters, &why);
                    if !leftover {
                        tally.unspool(&ws.counters);
                    }
                    self.shared.report(
                        Source::Spool(ws.name.clone()),
                        format!("exporter {}: {} records {why}", ws.name, tally.total()),
                    );
                }
            }
        }
        // An acknowledging exporter: wait for the acks of what was sent before saying done.
        if error.is_none() && read_all && ws.acknowledges_later && spool.unsettled() > 0 {
            match self.call(ctx, |e| e.flush()) {
                Ok(()) => delivered += Self::settle_locked(&ws, &mut spool, true),
                Err(e) => error = Some(e),
            }
        }
        if error.is_some() {
            delivered += Self::settle_locked(&ws, &mut spool, false);
            spool.rewind();
            // What went out and was not acknowledged is still on disk: the exporter forgets it.
            drop(spool);
            let back = self.take_unacknowledged();
            spool = spool_arc.lock();
            Self::spool_taken_back(&ws, &mut spool, back, "not spooled");
        }
        if let Err(e) = spool.save() {
            self.shared.report(
                Source::Spool(ws.name.clone()),
                format!("exporter {}: spool: {e}", ws.name),
            );
        }
        let empty = error.is_none() && spool.is_empty();
        *ws.status.lock() = spool.status();
        actix::MessageResult(Drained {
            delivered,
            empty,
            error,
        })
    }
}
