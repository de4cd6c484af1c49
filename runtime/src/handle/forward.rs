//! `Runtime::forward`: records formed by another runtime (read back from Kafka, a file export,
//! a spool) fed into this one, so they reach its exporters as they were recorded.

use std::sync::atomic::Ordering;

use super::component::push_counted_as;
use super::Runtime;
use crate::error::EnqueueError;
use crate::ingest::IngestItem;
use crate::model::Record;

/// What [`Runtime::forward`] did with the records it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forwarded {
    /// Enqueued for the exporters.
    pub enqueued: usize,
    /// Dropped by `drop_new` backpressure (counted as dropped in `metrics()`).
    pub dropped: usize,
}

impl Runtime {
    /// Feeds already-formed records into this runtime: they reach every exporter unchanged —
    /// ids, parents, timestamps, steps, span stops with their name, start and status — behind
    /// every record enqueued before.
    ///
    /// - **No lifecycle bookkeeping**: forwarded spans never enter the Recorder's span table,
    ///   so a stop whose start this runtime never saw is not misuse, an error does not change a
    ///   local span's status, and `close` does not stop forwarded spans that are still open. A
    ///   forwarded telemetry data error is delivered as a record (it describes the producer's
    ///   exporters), not claimed for this runtime's.
    /// - **No cursors**: metric and RL steps are kept as they are; this runtime's own step
    ///   cursors do not move.
    /// - **Counted and backpressured like any record**: `added`/`enqueued`/`sent` per kind in
    ///   `metrics()`; the configured plugins see them; `drop_new` drops what does not fit
    ///   (counted, and returned in [`Forwarded::dropped`]), `block` waits for room, `raise`
    ///   returns [`EnqueueError::QueueFull`] at the first record that does not fit (the records
    ///   before it are enqueued, the rest are not forwarded).
    ///
    /// Records forwarded from one thread keep their order. A caller that must know the records
    /// were delivered (a Kafka relay committing offsets) calls [`Runtime::flush`] afterwards.
    ///
    /// ```
    /// use telemetron_runtime::model::{Attributes, Event, Record, Timestamp};
    /// use telemetron_runtime::{Runtime, RuntimeConfig};
    /// let runtime = Runtime::start(RuntimeConfig::default()).unwrap();
    /// let event = Record::from(Event {
    ///     span: None,
    ///     name: "checkpoint".into(),
    ///     time: Timestamp(1_700_000_000_000_000_000),
    ///     attributes: Attributes::new(),
    /// });
    /// let forwarded = runtime.forward(vec![event]).unwrap();
    /// assert_eq!((forwarded.enqueued, forwarded.dropped), (1, 0));
    /// runtime.close(std::time::Duration::from_secs(5)).unwrap();
    /// ```
    pub fn forward(
        &self,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<Forwarded, EnqueueError> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::Relaxed) {
            return Err(EnqueueError::Closed);
        }
        let mut done = Forwarded::default();
        for record in records {
            if push_counted_as(&inner.queue, &inner.shared, record, IngestItem::Forwarded)? {
                done.enqueued += 1;
            } else {
                done.dropped += 1;
            }
        }
        Ok(done)
    }
}
