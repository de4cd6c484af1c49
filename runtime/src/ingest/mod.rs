//! The bounded ingest queue between callers and the Recorder actor, and the pump thread that
//! drains it in batches. The caller's cost is one copy and one enqueue. The bound is counted
//! in `room.rs`; the storage grows and shrinks with what is queued.

mod room;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use room::{NoRoom, Room};

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
    room: Arc<Room>,
    backpressure: Backpressure,
    timeout: Duration,
    /// `spool_then_raise`: bumped to make spooled exporters fail over to disk, and how long to
    /// wait for room after that.
    failover: Arc<AtomicU64>,
    disk_retry: Duration,
}

/// The pump's end of the queue: it gives room back as it takes records, and closes the room
/// when it goes (waiting callers then see the queue closed).
pub(crate) struct IngestReceiver {
    rx: Receiver<IngestItem>,
    room: Arc<Room>,
}

impl Drop for IngestReceiver {
    fn drop(&mut self) {
        self.room.close();
    }
}

impl IngestQueue {
    pub(crate) fn new(
        capacity: usize,
        backpressure: Backpressure,
        timeout: Duration,
    ) -> (Self, IngestReceiver) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let room = Arc::new(Room::new(capacity));
        (
            IngestQueue {
                tx,
                room: room.clone(),
                backpressure,
                timeout,
                failover: Arc::default(),
                disk_retry: Duration::ZERO,
            },
            IngestReceiver { rx, room },
        )
    }

    /// `spool_then_raise`: the counter that sends spooled exporters to disk, and the wait after.
    pub(crate) fn with_spool_failover(mut self, failover: Arc<AtomicU64>, wait: Duration) -> Self {
        self.failover = failover;
        self.disk_retry = wait;
        self
    }

    pub(crate) fn capacity(&self) -> usize {
        self.room.capacity()
    }

    /// Records in the queue (control messages not counted).
    pub(crate) fn len(&self) -> usize {
        self.room.queued()
    }

    /// Enqueues one record (`IngestItem::Record` or `Forwarded`) according to the
    /// backpressure strategy.
    #[inline]
    pub(crate) fn push(&self, item: IngestItem) -> EnqueueOutcome {
        if !self.room.try_reserve() {
            if let Some(refused) = self.wait_for_room() {
                return refused;
            }
        }
        match self.tx.send(item) {
            Ok(()) => EnqueueOutcome::Enqueued,
            Err(_) => {
                self.room.release(1);
                EnqueueOutcome::Closed
            }
        }
    }

    /// The queue is full: waits as the strategy says. `None` once room is reserved.
    #[cold]
    fn wait_for_room(&self) -> Option<EnqueueOutcome> {
        if self.room.is_closed() {
            return Some(EnqueueOutcome::Closed);
        }
        // What a wait that runs out means: `raise` reports it, `drop_new` counts it.
        let timed_out = match self.backpressure {
            Backpressure::Raise | Backpressure::SpoolThenRaise => EnqueueOutcome::Full,
            _ => EnqueueOutcome::Dropped,
        };
        match self.backpressure {
            Backpressure::Block => self.room_or(None, timed_out),
            Backpressure::SpoolThenRaise => self.spool_then_raise(),
            _ if self.timeout.is_zero() => Some(timed_out),
            _ => self.room_or(Some(Instant::now() + self.timeout), timed_out),
        }
    }

    /// Waits for room until `deadline`: `None` once reserved, else what the caller gets.
    fn room_or(
        &self,
        deadline: Option<Instant>,
        timed_out: EnqueueOutcome,
    ) -> Option<EnqueueOutcome> {
        match self.room.wait(deadline) {
            Ok(()) => None,
            Err(NoRoom::TimedOut) => Some(timed_out),
            Err(NoRoom::Closed) => Some(EnqueueOutcome::Closed),
        }
    }

    /// Waits `enqueue_timeout_secs`; then sends the spooled exporters to disk (their backlog
    /// drains at disk speed) and waits `disk_spool_retry_timeout_secs` more; then gives up.
    #[cold]
    fn spool_then_raise(&self) -> Option<EnqueueOutcome> {
        match self.room.wait(Some(Instant::now() + self.timeout)) {
            Ok(()) => return None,
            Err(NoRoom::Closed) => return Some(EnqueueOutcome::Closed),
            Err(NoRoom::TimedOut) => {}
        }
        self.failover.fetch_add(1, Ordering::AcqRel);
        self.room_or(Some(Instant::now() + self.disk_retry), EnqueueOutcome::Full)
    }

    /// Enqueues a control message, without waiting: control messages take no room (they are
    /// few, and a full queue must not refuse a flush or close); `false` when the pump is gone.
    pub(crate) fn push_control(&self, item: IngestItem) -> bool {
        self.tx.send(item).is_ok()
    }
}

/// Runs on its own thread: drains the queue in batches and hands each batch to the Recorder,
/// waiting for the Recorder to take it (that wait is what makes `block` propagate).
pub(crate) fn run_pump(
    queue: IngestReceiver,
    recorder: Addr<Recorder>,
    mut journal: Option<CursorJournal>,
) {
    let rx = &queue.rx;
    // Records taken from the queue whose room is not given back yet (once per batch).
    let mut taken = 0usize;
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
                    queue.room.release(std::mem::take(&mut taken));
                    if !hand_over(recorder, &mut records, forwarded) {
                        return;
                    }
                    recorder.do_send(msg);
                    continue;
                }
                IngestItem::Close(msg) => {
                    queue.room.release(std::mem::take(&mut taken));
                    if hand_over(recorder, &mut records, forwarded) {
                        recorder.do_send(msg);
                    }
                    return;
                }
            };
            if is_forwarded != forwarded {
                queue.room.release(std::mem::take(&mut taken));
                if !hand_over(recorder, &mut records, forwarded) {
                    return;
                }
                forwarded = is_forwarded;
            }
            records.push(record);
            taken += 1;
            if records.len() < PUMP_BATCH {
                next = rx.try_recv().ok();
            }
        }
        // The records are out of the queue: callers may fill their room while the Recorder
        // takes them (as a bounded channel's slots were freed by each receive).
        queue.room.release(std::mem::take(&mut taken));
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
