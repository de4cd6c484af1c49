//! State every actor and every handle of one runtime shares.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::background::{BackgroundErrors, Source};
use crate::metrics::RuntimeCounters;
use crate::model::SpanId;

pub(crate) struct Shared {
    pub(crate) counters: RuntimeCounters,
    pub(crate) background: BackgroundErrors,
    /// Spans whose start was dropped at the ingest queue: their stop is dropped quietly
    /// (it is already counted) instead of being reported as a stop of an unknown span.
    pub(crate) dropped_starts: Mutex<HashSet<SpanId>>,
    /// Set when `close` begins: a `block`-mode Recorder stops waiting for exporter room.
    pub(crate) closing: AtomicBool,
    /// Notified whenever an exporter queue frees room (and when closing begins).
    pub(crate) room: tokio::sync::Notify,
    /// When the ingest queue's last drop was reported (Unix seconds; 0: never).
    pub(crate) ingest_drop_reported_at: AtomicU64,
    /// Ingest drops since that report.
    pub(crate) ingest_drops_unreported: AtomicU64,
    /// `spool_then_raise`: bumped when a caller found the ingest queue full for the whole
    /// enqueue timeout; every spooled exporter then fails over to its spool.
    pub(crate) failover: std::sync::Arc<AtomicU64>,
}

impl Shared {
    /// A background error from `source`, through the error strategy.
    pub(crate) fn report(&self, source: Source, message: String) {
        self.background.report(&self.counters, source, message);
    }

    /// A record the ingest queue could not take: reported at the first drop, then at most once
    /// a minute with the count since (drops are on the caller's path: no lock per drop).
    pub(crate) fn ingest_dropped(&self, kind: crate::model::RecordKind, capacity: usize) {
        let unreported = self.ingest_drops_unreported.fetch_add(1, Ordering::Relaxed) + 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs().max(1));
        let last = self.ingest_drop_reported_at.load(Ordering::Relaxed);
        if last != 0 && now < last + 60 {
            return;
        }
        if self
            .ingest_drop_reported_at
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        self.ingest_drops_unreported
            .fetch_sub(unreported, Ordering::Relaxed);
        self.report(
            Source::IngestFull,
            format!(
                "the ingest queue is full ({capacity} records): {unreported} record(s) dropped \
                 (latest a {}); see metrics(), or raise queue_capacity / use backpressure \
                 \"block\"",
                kind.as_str()
            ),
        );
    }
}
