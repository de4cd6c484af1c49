//! The ingest queue's capacity, counted apart from its storage: the queue itself is an
//! unbounded list of small blocks that are allocated as records arrive and freed as the pump
//! takes them, so an idle runtime holds no slots (a preallocated bounded channel of 65,536
//! slots × 176 bytes was 11.5 MB of RSS from `configure()` on). Callers reserve room here
//! before they enqueue; the pump gives it back as it drains.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

/// Why a wait for room ended without room.
pub(crate) enum NoRoom {
    TimedOut,
    Closed,
}

pub(crate) struct Room {
    capacity: usize,
    /// Records reserved or in the queue.
    queued: AtomicUsize,
    /// Callers waiting in `wait`: the pump takes the lock to wake them only when there are.
    waiters: AtomicUsize,
    /// Set when the pump is gone: nobody will make room any more.
    closed: AtomicBool,
    lock: Mutex<()>,
    freed: Condvar,
}

impl Room {
    pub(crate) fn new(capacity: usize) -> Self {
        Room {
            capacity,
            queued: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            lock: Mutex::new(()),
            freed: Condvar::new(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records reserved or waiting in the queue.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Takes room for one record, if there is any.
    #[inline]
    pub(crate) fn try_reserve(&self) -> bool {
        self.queued
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .is_ok()
    }

    /// Waits until room for one record is reserved, the deadline passes (`None`: no deadline),
    /// or the queue closes.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Result<(), NoRoom> {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock();
        let result = loop {
            // Checked under the lock after announcing the wait: a release either sees this
            // waiter (and notifies under the lock) or happened before this check.
            if self.try_reserve() {
                break Ok(());
            }
            if self.is_closed() {
                break Err(NoRoom::Closed);
            }
            match deadline {
                None => self.freed.wait(&mut guard),
                Some(deadline) => {
                    if self.freed.wait_until(&mut guard, deadline).timed_out() {
                        break if self.try_reserve() {
                            Ok(())
                        } else {
                            Err(NoRoom::TimedOut)
                        };
                    }
                }
            }
        };
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Gives back room for `records` records (the pump took them, or an enqueue failed).
    pub(crate) fn release(&self, records: usize) {
        if records == 0 {
            return;
        }
        self.queued.fetch_sub(records, Ordering::SeqCst);
        self.wake_waiters();
    }

    /// No more room will be made: wakes every waiter with `Closed`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake_waiters();
    }

    fn wake_waiters(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.freed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn room_is_bounded_and_given_back() {
        let room = Room::new(2);
        assert!(room.try_reserve() && room.try_reserve());
        assert!(!room.try_reserve(), "full");
        room.release(1);
        assert!(room.try_reserve());
        assert_eq!(room.queued(), 2);
    }

    #[test]
    fn a_waiter_gets_room_released_by_another_thread() {
        let room = Arc::new(Room::new(1));
        assert!(room.try_reserve());
        let waiter = {
            let room = room.clone();
            std::thread::spawn(move || room.wait(None).is_ok())
        };
        // Released only once the waiter is registered, so the wake-up path is what is tested.
        while room.waiters.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        room.release(1);
        assert!(waiter.join().unwrap());
        assert_eq!(room.queued(), 1);
    }

    #[test]
    fn waits_end_at_the_deadline_or_at_close() {
        let room = Arc::new(Room::new(1));
        assert!(room.try_reserve());
        let deadline = Instant::now() + Duration::from_millis(20);
        assert!(matches!(room.wait(Some(deadline)), Err(NoRoom::TimedOut)));
        assert!(Instant::now() >= deadline);
        let waiter = {
            let room = room.clone();
            std::thread::spawn(move || matches!(room.wait(None), Err(NoRoom::Closed)))
        };
        while room.waiters.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        room.close();
        assert!(waiter.join().unwrap());
    }
}
