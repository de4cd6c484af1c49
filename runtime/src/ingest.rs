//! The bounded ingest queue between callers and the Recorder actor, and the pump thread that
//! drains it in batches. The caller's cost is one copy and one enqueue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;
use crossbeam_channel::{
    Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError,
};

use crate::actors::recorder::{CloseRecorder, FlushRecorder, IngestBatch, Recorder};
use crate::model::Record;
use crate::settings::Backpressure;
use crate::spool::journal::CursorJournal;

/// The largest batch the pump hands the Recorder at once.
const PUMP_BATCH: usize = 4096;
/// How long the pump polls an empty queue before it parks on it: under steady load callers
/// never pay for waking it.
const PUMP_IDLE_POLLS: u32 = 40;
const PUMP_IDLE_SLEEP: Duration = Duration::from_micros(250);
/// Below this backlog the pump lets records gather for a moment before draining: the caller
/// then writes queue slots the pump is not reading at the same time (no cache-line ping-pong),
/// and the pump wakes less often on a 2-core machine.
const PUMP_GATHER: usize = 512;
const PUMP_GATHER_WAIT: Duration = Duration::from_micros(100);

/// What travels through the ingest queue: records, and control messages kept in order with them.
pub(crate) enum IngestItem {
    Record(Record),
    /// A record formed elsewhere (`Runtime::forward`): it reaches the exporters without the
    /// Recorder's span bookkeeping.
    Forwarded(Record),
    Flush(FlushRecorder),
    Close(CloseRecorder),
}

/// Why a record did not get into the queue.
pub(crate) enum EnqueueOutcome {
    Enqueued,
    Dropped,
    Full,
    Closed,
}

#[derive(Clone)]
pub(crate) struct IngestQueue {
    tx: Sender<IngestItem>,
    backpressure: Backpressure,
    timeout: Duration,
    capacity: usize,
    /// `spool_then_raise`: bumped to make spooled exporters fail over to disk, and how long to
    /// wait for room after that.
    failover: Arc<AtomicU64>,
    disk_retry: Duration,
}

impl IngestQueue {
    pub(crate) fn new(
        capacity: usize,
        backpressure: Backpressure,
        timeout: Duration,
    ) -> (Self, Receiver<IngestItem>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        (
            IngestQueue {
                tx,
                backpressure,
                timeout,
                capacity,
                failover: Arc::default(),
                disk_retry: Duration::ZERO,
            },
            rx,
        )
    }

    /// `spool_then_raise`: the counter that sends spooled exporters to disk, and the wait after.
    pub(crate) fn with_spool_failover(mut self, failover: Arc<AtomicU64>, wait: Duration) -> Self {
        self.failover = failover;
        self.disk_retry = wait;
        self
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.tx.len()
    }

    /// Enqueues one record (`IngestItem::Record` or `Forwarded`) according to the
    /// backpressure strategy.
    #[inline]
    pub(crate) fn push(&self, item: IngestItem) -> EnqueueOutcome {
        let item = match self.tx.try_send(item) {
            Ok(()) => return EnqueueOutcome::Enqueued,
            Err(TrySendError::Disconnected(_)) => return EnqueueOutcome::Closed,
            Err(TrySendError::Full(item)) => item,
        };
        // What a wait that runs out means: `raise` reports it, `drop_new` counts it.
        let timed_out = match self.backpressure {
            Backpressure::Raise | Backpressure::SpoolThenRaise => EnqueueOutcome::Full,
            _ => EnqueueOutcome::Dropped,
        };
        match self.backpressure {
            Backpressure::Block => match self.tx.send(item) {
                Ok(()) => EnqueueOutcome::Enqueued,
                Err(_) => EnqueueOutcome::Closed,
            },
            Backpressure::SpoolThenRaise => self.spool_then_raise(item),
            _ if self.timeout.is_zero() => timed_out,
            _ => match self.tx.send_timeout(item, self.timeout) {
                Ok(()) => EnqueueOutcome::Enqueued,
                Err(SendTimeoutError::Timeout(_)) => timed_out,
                Err(SendTimeoutError::Disconnected(_)) => EnqueueOutcome::Closed,
            },
        }
    }

    /// Waits `enqueue_timeout_secs`; then sends the spooled exporters to disk (their backlog
    /// drains at disk speed) and waits `disk_spool_retry_timeout_secs` more; then gives up.
    #[cold]
    fn spool_then_raise(&self, item: IngestItem) -> EnqueueOutcome {
        let item = match self.tx.send_timeout(item, self.timeout) {
            Ok(()) => return EnqueueOutcome::Enqueued,
            Err(SendTimeoutError::Disconnected(_)) => return EnqueueOutcome::Closed,
            Err(SendTimeoutError::Timeout(item)) => item,
        };
        self.failover.fetch_add(1, Ordering::AcqRel);
        match self.tx.send_timeout(item, self.disk_retry) {
            Ok(()) => EnqueueOutcome::Enqueued,
            Err(SendTimeoutError::Timeout(_)) => EnqueueOutcome::Full,
            Err(SendTimeoutError::Disconnected(_)) => EnqueueOutcome::Closed,
        }
    }

    /// Enqueues a control message, waiting for room until `deadline` whatever the strategy.
    pub(crate) fn push_control(&self, item: IngestItem, deadline: Instant) -> bool {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.tx.send_timeout(item, wait).is_ok()
    }
}

/// Runs on its own thread: drains the queue in batches and hands each batch to the Recorder,
/// waiting for the Recorder to take it (that wait is what makes `block` propagate).
pub(crate) fn run_pump(
    rx: Receiver<IngestItem>,
    recorder: Addr<Recorder>,
    mut journal: Option<CursorJournal>,
) {
    let recorder = &recorder;
    let mut hand_over = |recorder: &Addr<Recorder>, records: &mut Vec<Record>, forwarded: bool| {
        // The cursors the caller's records moved, on disk before they go on.
        if let (Some(journal), false) = (journal.as_mut(), forwarded) {
            journal.observe(records);
        }
        hand_over(recorder, records, forwarded)
    };
    let mut records: Vec<Record> = Vec::new();
    // Whether `records` holds forwarded records: a batch is all one or all the other, so a
    // switch hands the gathered records over first (order is kept).
    let mut forwarded = false;
    let mut idle_polls = 0u32;
    loop {
        let first = match rx.try_recv() {
            Ok(item) => item,
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) if idle_polls < PUMP_IDLE_POLLS => {
                idle_polls += 1;
                std::thread::sleep(PUMP_IDLE_SLEEP);
                continue;
            }
            Err(TryRecvError::Empty) => match rx.recv_timeout(Duration::from_secs(3600)) {
                Ok(item) => item,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            },
        };
        idle_polls = 0;
        if matches!(first, IngestItem::Record(_) | IngestItem::Forwarded(_))
            && rx.len() < PUMP_GATHER
        {
            std::thread::sleep(PUMP_GATHER_WAIT);
        }
        // Sized to the backlog: a fresh maximum-size buffer per batch costs page faults.
        records.reserve((rx.len() + 1).min(PUMP_BATCH));
        let mut next = Some(first);
        while let Some(item) = next.take() {
            let (record, is_forwarded) = match item {
                IngestItem::Record(r) => (r, false),
                IngestItem::Forwarded(r) => (r, true),
                IngestItem::Flush(msg) => {
                    if !hand_over(recorder, &mut records, forwarded) {
                        return;
                    }
                    recorder.do_send(msg);
                    continue;
                }
                IngestItem::Close(msg) => {
                    if hand_over(recorder, &mut records, forwarded) {
                        recorder.do_send(msg);
                    }
                    return;
                }
            };
            if is_forwarded != forwarded {
                if !hand_over(recorder, &mut records, forwarded) {
                    return;
                }
                forwarded = is_forwarded;
            }
            records.push(record);
            if records.len() < PUMP_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !hand_over(recorder, &mut records, forwarded) {
            return;
        }
    }
}

/// Sends the gathered records and waits until the Recorder has taken them.
fn hand_over(recorder: &Addr<Recorder>, records: &mut Vec<Record>, forwarded: bool) -> bool {
    if records.is_empty() {
        return true;
    }
    let batch = std::mem::take(records);
    futures::executor::block_on(recorder.send(IngestBatch {
        records: batch,
        forwarded,
    }))
    .is_ok()
}
