//! Background errors (export failures, drops, lifecycle misuse) and the error strategy that
//! decides whether the caller hears of them.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::metrics::RuntimeCounters;
use crate::settings::ErrorStrategy;

/// How many messages are kept for reports; later ones are only counted.
const KEPT: usize = 100;

pub(crate) struct BackgroundErrors {
    strategy: ErrorStrategy,
    pending: AtomicBool,
    kept: Mutex<Vec<String>>,
    unread_for_caller: Mutex<Vec<String>>,
}

impl BackgroundErrors {
    pub(crate) fn new(strategy: ErrorStrategy) -> Self {
        BackgroundErrors {
            strategy,
            pending: AtomicBool::new(false),
            kept: Mutex::new(Vec::new()),
            unread_for_caller: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn report(&self, counters: &RuntimeCounters, message: String) {
        // Messages carry backend errors, which may quote URLs with credentials.
        let message = crate::redact::redact_text(&message);
        counters
            .background_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.strategy {
            ErrorStrategy::Silent => {}
            ErrorStrategy::Warn => tracing::warn!(target: "telemetron", "{message}"),
            ErrorStrategy::RaiseOnLog => {
                self.unread_for_caller.lock().push(message.clone());
                self.pending.store(true, Ordering::Release);
            }
            ErrorStrategy::RaiseOnClose => {}
        }
        let mut kept = self.kept.lock();
        if kept.len() < KEPT {
            kept.push(message);
        }
    }

    /// With `raise_on_log`: the errors the caller has not yet been told of (one relaxed load
    /// when there are none).
    #[inline]
    pub(crate) fn take_for_caller(&self) -> Option<Vec<String>> {
        if !self.pending.load(Ordering::Acquire) {
            return None;
        }
        self.pending.store(false, Ordering::Release);
        let taken = std::mem::take(&mut *self.unread_for_caller.lock());
        (!taken.is_empty()).then_some(taken)
    }

    pub(crate) fn all(&self) -> Vec<String> {
        self.kept.lock().clone()
    }

    pub(crate) fn strategy(&self) -> ErrorStrategy {
        self.strategy
    }
}
