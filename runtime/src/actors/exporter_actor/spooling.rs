//! The exporter actor with a disk spool: failing over to it when a batch exhausts its retries
//! (or the ingest queue stays full under `spool_then_raise`), writing everything after that
//! batch behind it, probing the backend with backoff and draining the spool in order when it
//! answers, and keeping the tail of the close deadline to write what is undelivered to disk.

use std::time::{Duration, Instant};

use actix::prelude::*;

use super::{ExporterActor, CLOSE_REPORT_MARGIN};
use crate::actors::spool_worker::{DrainSpool, Drained, SpoolBatches, SpoolWritten};
use crate::background::Source;
use crate::exporter::RecordBatch;
use crate::metrics::ExporterCounter;
use crate::spool::DeliveryPolicy;

/// One drain step at most this long, so that new batches reach the spool in between.
const DRAIN_SLICE: Duration = Duration::from_millis(250);

/// The spool state of one exporter actor.
pub(crate) struct SpoolLink {
    /// New batches go to disk (the backend failed, leftovers wait, or the run is offline).
    spooling: bool,
    offline: bool,
    /// The next spool write first takes back what the exporter holds unacknowledged.
    take_back: bool,
    /// A spool write or drain is with the worker.
    busy: bool,
    drain_due: bool,
    timer_armed: bool,
    backoff: Duration,
    initial: Duration,
    max: Duration,
    failover_seen: u64,
    /// Close: the soft deadline (after it, undelivered records go to disk) and whether the one
    /// drain attempt of the close was made.
    soft_deadline: Option<Instant>,
    close_drain_done: bool,
}

impl SpoolLink {
    /// `leftovers`: earlier processes' spools of this run wait, and go first.
    pub(crate) fn new(
        offline: bool,
        leftovers: bool,
        recovery: (Duration, Duration),
        failover_seen: u64,
    ) -> Self {
        SpoolLink {
            spooling: offline || leftovers,
            offline,
            take_back: false,
            busy: false,
            drain_due: leftovers && !offline,
            timer_armed: false,
            backoff: recovery.0,
            initial: recovery.0,
            max: recovery.1.max(recovery.0),
            failover_seen,
            soft_deadline: None,
            close_drain_done: false,
        }
    }

    /// After an actor restart: no reply is pending any more, no timer is armed.
    pub(super) fn restarting(&mut self) {
        self.busy = false;
        self.timer_armed = false;
        self.drain_due = !self.offline && self.spooling;
    }
}

impl ExporterActor {
    pub(super) fn spool_busy(&self) -> bool {
        self.spool.as_ref().is_some_and(|s| s.busy)
    }

    pub(super) fn spooling(&self) -> bool {
        self.spool.as_ref().is_some_and(|s| s.spooling)
    }

    /// `spool_then_raise`: a caller asked for the failover since the last look.
    pub(super) fn check_failover(&mut self, ctx: &mut Context<Self>) {
        let now = self
            .shared
            .failover
            .load(std::sync::atomic::Ordering::Acquire);
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        if spool.failover_seen != now {
            spool.failover_seen = now;
            if !spool.spooling {
                self.shared.report(
                    Source::Spool(self.name.clone()),
                    format!(
                        "exporter {}: the ingest queue stayed full (spool_then_raise): writing \
                         the backlog to the spool",
                        self.name
                    ),
                );
                self.begin_spooling(ctx);
            }
        }
    }

    /// From now on batches go to the spool; the backend is probed with backoff.
    pub(super) fn begin_spooling(&mut self, ctx: &mut Context<Self>) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        if !spool.spooling {
            spool.spooling = true;
            spool.take_back = true;
            spool.backoff = spool.initial;
        }
        self.arm_recovery(ctx);
    }

    fn arm_recovery(&mut self, ctx: &mut Context<Self>) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        if spool.offline || spool.timer_armed || spool.drain_due {
            return;
        }
        spool.timer_armed = true;
        ctx.run_later(spool.backoff, |act, ctx| {
            if let Some(spool) = act.spool.as_mut() {
                spool.timer_armed = false;
                spool.drain_due = true;
            }
            act.dispatch(ctx);
        });
    }

    /// Close with a spool: after the soft deadline (the close deadline less
    /// `close_spool_reserve_secs`, at most half the time left) what is still undelivered goes
    /// to disk.
    pub(super) fn closing_with_spool(&mut self, deadline: Instant, ctx: &mut Context<Self>) {
        let reserve = self.opts.close_spool_reserve;
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let soft = deadline - reserve.min(left / 2);
        spool.soft_deadline = Some(soft);
        if spool.spooling {
            // Deliver what is on disk if the backend is back (until the soft deadline; a
            // failed attempt is not repeated).
            spool.drain_due = !spool.offline && !spool.close_drain_done;
            return;
        }
        ctx.run_later(
            soft.saturating_duration_since(Instant::now()),
            |act, ctx| {
                if act.close_waiter.is_some()
                    && (!act.pending.is_empty() || act.in_flight.is_some())
                {
                    act.begin_spooling(ctx);
                    if let Some(spool) = act.spool.as_mut() {
                        spool.close_drain_done = true;
                        spool.drain_due = false;
                    }
                    act.dispatch(ctx);
                }
            },
        );
    }

    /// The deadline the exporter's own close gets: with a spool, the soft deadline (the rest
    /// is for writing what it did not get acknowledged to disk); while spooling, none at all
    /// (the backend is away: what it holds goes to disk at once).
    pub(super) fn exporter_close_deadline(&self, deadline: Instant) -> Instant {
        let early = |d: Instant| d.checked_sub(CLOSE_REPORT_MARGIN).unwrap_or(d);
        match &self.spool {
            Some(spool) if spool.spooling => Instant::now(),
            Some(spool) => early(spool.soft_deadline.unwrap_or(deadline)),
            None => early(deadline),
        }
    }

    pub(super) fn dispatch_spooling(&mut self, ctx: &mut Context<Self>) {
        let take_back = self.spool.as_ref().is_some_and(|s| s.take_back);
        // The first write after a failover goes at once, even with nothing pending: it takes
        // back what the exporter holds.
        if take_back || (!self.pending.is_empty() && self.batch_due(ctx)) {
            let mut batches = Vec::new();
            while !self.pending.is_empty() {
                batches.push(self.take_batch());
            }
            self.write_to_spool(batches, ctx);
            return;
        }
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        let past_soft = spool
            .soft_deadline
            .is_some_and(|soft| Instant::now() >= soft);
        if spool.drain_due && !spool.offline && !past_soft {
            spool.drain_due = false;
            let mut until = Instant::now() + DRAIN_SLICE;
            if let Some(soft) = spool.soft_deadline {
                until = until.min(soft);
            }
            spool.busy = true;
            let request = self.worker.send(DrainSpool { until });
            ctx.spawn(request.into_actor(self).map(|result, act, ctx| {
                let outcome = result.unwrap_or_else(|e| Drained {
                    delivered: 0,
                    empty: false,
                    error: Some(crate::exporter::ExportError::failed(format!(
                        "worker gone: {e}"
                    ))),
                });
                act.on_drained(outcome, ctx);
            }));
            return;
        }
        if self.pending.is_empty() {
            self.settle_waiters(ctx);
        }
    }

    /// Sends batches to the spool; `take_back` (the first write after a failover) first takes
    /// what the exporter holds unacknowledged.
    pub(super) fn write_to_spool(&mut self, batches: Vec<RecordBatch>, ctx: &mut Context<Self>) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        spool.busy = true;
        let take_back = std::mem::replace(&mut spool.take_back, false);
        let records: usize = batches.iter().map(RecordBatch::len).sum();
        let request = self.worker.send(SpoolBatches { batches, take_back });
        ctx.spawn(request.into_actor(self).map(move |result, act, ctx| {
            let outcome = result.unwrap_or_else(|e| SpoolWritten {
                lost: Some((Default::default(), format!("worker gone: {e}"))),
            });
            act.on_spooled(records, outcome, ctx);
        }));
    }

    fn on_spooled(&mut self, records: usize, outcome: SpoolWritten, ctx: &mut Context<Self>) {
        if let Some(spool) = self.spool.as_mut() {
            spool.busy = false;
        }
        if let Some((tally, why)) = outcome.lost {
            let lost = tally.total();
            let reason = format!("the spool could not take them: {why}");
            match self.opts.delivery_policy {
                DeliveryPolicy::TolerateLoss => tally.drop_because(&self.counters, &reason),
                DeliveryPolicy::AllOrCrash => {
                    tally.apply(&self.counters, ExporterCounter::Failed);
                    self.shared.background.set_fatal(format!(
                        "exporter {}: {lost} records could be neither delivered nor spooled: {why}",
                        self.name
                    ));
                }
            }
            self.shared.report(
                Source::Spool(self.name.clone()),
                format!("exporter {}: {lost} records lost: {reason}", self.name),
            );
        }
        self.release(records);
        self.dispatch(ctx);
    }

    fn on_drained(&mut self, outcome: Drained, ctx: &mut Context<Self>) {
        if let Some(spool) = self.spool.as_mut() {
            spool.busy = false;
        }
        match outcome.error {
            None => {
                let was_disabled = self.health.enable();
                self.health.record_success();
                if let Some(reason) = was_disabled {
                    self.shared.report(
                        Source::Spool(self.name.clone()),
                        format!(
                            "exporter {} re-enabled: its backend answers again (it was \
                             disabled: {reason}); delivering its spool",
                            self.name
                        ),
                    );
                }
                if let Some(spool) = self.spool.as_mut() {
                    spool.backoff = spool.initial;
                    if outcome.empty {
                        spool.spooling = false;
                    } else {
                        spool.drain_due = true;
                    }
                }
                if outcome.empty && outcome.delivered > 0 {
                    tracing::info!(target: "telemetron", "exporter {}: spool delivered", self.name);
                }
            }
            Some(err) => {
                let closing = self.close_waiter.is_some();
                if let Some(spool) = self.spool.as_mut() {
                    spool.backoff = (spool.backoff * 2).min(spool.max);
                    spool.close_drain_done |= closing;
                }
                // Probes count in the exporter's health: a long outage disables it, and the
                // first answer enables it again.
                self.on_failure(&err, 0, true);
                if !closing {
                    self.arm_recovery(ctx);
                }
            }
        }
        self.dispatch(ctx);
    }
}
