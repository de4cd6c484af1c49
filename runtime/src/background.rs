//! Background errors (export failures, drops, lifecycle misuse) and the error strategy that
//! decides whether the caller hears of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::metrics::RuntimeCounters;
use crate::settings::ErrorStrategy;

/// How many messages are kept for reports; later ones are only counted.
const KEPT: usize = 100;
/// Under `warn`, a source (one exporter's failures, one queue's drops) is announced at once,
/// then at most this often, with the number of similar messages in between.
const NOTICE_INTERVAL: Duration = Duration::from_secs(60);

/// What a background error is about: the unit of `warn`'s rate limit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// An exporter's failed batches.
    ExportFailed(String),
    /// An exporter was disabled.
    Disabled(String),
    /// An exporter's own queue overflowed.
    ExporterQueueFull(String),
    /// The backend refused some records.
    Rejected(String),
    /// The ingest queue overflowed (`drop_new` / `raise`).
    IngestFull,
    /// A component (the renderer) reported an error.
    Component,
    /// Lifecycle misuse: double stops, events on stopped spans.
    Misuse,
    /// A panic caught in an actor or plugin.
    Panic,
    /// An exporter's spool: failover, recovery, a full or unwritable disk, damaged frames.
    Spool(String),
}

struct Announced {
    at: Instant,
    suppressed: u64,
}

#[derive(Default)]
struct Notices {
    queue: Vec<String>,
    announced: HashMap<Source, Announced>,
}

pub(crate) struct BackgroundErrors {
    strategy: ErrorStrategy,
    pending: AtomicBool,
    kept: Mutex<Vec<String>>,
    unread_for_caller: Mutex<Vec<String>>,
    /// `warn`: set when `notices` holds something for the caller's next call.
    notices_pending: AtomicBool,
    notices: Mutex<Notices>,
    /// `delivery_policy: all_or_crash`: set once a batch could be neither delivered nor spooled;
    /// every later call fails with it.
    fatal_set: AtomicBool,
    fatal: Mutex<Option<String>>,
}

impl BackgroundErrors {
    pub(crate) fn new(strategy: ErrorStrategy) -> Self {
        BackgroundErrors {
            strategy,
            pending: AtomicBool::new(false),
            kept: Mutex::new(Vec::new()),
            unread_for_caller: Mutex::new(Vec::new()),
            notices_pending: AtomicBool::new(false),
            notices: Mutex::new(Notices::default()),
            fatal_set: AtomicBool::new(false),
            fatal: Mutex::new(None),
        }
    }

    pub(crate) fn report(&self, counters: &RuntimeCounters, source: Source, message: String) {
        // Messages carry backend errors, which may quote URLs with credentials.
        let message = crate::redact::redact_text(&message);
        counters
            .background_errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.strategy {
            ErrorStrategy::Silent => {}
            ErrorStrategy::Warn => {
                tracing::warn!(target: "telemetron", "{message}");
                self.notice(source, &message);
            }
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

    /// Queues `message` for the caller unless its source was announced less than
    /// `NOTICE_INTERVAL` ago (then it is only counted, and the next announcement says so).
    fn notice(&self, source: Source, message: &str) {
        let now = Instant::now();
        let mut notices = self.notices.lock();
        let text = match notices.announced.get_mut(&source) {
            None => message.to_string(),
            Some(last) if now.duration_since(last.at) < NOTICE_INTERVAL => {
                last.suppressed += 1;
                return;
            }
            Some(last) if last.suppressed > 0 => format!(
                "{message} ({} similar since the last warning)",
                last.suppressed
            ),
            Some(_) => message.to_string(),
        };
        notices.announced.insert(
            source,
            Announced {
                at: now,
                suppressed: 0,
            },
        );
        notices.queue.push(text);
        self.notices_pending.store(true, Ordering::Release);
    }

    /// With `warn`: the warnings the caller has not been shown yet (one relaxed load when
    /// there are none).
    #[inline]
    pub(crate) fn take_notices(&self) -> Option<Vec<String>> {
        if !self.notices_pending.load(Ordering::Relaxed) {
            return None;
        }
        let mut notices = self.notices.lock();
        self.notices_pending.store(false, Ordering::Release);
        let taken = std::mem::take(&mut notices.queue);
        (!taken.is_empty()).then_some(taken)
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

    /// Stops the runtime's deliveries for `reason` (`all_or_crash`): the first reason stays.
    pub(crate) fn set_fatal(&self, reason: String) {
        let mut fatal = self.fatal.lock();
        if fatal.is_none() {
            *fatal = Some(crate::redact::redact_text(&reason));
            self.fatal_set.store(true, Ordering::Release);
        }
    }

    /// Why deliveries stopped (`all_or_crash`), if they did: one relaxed load when not.
    #[inline]
    pub(crate) fn fatal(&self) -> Option<String> {
        if !self.fatal_set.load(Ordering::Relaxed) {
            return None;
        }
        self.fatal.lock().clone()
    }

    pub(crate) fn all(&self) -> Vec<String> {
        self.kept.lock().clone()
    }

    pub(crate) fn strategy(&self) -> ErrorStrategy {
        self.strategy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warn_announces_each_source_once_then_counts_what_it_held_back() {
        let errors = BackgroundErrors::new(ErrorStrategy::Warn);
        let counters = RuntimeCounters::default();
        let failed = |n| Source::ExportFailed(format!("exporter-{n}"));
        errors.report(&counters, failed(1), "first of 1".into());
        errors.report(&counters, failed(1), "second of 1".into());
        errors.report(&counters, failed(2), "first of 2".into());
        errors.report(
            &counters,
            Source::Disabled("exporter-1".into()),
            "off".into(),
        );
        assert_eq!(
            errors.take_notices(),
            Some(vec![
                "first of 1".to_string(),
                "first of 2".into(),
                "off".into()
            ])
        );
        assert_eq!(errors.take_notices(), None);
        // Past the interval the next message is shown with the count held back.
        errors
            .notices
            .lock()
            .announced
            .get_mut(&failed(1))
            .unwrap()
            .at -= NOTICE_INTERVAL;
        errors.report(&counters, failed(1), "third of 1".into());
        assert_eq!(
            errors.take_notices(),
            Some(vec![
                "third of 1 (1 similar since the last warning)".to_string()
            ])
        );
        assert_eq!(
            errors.all().len(),
            5,
            "every message is kept for the report"
        );
    }

    #[test]
    fn other_strategies_queue_no_notices() {
        for strategy in [
            ErrorStrategy::Silent,
            ErrorStrategy::RaiseOnLog,
            ErrorStrategy::RaiseOnClose,
        ] {
            let errors = BackgroundErrors::new(strategy);
            errors.report(&RuntimeCounters::default(), Source::Misuse, "x".into());
            assert_eq!(errors.take_notices(), None, "{strategy:?}");
        }
    }
}
