//! The consumer's context: the state the poll loop shares with librdkafka's callbacks (the
//! rebalance callbacks deliver and commit revoked partitions before they move; the statistics
//! callback keeps the lag for the progress line).

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::statistics::Statistics;

use super::commit::{names, partitions, positions, settle, FIRST_BACKOFF};
use super::offsets::{Partition, Uncommitted};
use super::runs::{Runs, RuntimeFactory};
use super::{RelayOptions, RelayReport};

/// Everything the poll loop and the rebalance callbacks share.
pub(crate) struct RelayState {
    pub(super) runs: Runs,
    pub(super) uncommitted: Uncommitted,
    /// Partitions sought back and paused, with when to resume them.
    pub(super) paused: Vec<(Partition, Instant)>,
    pub(super) backoff: Duration,
    pub(crate) report: RelayReport,
}

/// The consumer's context: the shared state, reached by the rebalance callbacks.
pub(crate) struct RelayContext {
    state: Mutex<RelayState>,
    options: RelayOptions,
    /// From librdkafka's latest statistics.
    lag: Mutex<Option<Lag>>,
}

/// Messages behind, summed over the assigned partitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lag {
    /// Not read yet (high watermark − the next offset to read).
    pub unread: i64,
    /// Not committed yet (high watermark − the committed offset): read but not yet delivered,
    /// or not read.
    pub uncommitted: i64,
}

impl RelayContext {
    pub(crate) fn new(options: RelayOptions, factory: Box<RuntimeFactory>) -> Self {
        RelayContext {
            state: Mutex::new(RelayState {
                runs: Runs::new(factory),
                uncommitted: Uncommitted::default(),
                paused: Vec::new(),
                backoff: FIRST_BACKOFF,
                report: RelayReport::default(),
            }),
            options,
            lag: Mutex::new(None),
        }
    }

    /// The lag as of librdkafka's latest statistics.
    pub(crate) fn lag(&self) -> Option<Lag> {
        *self.lag.lock()
    }

    pub(crate) fn state(&self) -> parking_lot::MutexGuard<'_, RelayState> {
        self.state.lock()
    }
}

impl ClientContext for RelayContext {
    fn stats(&self, statistics: Statistics) {
        let mut lag = Lag {
            unread: 0,
            uncommitted: 0,
        };
        let mut seen = false;
        for name in &self.options.topics {
            let Some(topic) = statistics.topics.get(name) else {
                continue;
            };
            // Partition -1 is librdkafka's own; "none" is a partition not assigned here.
            for p in topic.partitions.values() {
                if p.partition < 0 || p.fetch_state == "none" || p.hi_offset < 0 {
                    continue;
                }
                seen = true;
                let read = if p.app_offset >= 0 {
                    p.app_offset
                } else {
                    p.committed_offset
                };
                lag.unread += (p.hi_offset - read.max(p.lo_offset.max(0))).max(0);
                let committed = p.committed_offset.max(p.lo_offset.max(0));
                lag.uncommitted += (p.hi_offset - committed).max(0);
            }
        }
        *self.lag.lock() = seen.then_some(lag);
    }

    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        use rdkafka::config::RDKafkaLogLevel as L;
        match level {
            L::Emerg | L::Alert | L::Critical | L::Error => {
                tracing::error!(target: "telemetron::relay", "librdkafka {fac}: {log_message}")
            }
            L::Warning => {
                tracing::warn!(target: "telemetron::relay", "librdkafka {fac}: {log_message}")
            }
            _ => tracing::debug!(target: "telemetron::relay", "librdkafka {fac}: {log_message}"),
        }
    }
}

impl ConsumerContext for RelayContext {
    /// Partitions are about to move to another relay: deliver and commit what was read from
    /// them, so the new owner does not read it again. What was not delivered stays
    /// uncommitted: the new owner reads it again.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = partitions(list);
            tracing::info!(target: "telemetron::relay", "partitions revoked: {}", names(&revoked));
            let mut state = self.state.lock();
            let left = settle(consumer, &self.options, &mut state, Some(&revoked), false);
            if !left.is_empty() {
                tracing::warn!(
                    target: "telemetron::relay",
                    "not delivered before the rebalance, left for the new owner to read again: {}",
                    positions(&left)
                );
            }
            for partition in &revoked {
                state.uncommitted.forget(partition);
            }
            state.paused.retain(|(p, _)| !revoked.contains(p));
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => tracing::info!(
                target: "telemetron::relay",
                "partitions assigned: {}",
                names(&partitions(list))
            ),
            Rebalance::Error(e) => tracing::warn!(target: "telemetron::relay", "rebalance: {e}"),
            Rebalance::Revoke(_) => {}
        }
    }
}
