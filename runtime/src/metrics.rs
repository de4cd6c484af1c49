//! Self-metrics: per record kind, added / enqueued / sent / dropped / failed, for the runtime
//! and for every exporter. One place increments them; `metrics()` snapshots them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crossbeam_utils::CachePadded;
use serde::Serialize;

use crate::drop_reasons::DropReasons;
use crate::model::{Record, RecordKind};

const KINDS: usize = RecordKind::ALL.len();

/// One snapshot of the five counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CounterSnapshot {
    /// Attempts: API calls (runtime) or records handed to the exporter (exporter).
    pub added: u64,
    /// Accepted into the ingest queue (runtime) or the exporter's queue (exporter).
    pub enqueued: u64,
    /// Fanned out by the Recorder (runtime) or exported successfully (exporter).
    pub sent: u64,
    /// Dropped: queue full, rejected by the Recorder or a plugin, exporter disabled.
    pub dropped: u64,
    /// Refused as invalid at the API (runtime) or failed to export after retries (exporter).
    pub failed: u64,
    /// Exporter with a spool: records of this runtime on disk and not delivered yet.
    #[serde(skip_serializing_if = "is_zero")]
    pub spooled: u64,
    /// Exporter with a spool: records delivered from a spool (this runtime's, or an earlier
    /// process's leftovers: those count in `sent` too, not in `added`).
    #[serde(skip_serializing_if = "is_zero")]
    pub recovered: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A snapshot of every self-metric.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// Runtime-level counters by record kind (`span_start`, `event`, ...).
    pub runtime: BTreeMap<&'static str, CounterSnapshot>,
    /// Per exporter (by instance name), counters by record kind.
    pub exporters: BTreeMap<String, BTreeMap<&'static str, CounterSnapshot>>,
    /// Panics caught at actor handler boundaries (each followed by a restart).
    pub panics: u64,
    /// Background errors reported through the error strategy.
    pub background_errors: u64,
    /// Runtime-level data points ([`Record::data_points`](crate::model::Record::data_points))
    /// of the kinds that carry them, with the same five counters (`failed`: 0, since a call
    /// refused as invalid has no points to count).
    pub points: BTreeMap<&'static str, CounterSnapshot>,
    /// Per exporter, data points of the kinds that carry them (`sent`: exported, or
    /// acknowledged by the backend for exporters that acknowledge later).
    pub exporter_points: BTreeMap<String, BTreeMap<&'static str, CounterSnapshot>>,
}

impl MetricsSnapshot {
    /// Sum over kinds of the runtime counters.
    pub fn runtime_total(&self) -> CounterSnapshot {
        sum(self.runtime.values())
    }

    /// Sum over kinds of one exporter's counters.
    pub fn exporter_total(&self, exporter: &str) -> CounterSnapshot {
        self.exporters
            .get(exporter)
            .map(|m| sum(m.values()))
            .unwrap_or_default()
    }
}

fn sum<'a>(it: impl Iterator<Item = &'a CounterSnapshot>) -> CounterSnapshot {
    it.fold(CounterSnapshot::default(), |mut acc, c| {
        acc.added += c.added;
        acc.enqueued += c.enqueued;
        acc.sent += c.sent;
        acc.dropped += c.dropped;
        acc.failed += c.failed;
        acc.spooled += c.spooled;
        acc.recovered += c.recovered;
        acc
    })
}

#[derive(Default)]
struct KindCounters {
    added: AtomicU64,
    enqueued: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    spooled: AtomicU64,
    recovered: AtomicU64,
}

/// Counters of the runtime as a whole. `added` and the ingest drops are written by callers
/// (cache-padded so threads do not share a line with the Recorder's counters).
#[derive(Default)]
pub(crate) struct RuntimeCounters {
    added: [CachePadded<AtomicU64>; KINDS],
    ingest_dropped: [CachePadded<AtomicU64>; KINDS],
    refused: [AtomicU64; KINDS],
    sent: [AtomicU64; KINDS],
    recorder_dropped: [AtomicU64; KINDS],
    points_added: [CachePadded<AtomicU64>; KINDS],
    points_ingest_dropped: [AtomicU64; KINDS],
    points_sent: [AtomicU64; KINDS],
    points_recorder_dropped: [AtomicU64; KINDS],
    pub(crate) panics: AtomicU64,
    pub(crate) background_errors: AtomicU64,
}

impl RuntimeCounters {
    pub(crate) fn added(&self, kind: RecordKind) {
        self.added[kind.index()].fetch_add(1, Relaxed);
    }
    /// A record offered to the ingest queue, with its data points.
    #[inline]
    pub(crate) fn added_record(&self, record: &Record) {
        let i = record.kind().index();
        self.added[i].fetch_add(1, Relaxed);
        let points = record.data_points();
        if points > 0 {
            self.points_added[i].fetch_add(points, Relaxed);
        }
    }
    pub(crate) fn ingest_dropped(&self, kind: RecordKind, points: u64) {
        self.ingest_dropped[kind.index()].fetch_add(1, Relaxed);
        if points > 0 {
            self.points_ingest_dropped[kind.index()].fetch_add(points, Relaxed);
        }
    }
    pub(crate) fn refused(&self, kind: RecordKind) {
        self.refused[kind.index()].fetch_add(1, Relaxed);
    }
    pub(crate) fn sent(&self, kind: RecordKind, n: u64) {
        self.sent[kind.index()].fetch_add(n, Relaxed);
    }
    pub(crate) fn recorder_dropped(&self, record: &Record) {
        let i = record.kind().index();
        self.recorder_dropped[i].fetch_add(1, Relaxed);
        self.points_recorder_dropped[i].fetch_add(record.data_points(), Relaxed);
    }
    pub(crate) fn sent_tally(&self, tally: &KindTally) {
        tally.each(|kind, n| self.sent(kind, n));
        tally.each_points(|kind, n| {
            self.points_sent[kind.index()].fetch_add(n, Relaxed);
        });
    }
    pub(crate) fn recorder_dropped_tally(&self, tally: &KindTally) {
        tally.each(|kind, n| {
            self.recorder_dropped[kind.index()].fetch_add(n, Relaxed);
        });
        tally.each_points(|kind, n| {
            self.points_recorder_dropped[kind.index()].fetch_add(n, Relaxed);
        });
    }

    pub(crate) fn points_snapshot(&self) -> BTreeMap<&'static str, CounterSnapshot> {
        RecordKind::DATA
            .iter()
            .map(|kind| {
                let i = kind.index();
                let added = self.points_added[i].load(Relaxed);
                let dropped_at_ingest = self.points_ingest_dropped[i].load(Relaxed);
                let snap = CounterSnapshot {
                    added,
                    enqueued: added.saturating_sub(dropped_at_ingest),
                    sent: self.points_sent[i].load(Relaxed),
                    dropped: dropped_at_ingest + self.points_recorder_dropped[i].load(Relaxed),
                    failed: 0,
                    ..CounterSnapshot::default()
                };
                (kind.as_str(), snap)
            })
            .collect()
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<&'static str, CounterSnapshot> {
        RecordKind::ALL
            .iter()
            .map(|kind| {
                let i = kind.index();
                let added = self.added[i].load(Relaxed);
                let ingest_dropped = self.ingest_dropped[i].load(Relaxed);
                let refused = self.refused[i].load(Relaxed);
                let snap = CounterSnapshot {
                    added,
                    enqueued: added.saturating_sub(ingest_dropped + refused),
                    sent: self.sent[i].load(Relaxed),
                    dropped: ingest_dropped + self.recorder_dropped[i].load(Relaxed),
                    failed: refused,
                    ..CounterSnapshot::default()
                };
                (kind.as_str(), snap)
            })
            .collect()
    }
}

/// Counters of one exporter, written by its exporter actor (and by `Deliveries` for what the
/// backend rejected or acknowledged), with why records were dropped.
#[derive(Default)]
pub(crate) struct ExporterCounters {
    kinds: [KindCounters; KINDS],
    points: [KindCounters; KINDS],
    pub(crate) drop_reasons: DropReasons,
}

/// Which counter of an exporter to bump.
#[derive(Clone, Copy)]
pub(crate) enum ExporterCounter {
    Added,
    Enqueued,
    Sent,
    Dropped,
    Failed,
    /// Records written to the spool (a gauge: [`ExporterCounters::unspool`] takes them off).
    Spooled,
    Recovered,
}

impl ExporterCounters {
    /// `n` records of `kind`.
    pub(crate) fn add(&self, counter: ExporterCounter, kind: RecordKind, n: u64) {
        counter
            .cell(&self.kinds[kind.index()])
            .fetch_add(n, Relaxed);
    }

    /// `n` data points of `kind`.
    pub(crate) fn add_points(&self, counter: ExporterCounter, kind: RecordKind, n: u64) {
        if n > 0 {
            counter
                .cell(&self.points[kind.index()])
                .fetch_add(n, Relaxed);
        }
    }

    /// `n` records (`points` data points) of `kind` left this runtime's spool (delivered, or
    /// dropped from it).
    pub(crate) fn unspool(&self, kind: RecordKind, n: u64, points: u64) {
        for (cells, n) in [(&self.kinds, n), (&self.points, points)] {
            let _ = cells[kind.index()]
                .spooled
                .fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(n)));
        }
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<&'static str, CounterSnapshot> {
        snapshot_of(&self.kinds, &RecordKind::ALL)
    }

    pub(crate) fn points_snapshot(&self) -> BTreeMap<&'static str, CounterSnapshot> {
        snapshot_of(&self.points, &RecordKind::DATA)
    }
}

impl ExporterCounter {
    fn cell(self, k: &KindCounters) -> &AtomicU64 {
        match self {
            ExporterCounter::Added => &k.added,
            ExporterCounter::Enqueued => &k.enqueued,
            ExporterCounter::Sent => &k.sent,
            ExporterCounter::Dropped => &k.dropped,
            ExporterCounter::Failed => &k.failed,
            ExporterCounter::Spooled => &k.spooled,
            ExporterCounter::Recovered => &k.recovered,
        }
    }
}

fn snapshot_of(
    counters: &[KindCounters; KINDS],
    kinds: &[RecordKind],
) -> BTreeMap<&'static str, CounterSnapshot> {
    kinds
        .iter()
        .map(|kind| {
            let k = &counters[kind.index()];
            let snap = CounterSnapshot {
                added: k.added.load(Relaxed),
                enqueued: k.enqueued.load(Relaxed),
                sent: k.sent.load(Relaxed),
                dropped: k.dropped.load(Relaxed),
                failed: k.failed.load(Relaxed),
                spooled: k.spooled.load(Relaxed),
                recovered: k.recovered.load(Relaxed),
            };
            (kind.as_str(), snap)
        })
        .collect()
}

/// Counts of records (and their data points) by kind, for batch-wide counter updates.
#[derive(Default, Clone, Copy)]
pub(crate) struct KindTally {
    records: [u64; KINDS],
    points: [u64; KINDS],
}

impl KindTally {
    pub(crate) fn of<'a>(records: impl Iterator<Item = &'a Record>) -> Self {
        let mut t = KindTally::default();
        for r in records {
            t.add(r);
        }
        t
    }

    /// Adds `other`'s counts.
    pub(crate) fn merge(&mut self, other: &KindTally) {
        for i in 0..KINDS {
            self.records[i] += other.records[i];
            self.points[i] += other.points[i];
        }
    }

    pub(crate) fn add(&mut self, record: &Record) {
        let i = record.kind().index();
        self.records[i] += 1;
        self.points[i] += record.data_points();
    }

    /// Calls `f` for every kind with data points.
    pub(crate) fn each_points(&self, mut f: impl FnMut(RecordKind, u64)) {
        for kind in RecordKind::DATA {
            let n = self.points[kind.index()];
            if n > 0 {
                f(kind, n);
            }
        }
    }

    /// Calls `f` for every kind with a non-zero count.
    pub(crate) fn each(&self, mut f: impl FnMut(RecordKind, u64)) {
        for kind in RecordKind::ALL {
            let n = self.records[kind.index()];
            if n > 0 {
                f(kind, n);
            }
        }
    }

    pub(crate) fn apply(&self, counters: &ExporterCounters, counter: ExporterCounter) {
        self.each(|kind, n| counters.add(counter, kind, n));
        self.each_points(|kind, n| counters.add_points(counter, kind, n));
    }

    /// Takes these records off the exporter's `spooled` gauge.
    pub(crate) fn unspool(&self, counters: &ExporterCounters) {
        for kind in RecordKind::ALL {
            let (n, points) = (self.records[kind.index()], self.points[kind.index()]);
            if n > 0 || points > 0 {
                counters.unspool(kind, n, points);
            }
        }
    }

    /// Counts these records dropped by the exporter, for `reason`.
    pub(crate) fn drop_because(&self, counters: &ExporterCounters, reason: &str) {
        self.apply(counters, ExporterCounter::Dropped);
        counters.drop_reasons.add(reason, self.total());
    }

    pub(crate) fn total(&self) -> u64 {
        self.records.iter().sum()
    }
}
