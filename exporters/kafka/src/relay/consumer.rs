//! The consumer as the poll loop drives it: each message's records into their run's runtime
//! (or skipped when unreadable), paused partitions resumed, idle runs closed, and the drain at
//! the end.

use std::time::Instant;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};

use super::commit::{list, names, positions, read_again, settle};
use super::context::{RelayContext, RelayState};
use super::offsets::Partition;
use super::{RelayOptions, RelayReport};

/// The consumer as the poll loop uses it.
pub(crate) struct RelayConsumer<'a> {
    pub(crate) consumer: &'a BaseConsumer<RelayContext>,
    pub(crate) options: &'a RelayOptions,
}

impl RelayConsumer<'_> {
    fn state(&self) -> parking_lot::MutexGuard<'_, RelayState> {
        self.consumer.context().state()
    }

    /// One message: its records into its run's runtime, or skipped when unreadable.
    pub(crate) fn handle(&self, message: &BorrowedMessage<'_>) {
        let partition: Partition = (message.topic().to_string(), message.partition());
        let offset = message.offset();
        let mut state = self.state();
        if state.paused.iter().any(|(p, _)| *p == partition) {
            return; // fetched before it was sought back: it comes again
        }
        state.report.messages += 1;
        let batch = match read(message) {
            Ok(batch) => batch,
            Err(why) => {
                state.report.skipped += 1;
                tracing::warn!(
                    target: "telemetron::relay",
                    "{}[{}]@{offset}: skipped: {why}",
                    partition.0, partition.1
                );
                state.uncommitted.read(partition, offset, None);
                return;
            }
        };
        let count = batch.records.len() as u64;
        let forwarded = match state.runs.get_or_start(&batch.run) {
            Ok((key, runtime)) => match runtime.forward(batch.records) {
                Ok(_) => Ok(key),
                Err(e) => Err(format!("run {key}: forwarding: {e}")),
            },
            Err(e) => Err(format!(
                "run {:?} (logger {}): cannot start its runtime: {e}",
                batch.run.run_name, batch.run.logger_id
            )),
        };
        match forwarded {
            Ok(key) => {
                state.report.records += count;
                state.uncommitted.read(partition, offset, Some(key));
            }
            Err(why) => {
                tracing::error!(target: "telemetron::relay", "{why}");
                let first = state
                    .uncommitted
                    .get(&partition)
                    .map_or(offset, |p| p.first);
                read_again(
                    self.consumer,
                    self.options,
                    &mut state,
                    vec![(partition, first)],
                );
            }
        }
    }

    /// Checks delivery, commits, and seeks back what was not delivered (see [`settle`]).
    pub(crate) fn settle(&self) {
        let mut state = self.state();
        settle(self.consumer, self.options, &mut state, None, true);
    }

    /// Resumes paused partitions whose backoff is over.
    pub(crate) fn resume_due(&self) {
        let mut state = self.state();
        let now = Instant::now();
        let due: Vec<Partition> = state
            .paused
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(p, _)| p.clone())
            .collect();
        if due.is_empty() {
            return;
        }
        state.paused.retain(|(_, at)| *at > now);
        if let Err(e) = self.consumer.resume(&list(&due, None)) {
            tracing::warn!(target: "telemetron::relay", "resuming {}: {e}", names(&due));
        }
    }

    /// Closes the runtimes of runs idle for `idle_run_close_secs` with nothing pending.
    pub(crate) fn close_idle(&self) {
        let mut state = self.state();
        let pending = state.uncommitted.runs();
        let idle = state
            .runs
            .idle(self.options.idle_run_close(), &|key| pending.contains(key));
        state.runs.close(
            &idle,
            self.options.flush_timeout(),
            "no records for idle_run_close_secs",
        );
    }

    /// (runtimes open, the report so far).
    pub(crate) fn snapshot(&self) -> (usize, RelayReport) {
        let state = self.state();
        (state.runs.len(), state.report.clone())
    }

    /// Delivers and commits what was read, closes every runtime; the report.
    pub(crate) fn finish(&self) -> RelayReport {
        let mut state = self.state();
        let left = settle(self.consumer, self.options, &mut state, None, false);
        if !left.is_empty() {
            tracing::error!(
                target: "telemetron::relay",
                "not delivered, left uncommitted for the group to read again: {}",
                positions(&left)
            );
        }
        state.report.left_uncommitted = left.len() as u64;
        state.runs.close_all(self.options.flush_timeout());
        state.report.runs = state.runs.started;
        state.report.clone()
    }
}

/// A message as a record batch: the content-type header, when present, must be ours.
fn read(message: &BorrowedMessage<'_>) -> Result<telemetron_codec::DecodedBatch, String> {
    if let Some(headers) = message.headers() {
        if let Some(ct) = headers
            .iter()
            .find(|h| h.key.eq_ignore_ascii_case("content-type"))
            .and_then(|h| h.value)
        {
            telemetron_codec::check_content_type(&String::from_utf8_lossy(ct))
                .map_err(|e| e.to_string())?;
        }
    }
    let payload = message
        .payload()
        .ok_or_else(|| "the message has no value".to_string())?;
    telemetron_codec::decode(payload).map_err(|e| e.to_string())
}
