//! The exporter actor wrapper: every exporter gets a bounded queue, batching by size and age,
//! retries with exponential backoff for retryable errors, and health accounting. The exporter
//! itself runs on its worker thread; this actor only keeps books and never blocks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures::channel::oneshot;

mod messages;
mod spooling;

pub(crate) use messages::{CloseQueue, Deliver, Failover, FlushQueue, OfferDataError};
pub(crate) use spooling::SpoolLink;

use super::exporter_worker::{
    CloseExporter, DeliverDataError, ExportBatch, ExporterWorker, FlushExporter,
};
use super::Shared;
use crate::background::Source;
use crate::exporter::{ExportError, RecordBatch};
use crate::health::{HealthCell, HealthLimits};
use crate::metrics::{ExporterCounter, ExporterCounters, KindTally};
use crate::model::{Record, TelemetryDataError, TelemetryDataErrorKind, Timestamp};
use crate::report::Spooled;
use crate::spool::DeliveryPolicy;

/// A batch is due, and cut, once it carries this many data points (`Record::points`), whatever
/// its number of records: a large metric call goes out while the caller is still logging.
pub(crate) const BATCH_MAX_POINTS: usize = 1 << 16;

/// Batching, retry and health settings of one exporter.
#[derive(Clone, Debug)]
pub(crate) struct ExporterOptions {
    pub capacity: usize,
    pub batch_max_size: usize,
    pub batch_max_age: Duration,
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub limits: HealthLimits,
    /// `block` backpressure: the Recorder holds the pump while this queue is over capacity, so
    /// the queue never drops for being full.
    pub block: bool,
    /// The exporter reports `sent` itself when the backend acknowledges.
    pub acknowledges_later: bool,
    /// What a batch neither the backend nor the spool took does to the runtime.
    pub delivery_policy: DeliveryPolicy,
    /// The tail of the close deadline kept for writing what is undelivered to the spool.
    pub close_spool_reserve: Duration,
}

/// What an exporter reports when it is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExporterCloseReport {
    /// Exporter instance name.
    pub name: String,
    /// Records it never delivered (queued, in flight, or failed at close).
    pub undelivered: u64,
    /// Why, if anything went wrong.
    pub error: Option<String>,
    /// Whether it gave up at the close deadline (or did not answer by then).
    pub timed_out: bool,
    /// What it left in its disk spool.
    pub spool: Option<Spooled>,
}

/// The exporter's own close ends this much before the runtime's deadline, so that what it
/// reports still arrives in time.
const CLOSE_REPORT_MARGIN: Duration = Duration::from_millis(100);

struct Pending {
    chunk: Arc<Vec<Record>>,
    offset: usize,
    /// Records from `end` on were dropped on arrival (the queue had room for fewer).
    end: usize,
    arrived: Instant,
}

struct InFlight {
    batch: RecordBatch,
    attempt: u32,
}

pub(crate) struct ExporterActor {
    name: String,
    worker: Addr<ExporterWorker>,
    health: Arc<HealthCell>,
    counters: Arc<ExporterCounters>,
    shared: Arc<Shared>,
    opts: ExporterOptions,
    pending: VecDeque<Pending>,
    pending_len: usize,
    /// Data points in `pending`.
    pending_points: usize,
    in_flight: Option<InFlight>,
    timer_armed: bool,
    warned_full: bool,
    flush_waiters: Vec<oneshot::Sender<Result<(), String>>>,
    close_waiter: Option<(oneshot::Sender<ExporterCloseReport>, Instant)>,
    closed: bool,
    /// The disk spool's state, when the exporter has one.
    spool: Option<SpoolLink>,
}

impl ExporterActor {
    pub(crate) fn new(
        name: String,
        worker: Addr<ExporterWorker>,
        health: Arc<HealthCell>,
        counters: Arc<ExporterCounters>,
        shared: Arc<Shared>,
        opts: ExporterOptions,
        spool: Option<SpoolLink>,
    ) -> Self {
        ExporterActor {
            name,
            worker,
            health,
            counters,
            shared,
            opts,
            pending: VecDeque::new(),
            pending_len: 0,
            pending_points: 0,
            in_flight: None,
            timer_armed: false,
            warned_full: false,
            flush_waiters: Vec::new(),
            close_waiter: None,
            closed: false,
            spool,
        }
    }

    /// Records left this exporter (exported, failed or dropped): free their room and wake a
    /// `block`-mode Recorder waiting for it.
    fn release(&self, records: usize) {
        self.health.sub_queued(records);
        self.shared.room.notify_waiters();
    }

    fn draining(&self) -> bool {
        !self.flush_waiters.is_empty() || self.close_waiter.is_some()
    }

    fn accept(&mut self, chunk: Arc<Vec<Record>>, ctx: &mut Context<Self>) {
        let tally = KindTally::of(chunk.iter());
        tally.apply(&self.counters, ExporterCounter::Added);
        // Every record a disabled exporter does not get is counted, with why. With a spool,
        // disabled is not forever: the records go to disk and the backend is probed.
        if self.health.is_disabled() && self.spool.is_none() {
            let reason = self.health.snapshot().disabled.unwrap_or_default();
            tally.drop_because(&self.counters, &format!("disabled: {reason}"));
            self.release(chunk.len());
            return;
        }
        if self.closed {
            tally.drop_because(&self.counters, "arrived after the exporter was closed");
            self.release(chunk.len());
            return;
        }
        // drop_new: what fits is queued, the newest records beyond the capacity are dropped.
        let room = if self.opts.block {
            chunk.len()
        } else {
            self.opts.capacity.saturating_sub(self.pending_len)
        };
        let end = chunk.len().min(room);
        if end < chunk.len() {
            KindTally::of(chunk[end..].iter()).drop_because(
                &self.counters,
                &format!("queue full ({} records)", self.opts.capacity),
            );
            self.release(chunk.len() - end);
            if !std::mem::replace(&mut self.warned_full, true) {
                self.shared.report(
                    Source::ExporterQueueFull(self.name.clone()),
                    format!(
                    "exporter {}: queue full ({} records), dropping records (counted in metrics)",
                    self.name, self.opts.capacity
                ),
                );
            }
            if end == 0 {
                return;
            }
        }
        let queued = if end == chunk.len() {
            tally
        } else {
            KindTally::of(chunk[..end].iter())
        };
        queued.apply(&self.counters, ExporterCounter::Enqueued);
        self.pending_len += end;
        self.pending_points += chunk[..end].iter().map(Record::points).sum::<usize>();
        self.pending.push_back(Pending {
            chunk,
            offset: 0,
            end,
            arrived: Instant::now(),
        });
        self.dispatch(ctx);
    }

    /// Sends the next batch to the worker when one is due and none is in flight.
    fn dispatch(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight.is_some() || self.spool_busy() {
            return;
        }
        self.check_failover(ctx);
        if self.spooling() {
            self.dispatch_spooling(ctx);
            return;
        }
        if self.pending.is_empty() {
            self.settle_waiters(ctx);
            return;
        }
        if !self.batch_due(ctx) {
            return;
        }
        let batch = self.take_batch();
        self.send(InFlight { batch, attempt: 0 }, ctx);
    }

    /// Whether the oldest pending record must go now (size, points, age, flush or close);
    /// otherwise a timer comes back when it is due.
    fn batch_due(&mut self, ctx: &mut Context<Self>) -> bool {
        let Some(oldest) = self.pending.front() else {
            return false;
        };
        let age = oldest.arrived.elapsed();
        let due = self.pending_len >= self.opts.batch_max_size
            || self.pending_points >= BATCH_MAX_POINTS
            || age >= self.opts.batch_max_age
            || self.draining();
        if !due && !self.timer_armed {
            self.timer_armed = true;
            ctx.run_later(self.opts.batch_max_age - age, |act, ctx| {
                act.timer_armed = false;
                act.dispatch(ctx);
            });
        }
        due
    }

    /// Cuts the next batch off the pending queue.
    fn take_batch(&mut self) -> RecordBatch {
        let mut batch = RecordBatch::new();
        let mut points = 0;
        while batch.len() < self.opts.batch_max_size && points < BATCH_MAX_POINTS {
            let Some(front) = self.pending.front_mut() else {
                break;
            };
            let room = self.opts.batch_max_size - batch.len();
            let mut take = 0;
            while take < room && front.offset + take < front.end && points < BATCH_MAX_POINTS {
                points += front.chunk[front.offset + take].points();
                take += 1;
            }
            batch.push(front.chunk.clone(), front.offset..front.offset + take);
            front.offset += take;
            if front.offset == front.end {
                self.pending.pop_front();
            }
        }
        self.pending_len -= batch.len();
        self.pending_points -= points;
        batch
    }

    fn send(&mut self, flight: InFlight, ctx: &mut Context<Self>) {
        let request = self.worker.send(ExportBatch(flight.batch.clone()));
        self.in_flight = Some(flight);
        ctx.spawn(request.into_actor(self).map(|result, act, ctx| {
            let result =
                result.unwrap_or_else(|e| Err(ExportError::failed(format!("worker gone: {e}"))));
            act.on_result(result, ctx);
        }));
    }

    fn on_result(&mut self, result: Result<(), ExportError>, ctx: &mut Context<Self>) {
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        let tally = KindTally::of(flight.batch.iter());
        match result {
            Ok(()) => {
                self.health.record_success();
                if !self.opts.acknowledges_later {
                    tally.apply(&self.counters, ExporterCounter::Sent);
                }
            }
            Err(err) if err.is_retryable() && flight.attempt < self.opts.max_retries => {
                // The backend's Retry-After, when it gave one, within the backoff cap.
                let backoff = err.requested_delay().map_or_else(
                    || self.backoff(flight.attempt),
                    |asked| {
                        asked
                            .max(self.backoff(flight.attempt))
                            .min(self.opts.max_backoff)
                    },
                );
                self.in_flight = Some(InFlight {
                    batch: flight.batch,
                    attempt: flight.attempt + 1,
                });
                ctx.run_later(backoff, |act, ctx| {
                    if let Some(flight) = act.in_flight.take() {
                        act.send(flight, ctx);
                    }
                });
                return;
            }
            // Retries exhausted: the spool takes the batch (and, first, what the exporter holds
            // unacknowledged); everything after it follows it to disk until the backend is back.
            Err(err) if err.is_retryable() && self.spool.is_some() => {
                self.on_failure(&err, flight.batch.len(), true);
                self.begin_spooling(ctx);
                self.write_to_spool(vec![flight.batch], ctx);
                return;
            }
            Err(err) => {
                tally.apply(&self.counters, ExporterCounter::Failed);
                self.on_failure(&err, flight.batch.len(), false);
                // Nowhere to keep it: all_or_crash stops the runtime (a refusal of the data
                // itself is the backend's verdict, not a delivery failure).
                if err.is_retryable() && self.opts.delivery_policy == DeliveryPolicy::AllOrCrash {
                    self.shared.background.set_fatal(format!(
                        "exporter {}: {} records could not be delivered and there is no spool: {err}",
                        self.name,
                        flight.batch.len()
                    ));
                }
            }
        }
        self.release(flight.batch.len());
        self.dispatch(ctx);
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        (self.opts.initial_backoff * factor).min(self.opts.max_backoff)
    }

    /// Health accounting of a failed batch (`spooled`: the spool kept it, so no telemetry data
    /// error is due and nothing queued is dropped when the exporter is disabled).
    fn on_failure(&mut self, err: &ExportError, records: usize, spooled: bool) {
        let outcome = self.health.record_failure(err, self.opts.limits);
        let message = if records == 0 {
            format!(
                "exporter {}: its backend still does not answer ({err}); records wait in the spool",
                self.name
            )
        } else if spooled {
            format!(
                "exporter {} failed to export {records} records: {err}; they go to the spool \
                 (and what follows, until the backend answers again)",
                self.name
            )
        } else {
            format!(
                "exporter {} failed to export {records} records: {err}",
                self.name
            )
        };
        self.shared
            .report(Source::ExportFailed(self.name.clone()), message);
        if let Some(kind) = outcome.telemetry_data_error.filter(|_| !spooled) {
            self.worker
                .do_send(DeliverDataError(data_error_for(&self.name, kind, err)));
        }
        if let Some(reason) = outcome.disable {
            self.shared.report(
                Source::Disabled(self.name.clone()),
                format!("exporter {} disabled: {reason}", self.name),
            );
            if self.spool.is_some() {
                return;
            }
            let dropped = std::mem::take(&mut self.pending);
            self.pending_len = 0;
            self.pending_points = 0;
            let why = format!("disabled: {reason}");
            for p in dropped {
                KindTally::of(p.chunk[p.offset..p.end].iter()).drop_because(&self.counters, &why);
                self.release(p.end - p.offset);
            }
        }
    }

    /// Answers flush and close requests once nothing is queued or in flight.
    fn settle_waiters(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight.is_some() || !self.pending.is_empty() {
            return;
        }
        if !self.flush_waiters.is_empty() && self.spooling() {
            // What the flush covers is on disk (each spool write is committed).
            for w in std::mem::take(&mut self.flush_waiters) {
                let _ = w.send(Ok(()));
            }
        }
        if !self.flush_waiters.is_empty() {
            let waiters = std::mem::take(&mut self.flush_waiters);
            // A disabled exporter did not export what the flush covers: say so (with a spool,
            // it is on disk).
            let disabled = self
                .health
                .snapshot()
                .disabled
                .filter(|_| self.spool.is_none());
            let request = self.worker.send(FlushExporter);
            ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
                // With a spool, a flush the backend cannot complete is a failover: what the
                // exporter holds goes to disk, and the flush is done once it is there.
                if let (Some(_), Ok(Err(e))) = (&act.spool, &result) {
                    if e.is_retryable() || e.is_timeout() {
                        act.flush_waiters.extend(waiters);
                        act.on_failure(e, 0, true);
                        act.begin_spooling(ctx);
                        act.dispatch(ctx);
                        return;
                    }
                }
                let result = match (disabled, result) {
                    (Some(reason), _) => Err(format!("disabled: {reason}")),
                    (None, Ok(r)) => r.map_err(|e| e.to_string()),
                    (None, Err(e)) => Err(e.to_string()),
                };
                for w in waiters {
                    let _ = w.send(result.clone());
                }
            }));
        }
        if let Some((waiter, deadline)) = self.close_waiter.take() {
            self.closed = true;
            let name = self.name.clone();
            let request = self.worker.send(CloseExporter {
                deadline: self.exporter_close_deadline(deadline),
            });
            ctx.spawn(request.into_actor(self).map(move |result, act, _ctx| {
                let (error, timed_out, spool) = match result {
                    Ok(closed) => match closed.result {
                        Ok(()) => (None, false, closed.spool),
                        // Given up at the deadline with a spool that took the rest: not lost.
                        Err(e) if e.is_timeout() && closed.spool.is_some() => {
                            (None, false, closed.spool)
                        }
                        Err(e) => (Some(e.to_string()), e.is_timeout(), closed.spool),
                    },
                    Err(e) => (Some(e.to_string()), false, None),
                };
                if let Some(s) = spool.as_ref().filter(|s| s.records > 0) {
                    act.shared.report(
                        Source::Spool(name.clone()),
                        format!(
                            "exporter {name}: {} records kept in the spool at {} (delivered by the \
                             next process on this run, or `telemetron sync`)",
                            s.records, s.path
                        ),
                    );
                }
                let _ = waiter.send(ExporterCloseReport {
                    name,
                    undelivered: 0,
                    error,
                    timed_out,
                    spool,
                });
            }));
        }
    }
}

fn data_error_for(
    name: &str,
    kind: TelemetryDataErrorKind,
    err: &ExportError,
) -> TelemetryDataError {
    TelemetryDataError {
        kind,
        message: format!("exporter {name} failed: {err}"),
        exporter: Some(name.to_string()),
        time: Timestamp::now(),
    }
}

impl Actor for ExporterActor {
    type Context = Context<Self>;

    /// Leftovers of earlier processes are delivered at once, before anything is recorded.
    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.spooling() {
            self.dispatch(ctx);
        }
    }
}

impl actix::Supervised for ExporterActor {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        // Fresh bookkeeping; queued records are data and are kept, the batch in flight is sent
        // again first.
        self.timer_armed = false;
        if let Some(spool) = self.spool.as_mut() {
            spool.restarting();
        }
        if let Some(flight) = self.in_flight.take() {
            self.pending_len += flight.batch.len();
            self.pending_points += flight.batch.iter().map(Record::points).sum::<usize>();
            let records: Vec<Record> = flight.batch.iter().cloned().collect();
            self.pending.push_front(Pending {
                end: records.len(),
                chunk: Arc::new(records),
                offset: 0,
                arrived: Instant::now(),
            });
        }
    }
}
