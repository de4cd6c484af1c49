//! Components: producers that own threads and turn work into records (the H.264 renderer).
//! The runtime closes them before its exporters, so their last records are still delivered.

use std::sync::Arc;
use std::time::Instant;

use super::Runtime;
use crate::actors::Shared;
use crate::error::EnqueueError;
use crate::ingest::{EnqueueOutcome, IngestItem, IngestQueue};
use crate::model::Record;
use crate::report::Undelivered;

/// Something the runtime closes before its exporters.
pub trait Component: Send + Sync + 'static {
    /// Its name in close reports (`renderer`).
    fn name(&self) -> &str;

    /// Finishes or abandons its queued work by `deadline`, sends its last records through its
    /// [`RecordSink`], and returns what it lost. Called once, from `close`.
    fn close(&self, deadline: Instant) -> Vec<Undelivered>;

    /// Finishes the work queued so far by `deadline` (the renderer encodes its queued frames),
    /// or says what is left. Called by `Runtime::flush` before the exporters flush.
    fn flush(&self, deadline: Instant) -> Result<(), String> {
        let _ = deadline;
        Ok(())
    }
}

/// Where a component's threads send records: the runtime's ingest queue, behind every record
/// enqueued before. It does not keep the runtime open (only `Runtime` handles do).
#[derive(Clone)]
pub struct RecordSink {
    queue: IngestQueue,
    shared: Arc<Shared>,
}

impl RecordSink {
    pub(crate) fn new(queue: IngestQueue, shared: Arc<Shared>) -> Self {
        RecordSink { queue, shared }
    }

    /// Enqueues one record under the runtime's backpressure strategy; counted like any record.
    pub fn send(&self, record: Record) -> Result<(), EnqueueError> {
        push_counted(&self.queue, &self.shared, record).map(drop)
    }

    /// Reports a background error through the runtime's `error_strategy`.
    pub fn report_error(&self, message: String) {
        self.shared
            .report(crate::background::Source::Component, message);
    }
}

/// Counts and enqueues: `Ok(true)` enqueued, `Ok(false)` dropped by `drop_new` (counted).
#[inline]
pub(super) fn push_counted(
    queue: &IngestQueue,
    shared: &Shared,
    record: Record,
) -> Result<bool, EnqueueError> {
    push_counted_as(queue, shared, record, IngestItem::Record)
}

/// [`push_counted`] for a record that travels as `as_item` (recorded here, or forwarded).
#[inline]
pub(super) fn push_counted_as(
    queue: &IngestQueue,
    shared: &Shared,
    record: Record,
    as_item: fn(Record) -> IngestItem,
) -> Result<bool, EnqueueError> {
    let kind = record.kind();
    let points = record.data_points();
    let counters = &shared.counters;
    counters.added_record(&record);
    match queue.push(as_item(record)) {
        EnqueueOutcome::Enqueued => Ok(true),
        EnqueueOutcome::Dropped => {
            counters.ingest_dropped(kind, points);
            shared.ingest_dropped(kind, queue.capacity());
            Ok(false)
        }
        EnqueueOutcome::Full => {
            counters.ingest_dropped(kind, points);
            Err(EnqueueError::QueueFull {
                capacity: queue.capacity(),
            })
        }
        EnqueueOutcome::Closed => {
            counters.ingest_dropped(kind, points);
            Err(EnqueueError::Closed)
        }
    }
}

impl Runtime {
    /// A sink for a component's records.
    pub fn record_sink(&self) -> RecordSink {
        RecordSink {
            queue: self.inner.queue.clone(),
            shared: self.inner.shared.clone(),
        }
    }

    /// Adds a component that `close` closes before the exporters. Fails once closing began.
    pub fn attach(&self, component: Arc<dyn Component>) -> Result<(), EnqueueError> {
        let mut components = self.inner.components.lock();
        if self.inner.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(EnqueueError::Closed);
        }
        components.push(component);
        Ok(())
    }

    /// Runs `f` on the actor system's thread, where actors (a `SyncArbiter` pool) can be
    /// started.
    pub fn spawn_on_actors(&self, f: impl FnOnce() + Send + 'static) {
        self.inner.system.arbiter().spawn_fn(f);
    }
}
