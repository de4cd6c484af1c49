//! The Recorder actor: owns span identity and parentage (the table of active spans), runs the
//! recorder plugins, and fans every record out to the exporter actors.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use crossbeam_channel::Sender;
use futures::channel::oneshot;

use super::exporter_actor::{
    CloseQueue, Deliver, ExporterActor, ExporterCloseReport, Failover, FlushQueue, OfferDataError,
};
use super::span_table::SpanTable;
use super::supervision::catch_panic;
use super::Shared;
use crate::background::Source;
use crate::health::HealthCell;
use crate::metrics::KindTally;
use crate::model::{Record, RecordKind, SpanId, TelemetryDataError, Timestamp};
use crate::plugin::{PluginFactory, PluginVerdict, RecorderPlugin};
use crate::RecordSink;

/// A `block`-mode wait re-checks at least this often (the closing flag, a missed wakeup).
const ROOM_RECHECK: Duration = Duration::from_millis(10);

/// The Recorder's view of one exporter.
pub(crate) struct ExporterLink {
    pub name: String,
    pub addr: Addr<ExporterActor>,
    pub health: Arc<HealthCell>,
    pub capacity: usize,
}

/// What span bookkeeping decided about a record.
enum Tracked {
    /// Deliver it.
    Keep,
    /// Drop it (counted).
    Drop,
    /// Taken into the span table (a live span update): delivered with the span's stop.
    Absorbed,
}

impl From<bool> for Tracked {
    fn from(keep: bool) -> Self {
        if keep {
            Tracked::Keep
        } else {
            Tracked::Drop
        }
    }
}

/// What the Recorder sends out after processing a batch.
enum Outgoing {
    /// Records for every enabled exporter.
    All(Arc<Vec<Record>>),
    /// A telemetry data error for the exporters not yet sent one (or for one named exporter).
    Offer(TelemetryDataError),
}

pub(crate) struct Recorder {
    exporters: Vec<ExporterLink>,
    plugin_factories: Vec<PluginFactory>,
    plugins: Vec<Box<dyn RecorderPlugin>>,
    /// Where plugins with threads of their own send their records.
    sink: RecordSink,
    spans: SpanTable,
    shared: Arc<Shared>,
    block: bool,
    closed: bool,
}

impl Recorder {
    pub(crate) fn new(
        exporters: Vec<ExporterLink>,
        plugin_factories: Vec<PluginFactory>,
        shared: Arc<Shared>,
        block: bool,
        sink: RecordSink,
    ) -> Self {
        let plugins = build_plugins(&plugin_factories, &sink);
        Recorder {
            exporters,
            plugin_factories,
            plugins,
            sink,
            spans: SpanTable::default(),
            shared,
            block,
            closed: false,
        }
    }

    /// Span bookkeeping: whether the record goes on, is dropped, or was absorbed.
    fn track(&mut self, record: &mut Record) -> Tracked {
        Tracked::from(match record {
            Record::SpanStart(start) => {
                let started = self.spans.start(start);
                if !started {
                    let id = start.context.span_id;
                    self.shared.report(
                        Source::Misuse,
                        format!("span {id} started twice; second start dropped"),
                    );
                }
                started
            }
            Record::SpanStop(stop) => {
                let stopped = self.spans.stop(stop);
                let id = stop.context.span_id;
                // A stop whose start was dropped by backpressure is already counted: quiet.
                if !stopped && !self.shared.dropped_starts.lock().remove(&id) {
                    self.shared.report(Source::Misuse, format!(
                        "span {id} stopped but it is not active (stopped twice, or never started); stop dropped"
                    ));
                }
                stopped
            }
            Record::SpanUpdate(update) => {
                let id = update.context.span_id;
                let attributes = std::mem::take(&mut update.attributes);
                if self.spans.update(id, attributes) {
                    // Exporters get the attributes with the span's stop.
                    return Tracked::Absorbed;
                }
                // A span whose start was dropped by backpressure is already counted: quiet.
                if !self.shared.dropped_starts.lock().contains(&id) {
                    self.shared.report(Source::Misuse, format!(
                        "attributes for span {id}, which is not active (stopped, or never started); dropped"
                    ));
                }
                false
            }
            Record::Event(event) => {
                self.check_span_active(event.span.map(|s| s.span_id), "event", &event.name);
                true
            }
            Record::Error(error) => {
                let span = error.span.map(|s| s.span_id);
                if !span.is_some_and(|id| self.spans.record_error(id, &error.message)) {
                    self.check_span_active(span, "error", &error.message);
                }
                true
            }
            // A log's span may be a remote parent (extracted from a carrier): not checked.
            Record::TelemetryDataError(_)
            | Record::Rendering(_)
            | Record::Log(_)
            | Record::Metric(_)
            | Record::Scalar(_)
            | Record::Attributes(_)
            | Record::Rl(_)
            | Record::Histogram(_)
            | Record::Scatter(_) => true,
        })
    }

    fn check_span_active(&self, span: Option<SpanId>, what: &str, name: &str) {
        if let Some(id) = span.filter(|id| !self.spans.is_active(*id)) {
            self.shared.report(
                Source::Misuse,
                format!(
                    "{what} {name:?} refers to span {id}, which is not active; delivered anyway"
                ),
            );
        }
    }

    /// Runs the lifecycle and the plugins over a batch, in place. A plugin panic leaves the
    /// record as it is, skips plugins for the rest of the batch and returns true (restart
    /// wanted). Records that plugins emit follow the batch that triggered them.
    ///
    /// Forwarded records (formed by another runtime) skip the span table: their stops are
    /// complete already, their spans were never started here, and `close` must not stop them.
    /// A forwarded telemetry data error is the producer's report about its own exporters:
    /// delivered like any record, not claimed as this runtime's.
    fn process(&mut self, mut records: Vec<Record>, forwarded: bool) -> (Vec<Outgoing>, bool) {
        // A telemetry data error goes to each exporter on its own terms: split the batch at it
        // (rare) so everything keeps its order.
        let tde_at = if forwarded {
            None
        } else {
            records
                .iter()
                .position(|r| matches!(r, Record::TelemetryDataError(_)))
        };
        if let Some(pos) = tde_at {
            let rest = records.split_off(pos + 1);
            let tde = records.pop();
            let (mut out, restart_before) = self.process(records, forwarded);
            if let Some(Record::TelemetryDataError(tde)) = tde {
                self.shared.counters.sent(RecordKind::TelemetryDataError, 1);
                out.push(Outgoing::Offer(*tde));
            }
            let (after, restart_after) = self.process(rest, forwarded);
            out.extend(after);
            return (out, restart_before || restart_after);
        }
        let mut sent = KindTally::default();
        let mut dropped = KindTally::default();
        let mut plugin_panicked = false;
        let mut emitted = Vec::new();
        records.retain_mut(|record| {
            // Forwarded records were formed by another runtime: no span-table bookkeeping.
            if !forwarded {
                match self.track(record) {
                    Tracked::Keep => {}
                    Tracked::Drop => {
                        dropped.add(record);
                        return false;
                    }
                    Tracked::Absorbed => {
                        sent.add(record);
                        return false;
                    }
                }
            }
            let mut keep = true;
            if !plugin_panicked && !self.plugins.is_empty() {
                let plugins = &mut self.plugins;
                match catch_panic(|| run_plugins(plugins, record, &mut emitted)) {
                    Ok(k) => keep = k,
                    Err(panic) => {
                        plugin_panicked = true;
                        self.shared.counters.panics.fetch_add(1, Relaxed);
                        self.shared.report(Source::Panic, format!(
                            "a recorder plugin panicked: {panic}; the Recorder restarts with fresh plugins"
                        ));
                    }
                }
            }
            if keep {
                sent.add(record);
            } else {
                dropped.add(record);
            }
            keep
        });
        for e in &emitted {
            self.shared.counters.added_record(e);
            sent.add(e);
        }
        records.append(&mut emitted);
        self.shared.counters.sent_tally(&sent);
        self.shared.counters.recorder_dropped_tally(&dropped);
        let out = if records.is_empty() {
            Vec::new()
        } else {
            vec![Outgoing::All(Arc::new(records))]
        };
        (out, plugin_panicked)
    }

    fn fan_out(&self, outgoing: Vec<Outgoing>) {
        for item in outgoing {
            match item {
                Outgoing::All(chunk) => {
                    // Disabled exporters too: each counts what it no longer exports as dropped,
                    // with the reason (the chunk is shared, so this costs a message).
                    for link in &self.exporters {
                        link.health.add_queued(chunk.len());
                        link.addr.do_send(Deliver(chunk.clone()));
                    }
                }
                Outgoing::Offer(tde) => {
                    let wanted =
                        |l: &&ExporterLink| tde.exporter.as_deref().is_none_or(|n| n == l.name);
                    for link in self.exporters.iter().filter(wanted) {
                        link.addr.do_send(OfferDataError(tde.clone()));
                    }
                }
            }
        }
    }

    /// Whether every enabled exporter is back within its queue capacity.
    fn within_capacity(exporters: &[(Arc<HealthCell>, usize)]) -> bool {
        exporters
            .iter()
            .all(|(h, cap)| h.is_disabled() || h.queued() as usize <= *cap)
    }

    /// Stops every still-active span, newest first, as OneLogger's `close` does.
    fn stop_active_spans(&mut self) -> Vec<Record> {
        let stops = self.spans.stop_all(Timestamp::now());
        for _ in &stops {
            self.shared.counters.added(RecordKind::SpanStop);
        }
        stops.into_iter().map(Record::from).collect()
    }
}

fn build_plugins(factories: &[PluginFactory], sink: &RecordSink) -> Vec<Box<dyn RecorderPlugin>> {
    factories
        .iter()
        .map(|f| {
            let mut plugin = f();
            plugin.attach(sink.clone());
            plugin
        })
        .collect()
}

fn run_plugins(
    plugins: &mut [Box<dyn RecorderPlugin>],
    record: &mut Record,
    emit: &mut Vec<Record>,
) -> bool {
    plugins
        .iter_mut()
        .all(|p| p.on_record(record, emit) == PluginVerdict::Keep)
}

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl actix::Supervised for Recorder {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        // Plugins are what a panic can leave inconsistent: rebuild them. The span table and the
        // exporter links are the runtime's data and carry over, so open spans still close.
        self.plugins = build_plugins(&self.plugin_factories, &self.sink);
    }
}

/// A batch of records from the pump.
pub(crate) struct IngestBatch {
    pub records: Vec<Record>,
    /// Formed elsewhere (`Runtime::forward`): no span bookkeeping, telemetry data errors are
    /// plain records.
    pub forwarded: bool,
}

impl Message for IngestBatch {
    type Result = ();
}

impl Handler<IngestBatch> for Recorder {
    // A plain future, not tied to the actor's context, so a restart cannot cancel the reply.
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: IngestBatch, ctx: &mut Context<Self>) -> Self::Result {
        if self.closed {
            for r in &msg.records {
                self.shared.counters.recorder_dropped(r);
            }
            return Box::pin(async {});
        }
        let (outgoing, restart) = self.process(msg.records, msg.forwarded);
        self.fan_out(outgoing);
        if restart {
            ctx.stop();
        }
        if !self.block {
            return Box::pin(async {});
        }
        // `block`: the pump (and so, once the ingest queue fills, the callers) waits until every
        // exporter is back within its capacity. Nothing is dropped; a queue overshoots its
        // capacity by at most one batch.
        let queues: Vec<(Arc<HealthCell>, usize)> = self
            .exporters
            .iter()
            .map(|l| (l.health.clone(), l.capacity))
            .collect();
        let shared = self.shared.clone();
        let actors: Vec<Addr<ExporterActor>> =
            self.exporters.iter().map(|l| l.addr.clone()).collect();
        Box::pin(async move {
            let mut failover_seen = shared.failover.load(Relaxed);
            loop {
                // Created before the check, so a release between the check and the await
                // still wakes it.
                let room = shared.room.notified();
                if Self::within_capacity(&queues) || shared.closing.load(Relaxed) {
                    return;
                }
                // `spool_then_raise`: a caller gave up waiting; the exporters go to disk.
                let failover = shared.failover.load(Relaxed);
                if failover != failover_seen {
                    failover_seen = failover;
                    for actor in &actors {
                        actor.do_send(Failover);
                    }
                }
                let _ = actix_rt::time::timeout(ROOM_RECHECK, room).await;
            }
        })
    }
}

/// Flush every exporter; the reply lists the exporters that failed or timed out.
pub(crate) struct FlushRecorder {
    pub reply: Sender<Vec<(String, String)>>,
    pub deadline: Instant,
}

impl Message for FlushRecorder {
    type Result = ();
}

impl Handler<FlushRecorder> for Recorder {
    type Result = ();

    fn handle(&mut self, msg: FlushRecorder, _ctx: &mut Context<Self>) {
        let waits: Vec<_> = self
            .exporters
            .iter()
            .map(|link| {
                let (tx, rx) = oneshot::channel();
                link.addr.do_send(FlushQueue(tx));
                let name = link.name.clone();
                let left = msg.deadline.saturating_duration_since(Instant::now());
                async move {
                    match actix_rt::time::timeout(left, rx).await {
                        Ok(Ok(Ok(()))) => None,
                        Ok(Ok(Err(e))) => Some((name, e)),
                        Ok(Err(_)) => Some((name, "exporter actor went away".to_string())),
                        Err(_) => {
                            Some((name, "flush did not finish before the deadline".to_string()))
                        }
                    }
                }
            })
            .collect();
        let reply = msg.reply;
        // A plain arbiter task: it needs no actor state and must survive a Recorder restart.
        actix_rt::spawn(async move {
            let failures: Vec<_> = futures::future::join_all(waits)
                .await
                .into_iter()
                .flatten()
                .collect();
            let _ = reply.send(failures);
        });
    }
}

/// Close: stop open spans, let plugins emit summaries, close every exporter in parallel.
pub(crate) struct CloseRecorder {
    pub reply: Sender<Vec<ExporterCloseReport>>,
    pub deadline: Instant,
}

impl Message for CloseRecorder {
    type Result = ();
}

impl Handler<CloseRecorder> for Recorder {
    type Result = ();

    fn handle(&mut self, msg: CloseRecorder, _ctx: &mut Context<Self>) {
        self.closed = true;
        let mut last = self.stop_active_spans();
        let mut emitted = Vec::new();
        for plugin in &mut self.plugins {
            if let Err(panic) = catch_panic(|| plugin.on_close(&mut emitted)) {
                self.shared.report(
                    Source::Panic,
                    format!("recorder plugin panicked at close: {panic}"),
                );
            }
        }
        for e in &emitted {
            self.shared.counters.added_record(e);
        }
        last.extend(emitted);
        for r in &last {
            self.shared.counters.sent(r.kind(), 1);
        }
        if !last.is_empty() {
            self.fan_out(vec![Outgoing::All(Arc::new(last))]);
        }
        let waits: Vec<_> = self
            .exporters
            .iter()
            .map(|link| {
                let (tx, rx) = oneshot::channel();
                link.addr.do_send(CloseQueue(tx, msg.deadline));
                let name = link.name.clone();
                let health = link.health.clone();
                let left = msg.deadline.saturating_duration_since(Instant::now());
                async move {
                    let missing = |error: &str, timed_out| ExporterCloseReport {
                        name: name.clone(),
                        undelivered: health.queued(),
                        error: Some(error.to_string()),
                        timed_out,
                        spool: None,
                    };
                    match actix_rt::time::timeout(left, rx).await {
                        Ok(Ok(report)) => report,
                        Ok(Err(_)) => missing("exporter actor went away", false),
                        Err(_) => missing("close did not finish before the deadline", true),
                    }
                }
            })
            .collect();
        let reply = msg.reply;
        actix_rt::spawn(async move {
            let reports = futures::future::join_all(waits).await;
            let _ = reply.send(reports);
        });
    }
}
