//! The relay: a Kafka consumer-group member that reads `encoding: telemetron` topics and
//! forwards every record, unchanged, into a runtime of the producer's run configured by the
//! relay's YAML (its exporters: Metrana, OTLP, file, TensorBoard, ...).
//!
//! - **At least once**: a partition's offset is committed only after the runtimes of every run
//!   whose records it carried flushed and lost nothing (no failure after retries, no disabled
//!   exporter). What was not delivered is read again: the partition is sought back to its first
//!   uncommitted message and paused for a backoff, and the failing runtimes are rebuilt.
//!   Records a backend refused as invalid are counted and logged, not read again.
//! - **Scaling**: relays sharing a group share the partitions; before partitions move, what
//!   was read from them is delivered and committed (`pre_rebalance`).
//! - **Stopping**: when `stop()` turns true the relay delivers, commits, closes its runtimes
//!   and leaves the group.

mod commit;
mod consumer;
mod context;
mod offsets;
mod options;
mod progress;
mod runs;

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::Serialize;

pub use options::{RelayOptions, RelayOptionsError};
pub use runs::RuntimeFactory;

use consumer::RelayConsumer;
use context::RelayContext;

/// Why the relay could not run.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The options are wrong.
    #[error(transparent)]
    Options(#[from] RelayOptionsError),
    /// The consumer could not be created or subscribed.
    #[error("relay: {0}")]
    Consumer(String),
}

/// What a relay did, when it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Messages read (read again ones included).
    pub messages: u64,
    /// Records forwarded to the runtimes (read again ones included).
    pub records: u64,
    /// Messages skipped as unreadable (not ours, a newer schema, malformed), each logged with
    /// its position.
    pub skipped: u64,
    /// Records the backends refused as invalid (logged; not read again).
    pub rejected: u64,
    /// Commits made.
    pub commits: u64,
    /// Times a partition was read again because its records were not delivered.
    pub rereads: u64,
    /// Runtimes started (one per producer run, again after an idle close or a failure).
    pub runs: u64,
    /// Partitions whose last records were not delivered when the relay stopped: not
    /// committed, so the group reads them again.
    pub left_uncommitted: u64,
}

/// Runs a relay until `stop()` returns true (it is asked every 100 ms), then delivers and
/// commits what was read, closes the runtimes and leaves the group.
///
/// ```no_run
/// use telemetron_exporter_kafka::{run_relay, RelayOptions};
/// let options = RelayOptions { brokers: "kafka:9092".into(), ..RelayOptions::default() };
/// let factory = Box::new(|run: &telemetron_runtime::RunIdentity| {
///     let mut config = telemetron_runtime::RuntimeConfig::default();
///     config.run = run.clone();
///     telemetron_runtime::Runtime::start(config).map_err(|e| e.to_string())
/// });
/// let report = run_relay(&options, factory, &|| false).unwrap();
/// println!("{} records relayed", report.records);
/// ```
pub fn run_relay(
    options: &RelayOptions,
    factory: Box<RuntimeFactory>,
    stop: &dyn Fn() -> bool,
) -> Result<RelayReport, RelayError> {
    options.validate()?;
    let mut config = ClientConfig::new();
    for (k, v) in options.consumer_properties() {
        config.set(k, v);
    }
    let context = RelayContext::new(options.clone(), factory);
    let consumer: BaseConsumer<RelayContext> = config
        .create_with_context(context)
        .map_err(|e| RelayError::Consumer(crate::service::config_error("consumer", &e)))?;
    let topics: Vec<&str> = options.topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| RelayError::Consumer(format!("subscribing to {topics:?}: {e}")))?;
    tracing::info!(
        target: "telemetron::relay",
        "relay started: group {:?}, topics {:?}, brokers {}",
        options.group, options.topics, options.brokers
    );
    let relay = RelayConsumer {
        consumer: &consumer,
        options,
    };
    let mut last_settle = Instant::now();
    let mut progress = progress::Progress::new();
    while !stop() {
        relay.resume_due();
        if let Some(result) = consumer.poll(Duration::from_millis(100)) {
            match result {
                Ok(message) => relay.handle(&message),
                Err(e) => tracing::warn!(target: "telemetron::relay", "kafka: {e}"),
            }
        }
        if last_settle.elapsed() >= options.commit_interval() {
            relay.settle();
            relay.close_idle();
            last_settle = Instant::now();
        }
        if progress.due(options.progress_interval()) {
            progress.log(&relay);
        }
    }
    tracing::info!(target: "telemetron::relay", "stopping: delivering and committing what was read");
    let report = relay.finish();
    consumer.unsubscribe();
    drop(consumer);
    tracing::info!(
        target: "telemetron::relay",
        "relay stopped: {} messages, {} records, {} commits, {} re-reads, {} rejected, {} skipped",
        report.messages, report.records, report.commits, report.rereads, report.rejected, report.skipped
    );
    Ok(report)
}
