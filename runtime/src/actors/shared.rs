//! State every actor and every handle of one runtime shares.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

use parking_lot::Mutex;

use crate::background::BackgroundErrors;
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
}

impl Shared {
    pub(crate) fn report(&self, message: String) {
        self.background.report(&self.counters, message);
    }
}
