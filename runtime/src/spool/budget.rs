//! `spool_max_bytes`: one cap for every spool a runtime writes (its run's exporters).

use std::sync::atomic::{AtomicU64, Ordering};

use super::SpoolError;

/// Bytes a runtime's spools may use, and use.
#[derive(Debug)]
pub struct SpoolBudget {
    pub(crate) used: AtomicU64,
    max: u64,
}

impl SpoolBudget {
    /// A budget of `max` bytes.
    pub fn new(max: u64) -> Self {
        SpoolBudget {
            used: AtomicU64::new(0),
            max,
        }
    }

    /// Takes `bytes`, or fails with [`SpoolError::Full`].
    pub(crate) fn reserve(&self, bytes: u64) -> Result<(), SpoolError> {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used.saturating_add(bytes) > self.max {
                return Err(SpoolError::Full {
                    used,
                    max: self.max,
                    needed: bytes,
                });
            }
            match self.used.compare_exchange_weak(
                used,
                used + bytes,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => used = now,
            }
        }
    }

    /// Gives back `bytes` (segments deleted).
    pub(crate) fn release(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(bytes))
            });
    }

    /// Bytes in use.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}
