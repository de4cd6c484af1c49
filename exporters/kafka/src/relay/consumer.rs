//! The relay's consumer: each message's records into their run's runtime, delivery checks and
//! commits, reading again what was not delivered, and the rebalance callbacks that commit
//! before partitions move.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::statistics::Statistics;
use rdkafka::{Offset, TopicPartitionList};

use super::offsets::{Partition, Positions, Uncommitted};
use super::runs::{Delivery, RunKey, Runs, RuntimeFactory};
use super::{RelayOptions, RelayReport};

/// The first wait before reading again what was not delivered; it doubles up to
/// `retry_max_backoff_secs` while deliveries keep failing.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// How long a runtime whose records were not delivered may take to close: they are read
/// again anyway.
const FAILED_CLOSE: Duration = Duration::from_secs(5);

/// Everything the poll loop and the rebalance callbacks share.
pub(crate) struct RelayState {
    runs: Runs,
    uncommitted: Uncommitted,
    /// Partitions sought back and paused, with when to resume them.
    paused: Vec<(Partition, Instant)>,
    backoff: Duration,
    pub(crate) report: RelayReport,
}

/// The consumer's context: the shared state, reached by the rebalance callbacks.
pub(crate) struct RelayContext {
    state: Mutex<RelayState>,
    options: RelayOptions,
    /// From librdkafka's latest statistics.
    lag: Mutex<Option<Lag>>,
}

/// Messages behind, summed over the assigned partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lag {
    /// Not read yet (high watermark − the next offset to read).
    pub unread: i64,
    /// Not committed yet (high watermark − the committed offset): read but not yet delivered,
    /// or not read.
    pub uncommitted: i64,
}

impl RelayContext {
    pub(crate) fn new(options: RelayOptions, factory: Box<RuntimeFactory>) -> Self {
        RelayContext {
            state: Mutex::new(RelayState {
                runs: Runs::new(factory),
                uncommitted: Uncommitted::default(),
                paused: Vec::new(),
                backoff: FIRST_BACKOFF,
                report: RelayReport::default(),
            }),
            options,
            lag: Mutex::new(None),
        }
    }

    /// The lag as of librdkafka's latest statistics.
    pub(crate) fn lag(&self) -> Option<Lag> {
        *self.lag.lock()
    }

    pub(crate) fn state(&self) -> parking_lot::MutexGuard<'_, RelayState> {
        self.state.lock()
    }
}

impl ClientContext for RelayContext {
    fn stats(&self, statistics: Statistics) {
        let mut lag = Lag {
            unread: 0,
            uncommitted: 0,
        };
        let mut seen = false;
        for name in &self.options.topics {
            let Some(topic) = statistics.topics.get(name) else {
                continue;
            };
            // Partition -1 is librdkafka's own; "none" is a partition not assigned here.
            for p in topic.partitions.values() {
                if p.partition < 0 || p.fetch_state == "none" || p.hi_offset < 0 {
                    continue;
                }
                seen = true;
                let read = if p.app_offset >= 0 {
                    p.app_offset
                } else {
                    p.committed_offset
                };
                lag.unread += (p.hi_offset - read.max(p.lo_offset.max(0))).max(0);
                let committed = p.committed_offset.max(p.lo_offset.max(0));
                lag.uncommitted += (p.hi_offset - committed).max(0);
            }
        }
        *self.lag.lock() = seen.then_some(lag);
    }

    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        use rdkafka::config::RDKafkaLogLevel as L;
        match level {
            L::Emerg | L::Alert | L::Critical | L::Error => {
                tracing::error!(target: "telemetron::relay", "librdkafka {fac}: {log_message}")
            }
            L::Warning => {
                tracing::warn!(target: "telemetron::relay", "librdkafka {fac}: {log_message}")
            }
            _ => tracing::debug!(target: "telemetron::relay", "librdkafka {fac}: {log_message}"),
        }
    }
}

impl ConsumerContext for RelayContext {
    /// Partitions are about to move to another relay: deliver and commit what was read from
    /// them, so the new owner does not read it again. What was not delivered stays
    /// uncommitted: the new owner reads it again.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = partitions(list);
            tracing::info!(target: "telemetron::relay", "partitions revoked: {}", names(&revoked));
            let mut state = self.state.lock();
            let left = settle(consumer, &self.options, &mut state, Some(&revoked), false);
            if !left.is_empty() {
                tracing::warn!(
                    target: "telemetron::relay",
                    "not delivered before the rebalance, left for the new owner to read again: {}",
                    positions(&left)
                );
            }
            for partition in &revoked {
                state.uncommitted.forget(partition);
            }
            state.paused.retain(|(p, _)| !revoked.contains(p));
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => tracing::info!(
                target: "telemetron::relay",
                "partitions assigned: {}",
                names(&partitions(list))
            ),
            Rebalance::Error(e) => tracing::warn!(target: "telemetron::relay", "rebalance: {e}"),
            Rebalance::Revoke(_) => {}
        }
    }
}

/// The consumer as the poll loop uses it.
pub(crate) struct RelayConsumer<'a> {
    pub(crate) consumer: &'a BaseConsumer<RelayContext>,
    pub(crate) options: &'a RelayOptions,
}

impl RelayConsumer<'_> {
    fn state(&self) -> parking_lot::MutexGuard<'_, RelayState> {
        self.consumer.context().state()
    }

    /// One message: its records into its run's runtime, or skipped when unreadable.
    pub(crate) fn handle(&self, message: &BorrowedMessage<'_>) {
        let partition: Partition = (message.topic().to_string(), message.partition());
        let offset = message.offset();
        let mut state = self.state();
        if state.paused.iter().any(|(p, _)| *p == partition) {
            return; // fetched before it was sought back: it comes again
        }
        state.report.messages += 1;
        let batch = match read(message) {
            Ok(batch) => batch,
            Err(why) => {
                state.report.skipped += 1;
                tracing::warn!(
                    target: "telemetron::relay",
                    "{}[{}]@{offset}: skipped: {why}",
                    partition.0, partition.1
                );
                state.uncommitted.read(partition, offset, None);
                return;
            }
        };
        let count = batch.records.len() as u64;
        let forwarded = match state.runs.get_or_start(&batch.run) {
            Ok((key, runtime)) => match runtime.forward(batch.records) {
                Ok(_) => Ok(key),
                Err(e) => Err(format!("run {key}: forwarding: {e}")),
            },
            Err(e) => Err(format!(
                "run {:?} (logger {}): cannot start its runtime: {e}",
                batch.run.run_name, batch.run.logger_id
            )),
        };
        match forwarded {
            Ok(key) => {
                state.report.records += count;
                state.uncommitted.read(partition, offset, Some(key));
            }
            Err(why) => {
                tracing::error!(target: "telemetron::relay", "{why}");
                let first = state
                    .uncommitted
                    .get(&partition)
                    .map_or(offset, |p| p.first);
                read_again(
                    self.consumer,
                    self.options,
                    &mut state,
                    vec![(partition, first)],
                );
            }
        }
    }

    /// Checks delivery, commits, and seeks back what was not delivered (see [`settle`]).
    pub(crate) fn settle(&self) {
        let mut state = self.state();
        settle(self.consumer, self.options, &mut state, None, true);
    }

    /// Resumes paused partitions whose backoff is over.
    pub(crate) fn resume_due(&self) {
        let mut state = self.state();
        let now = Instant::now();
        let due: Vec<Partition> = state
            .paused
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(p, _)| p.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        state.paused.retain(|(_, at)| *at > now);
        if let Err(e) = self.consumer.resume(&list(&due, None)) {
            tracing::warn!(target: "telemetron::relay", "resuming {}: {e}", names(&due));
        }
    }

    /// Closes the runtimes of runs idle for `idle_run_close_secs` with nothing pending.
    pub(crate) fn close_idle(&self) {
        let mut state = self.state();
        let pending = state.uncommitted.runs();
        let idle = state
            .runs
            .idle(self.options.idle_run_close(), &|key| pending.contains(key));
        state.runs.close(
            &idle,
            self.options.flush_timeout(),
            "no records for idle_run_close_secs",
        );
    }

    /// (runtimes open, the report so far).
    pub(crate) fn snapshot(&self) -> (usize, RelayReport) {
        let state = self.state();
        (state.runs.len(), state.report.clone())
    }

    /// Delivers and commits what was read, closes every runtime; the report.
    pub(crate) fn finish(&self) -> RelayReport {
        let mut state = self.state();
        let left = settle(self.consumer, self.options, &mut state, None, false);
        if !left.is_empty() {
            tracing::error!(
                target: "telemetron::relay",
                "not delivered, left uncommitted for the group to read again: {}",
                positions(&left)
            );
        }
        state.report.left_uncommitted = left.len() as u64;
        state.runs.close_all(self.options.flush_timeout());
        state.report.runs = state.runs.started;
        state.report.clone()
    }
}

/// Flushes the runtimes of the runs fed by the pending partitions (all, or `only` those) and
/// commits each partition whose runs all delivered. A partition with an undelivered run is not
/// committed; with `seek` it is sought back to its first uncommitted message and paused for a
/// backoff (the loop resumes it); without, it is forgotten and returned (left for the group
/// to read again). The failing runs' runtimes are rebuilt on their next record.
fn settle(
    consumer: &BaseConsumer<RelayContext>,
    options: &RelayOptions,
    state: &mut RelayState,
    only: Option<&[Partition]>,
    seek: bool,
) -> Positions {
    if state.uncommitted.is_empty() {
        return Vec::new();
    }
    let mut undelivered = BTreeSet::new();
    let keys: Vec<RunKey> = runs_of(&state.uncommitted, only).into_iter().collect();
    for (key, delivery) in state.runs.check(&keys, options.flush_timeout()) {
        match delivery {
            Delivery::Delivered { rejected: 0 } => {}
            Delivery::Delivered { rejected } => {
                state.report.rejected += rejected;
                tracing::warn!(
                    target: "telemetron::relay",
                    "run {key}: the backends refused {rejected} record(s) as invalid (see the exporters' errors); not read again"
                );
            }
            Delivery::Undelivered(why) => {
                tracing::warn!(target: "telemetron::relay", "run {key}: not delivered: {why}");
                undelivered.insert(key);
            }
        }
    }
    let (commit, again) = state.uncommitted.settle(only, &undelivered);
    if !commit.is_empty() {
        match consumer.commit(&list(&[], Some(&commit)), CommitMode::Sync) {
            Ok(()) => {
                state.report.commits += 1;
                for (partition, _) in &commit {
                    state.uncommitted.forget(partition);
                }
                if again.is_empty() {
                    state.backoff = FIRST_BACKOFF;
                }
            }
            Err(e) => {
                // Kept pending: the next settle commits them (a revoked partition is
                // forgotten by the caller and read again by its new owner).
                tracing::warn!(target: "telemetron::relay", "commit failed: {e}");
            }
        }
    }
    if !undelivered.is_empty() {
        // Their records are read again: no need to wait long for what they still hold.
        let keys: Vec<RunKey> = undelivered.into_iter().collect();
        let timeout = options.flush_timeout().min(FAILED_CLOSE);
        state
            .runs
            .close(&keys, timeout, "its records were not delivered");
    }
    if seek {
        read_again(consumer, options, state, again);
        Vec::new()
    } else {
        for (partition, _) in &again {
            state.uncommitted.forget(partition);
        }
        again
    }
}

/// Seeks each partition back to `offset` and pauses it for the current backoff (doubled for
/// the next time).
fn read_again(
    consumer: &BaseConsumer<RelayContext>,
    options: &RelayOptions,
    state: &mut RelayState,
    again: Positions,
) {
    if again.is_empty() {
        return;
    }
    let resume_at = Instant::now() + state.backoff;
    for (partition, offset) in &again {
        state.uncommitted.forget(partition);
        state.report.rereads += 1;
        let (topic, number) = partition;
        if let Err(e) = consumer.seek(
            topic,
            *number,
            Offset::Offset(*offset),
            Duration::from_secs(5),
        ) {
            tracing::error!(target: "telemetron::relay", "{topic}[{number}]: seeking back to {offset}: {e}");
        }
        state.paused.retain(|(p, _)| p != partition);
        state.paused.push((partition.clone(), resume_at));
    }
    let partitions: Vec<Partition> = again.iter().map(|(p, _)| p.clone()).collect();
    if let Err(e) = consumer.pause(&list(&partitions, None)) {
        tracing::warn!(target: "telemetron::relay", "pausing {}: {e}", names(&partitions));
    }
    tracing::warn!(
        target: "telemetron::relay",
        "reading again in {:.1} s: {}",
        state.backoff.as_secs_f64(),
        positions(&again)
    );
    state.backoff = (state.backoff * 2).min(options.retry_max_backoff());
}

/// The runs fed by the pending partitions (all, or `only` those).
fn runs_of(uncommitted: &Uncommitted, only: Option<&[Partition]>) -> BTreeSet<RunKey> {
    match only {
        None => uncommitted.runs(),
        Some(only) => only
            .iter()
            .filter_map(|p| uncommitted.get(p))
            .flat_map(|p| p.runs.iter().cloned())
            .collect(),
    }
}

/// A message as a record batch: the content-type header, when present, must be ours.
fn read(message: &BorrowedMessage<'_>) -> Result<telemetron_codec::DecodedBatch, String> {
    if let Some(headers) = message.headers() {
        if let Some(ct) = headers
            .iter()
            .find(|h| h.key.eq_ignore_ascii_case("content-type"))
            .and_then(|h| h.value)
        {
            telemetron_codec::check_content_type(&String::from_utf8_lossy(ct))
                .map_err(|e| e.to_string())?;
        }
    }
    let payload = message
        .payload()
        .ok_or_else(|| "the message has no value".to_string())?;
    telemetron_codec::decode(payload).map_err(|e| e.to_string())
}

fn partitions(list: &TopicPartitionList) -> Vec<Partition> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

/// A partition list: `partitions` without offsets, or `offsets` with theirs.
fn list(partitions: &[Partition], offsets: Option<&[(Partition, i64)]>) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in partitions {
        list.add_partition(topic, *partition);
    }
    for ((topic, partition), offset) in offsets.unwrap_or_default() {
        // Only an out-of-range offset fails, and ours come from messages read.
        let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*offset));
    }
    list
}

/// `topic[p] from offset o, ...`
fn positions(positions: &[(Partition, i64)]) -> String {
    positions
        .iter()
        .map(|((t, p), o)| format!("{t}[{p}] from offset {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn names(partitions: &[Partition]) -> String {
    if partitions.is_empty() {
        return "none".into();
    }
    partitions
        .iter()
        .map(|(t, p)| format!("{t}[{p}]"))
        .collect::<Vec<_>>()
        .join(", ")
}
