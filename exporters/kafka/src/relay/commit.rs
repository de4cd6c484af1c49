//! Delivery checks and commits: the runs fed by the pending partitions are flushed, the
//! partitions whose runs delivered are committed, the others are sought back and paused, or
//! left for the group to read again.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::context::{RelayContext, RelayState};
use super::offsets::{Partition, Positions, Uncommitted};
use super::runs::{Delivery, RunKey};
use super::RelayOptions;

/// The first wait before reading again what was not delivered; it doubles up to
/// `retry_max_backoff_secs` while deliveries keep failing.
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// How long a runtime whose records were not delivered may take to close: they are read
/// again anyway.
const FAILED_CLOSE: Duration = Duration::from_secs(5);

/// Flushes the runtimes of the runs fed by the pending partitions (all, or `only` those) and
/// commits each partition whose runs all delivered. A partition with an undelivered run is not
/// committed; with `seek` it is sought back to its first uncommitted message and paused for a
/// backoff (the loop resumes it); without, it is forgotten and returned (left for the group
/// to read again). The failing runs' runtimes are rebuilt on their next record.
pub(super) fn settle(
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
pub(super) fn read_again(
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

pub(super) fn partitions(list: &TopicPartitionList) -> Vec<Partition> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

/// A partition list: `partitions` without offsets, or `offsets` with theirs.
pub(super) fn list(
    partitions: &[Partition],
    offsets: Option<&[(Partition, i64)]>,
) -> TopicPartitionList {
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
pub(super) fn positions(positions: &[(Partition, i64)]) -> String {
    positions
        .iter()
        .map(|((t, p), o)| format!("{t}[{p}] from offset {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn names(partitions: &[Partition]) -> String {
    if partitions.is_empty() {
        return "none".into();
    }
    partitions
        .iter()
        .map(|(t, p)| format!("{t}[{p}]"))
        .collect::<Vec<_>>()
        .join(", ")
}
