//! The progress line: records forwarded and their rate, runs open, commits, re-reads, and the
//! lag of the assigned partitions (from librdkafka's statistics: messages not read yet, and
//! not committed yet).

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;

use super::consumer::RelayConsumer;

pub(crate) struct Progress {
    last: Instant,
    records_then: u64,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Progress {
            last: Instant::now(),
            records_then: 0,
        }
    }

    pub(crate) fn due(&self, every: Duration) -> bool {
        self.last.elapsed() >= every
    }

    pub(crate) fn log(&mut self, relay: &RelayConsumer<'_>) {
        let (runs, report) = relay.snapshot();
        let rate = (report.records - self.records_then) as f64 / self.last.elapsed().as_secs_f64();
        let lag = relay.consumer.context().lag().map_or_else(
            || "unknown".to_string(),
            |l| format!("{} unread, {} uncommitted", l.unread, l.uncommitted),
        );
        tracing::info!(
            target: "telemetron::relay",
            "progress: {} records ({rate:.0}/s), {} messages, {runs} runs open, lag (messages): {lag}, {} commits, {} re-reads, {} rejected, {} skipped",
            report.records, report.messages, report.commits, report.rereads, report.rejected, report.skipped
        );
        self.records_then = report.records;
        self.last = Instant::now();
    }
}
