//! Where frames wait for their shard, and the buffers they travel in.
//!
//! Frames bypass the actor's mailbox: a caller pushes onto the shard's inbox and sends the
//! actor a `Wake` only when it is idle, so a busy shard costs callers no wake-ups (each one is a
//! futex call on two threads, as much as copying a small frame).

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};

use crate::frame::Frame;

pub(crate) struct Inbox {
    tx: Sender<Frame>,
    rx: Receiver<Frame>,
    /// A `Wake` is on its way or the shard is draining.
    scheduled: AtomicBool,
}

impl Inbox {
    pub(crate) fn new() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Inbox {
            tx,
            rx,
            scheduled: AtomicBool::new(false),
        }
    }

    /// Queues a frame; `true` when the caller must wake the shard.
    pub(crate) fn push(&self, frame: Frame) -> bool {
        // The inbox lives as long as its receiver, which it owns: sending cannot fail.
        let _ = self.tx.send(frame);
        !self.scheduled.swap(true, Ordering::SeqCst)
    }

    /// Hands every frame to `f`, including frames pushed while draining, until the inbox is
    /// empty and the next push will send a new `Wake`.
    pub(crate) fn drain(&self, mut f: impl FnMut(Frame)) {
        loop {
            while let Ok(frame) = self.rx.try_recv() {
                f(frame);
            }
            self.scheduled.store(false, Ordering::SeqCst);
            // A push that raced the store either saw `false` (and sends a Wake) or left its
            // frame for us: take the drain back unless someone else holds it.
            if self.rx.is_empty() || self.scheduled.swap(true, Ordering::SeqCst) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::PixelLayout;

    fn frame(step: i64) -> Frame {
        Frame {
            env_id: "0".into(),
            episode: 0,
            rl_step: step,
            width: 2,
            height: 2,
            layout: PixelLayout::Gray8,
            data: vec![0; 4],
        }
    }

    #[test]
    fn only_a_push_into_an_idle_inbox_asks_for_a_wake() {
        let inbox = Inbox::new();
        assert!(inbox.push(frame(0)));
        assert!(!inbox.push(frame(1)), "a wake is already on its way");
        let mut seen = Vec::new();
        inbox.drain(|f| seen.push(f.rl_step));
        assert_eq!(seen, [0, 1]);
        assert!(inbox.push(frame(2)), "idle again after the drain");
    }

    #[test]
    fn concurrent_pushes_are_all_drained_exactly_once() {
        let inbox = std::sync::Arc::new(Inbox::new());
        let (wake_tx, wake_rx) = crossbeam_channel::unbounded();
        let producers: Vec<_> = (0..4)
            .map(|t| {
                let (inbox, wake_tx) = (inbox.clone(), wake_tx.clone());
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        if inbox.push(frame(t * 5000 + i)) {
                            wake_tx.send(()).unwrap();
                        }
                    }
                })
            })
            .collect();
        drop(wake_tx);
        let mut seen = Vec::new();
        // The consumer only drains when woken, like the shard.
        while wake_rx.recv().is_ok() {
            inbox.drain(|f| seen.push(f.rl_step));
        }
        for p in producers {
            p.join().unwrap();
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..20_000).collect::<Vec<_>>());
    }
}
