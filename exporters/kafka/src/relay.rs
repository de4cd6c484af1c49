//! The relay: a Kafka consumer-group member that reads `encoding: telemetron` topics and
//! forwards every record, unchanged, into a runtime of the producer's run configured by the
//! relay's YAML (its exporters: Metrana, OTLP, file, ...). Offsets are committed only after
//! those runtimes flushed the records to their exporters (at-least-once); N relays in one
//! group share the partitions; a stop request drains and commits.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use telemetron_runtime::{RunIdentity, Runtime};

/// The `relay:` section of a relay's YAML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayOptions {
    /// `host:port` list. Default `localhost:9092`.
    pub brokers: String,
    /// Consumer group: relays sharing it share the partitions. Default `telemetron-relay`.
    pub group: String,
    /// Topics to read. Default `[telemetron_records]`.
    pub topics: Vec<String>,
    /// librdkafka consumer properties, passed through (`security.protocol`, `sasl.*`,
    /// `session.timeout.ms`, ...).
    pub consumer: BTreeMap<String, Value>,
    /// Commit (after flushing) at least this often, seconds. Default 1.
    pub commit_interval_secs: f64,
    /// How long a flush before a commit may take, seconds. Default 30.
    pub flush_timeout_secs: f64,
    /// Progress and lag are logged this often, seconds. Default 10.
    pub progress_interval_secs: f64,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            brokers: "localhost:9092".into(),
            group: "telemetron-relay".into(),
            topics: vec!["telemetron_records".into()],
            consumer: BTreeMap::new(),
            commit_interval_secs: 1.0,
            flush_timeout_secs: 30.0,
            progress_interval_secs: 10.0,
        }
    }
}

/// Why the relay stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The consumer could not be created or subscribed.
    #[error("relay: kafka consumer: {0}")]
    Consumer(String),
    /// A runtime for a producer's run could not be started.
    #[error("relay: starting a runtime for run {run:?}: {reason}")]
    Runtime {
        /// The run.
        run: String,
        /// Why.
        reason: String,
    },
}

/// What a relay did, when it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Messages read.
    pub messages: u64,
    /// Records forwarded.
    pub records: u64,
    /// Messages skipped as unreadable (wrong content type, newer schema, malformed), each
    /// logged with its position.
    pub skipped: u64,
    /// Commits made.
    pub commits: u64,
    /// Runtimes started (one per producer run).
    pub runs: u64,
}

/// Builds the runtime records of `run` are forwarded into (the relay's exporters with that
/// run's identity).
pub type RuntimeFactory = dyn Fn(&RunIdentity) -> Result<Runtime, String> + Send + Sync;

/// What is read and not yet committed, shared with the rebalance callback.
#[derive(Default)]
struct Uncommitted {
    /// Next offset to commit per (topic, partition).
    offsets: HashMap<(String, i32), i64>,
    /// Runtimes that got records since the last commit.
    touched: Vec<Runtime>,
}

struct RelayContext {
    uncommitted: Arc<Mutex<Uncommitted>>,
    flush_timeout: Duration,
    commits: Arc<std::sync::atomic::AtomicU64>,
}

impl ClientContext for RelayContext {}

impl ConsumerContext for RelayContext {
    /// Partitions are about to move to another relay: deliver and commit what was read from
    /// them first, so the new owner does not read it again.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            if commit(consumer, &self.uncommitted, self.flush_timeout) {
                self.commits.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Flushes the runtimes that got records, then commits their offsets (synchronously). Nothing
/// is committed when a flush fails: those records are read again after a restart.
fn commit(
    consumer: &BaseConsumer<RelayContext>,
    uncommitted: &Mutex<Uncommitted>,
    flush_timeout: Duration,
) -> bool {
    let mut state = uncommitted.lock();
    if state.offsets.is_empty() {
        return false;
    }
    for runtime in &state.touched {
        if let Err(e) = runtime.flush(flush_timeout) {
            tracing::warn!(target: "telemetron::relay", "not committing: flush of run {:?} failed: {e}", runtime.run().run_name);
            return false;
        }
    }
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in &state.offsets {
        if list
            .add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .is_err()
        {
            return false;
        }
    }
    match consumer.commit(&list, CommitMode::Sync) {
        Ok(()) => {
            state.offsets.clear();
            state.touched.clear();
            true
        }
        Err(e) => {
            tracing::warn!(target: "telemetron::relay", "commit failed: {e}");
            false
        }
    }
}

/// Runs a relay until `stop` is set, then drains (flushes every runtime), commits and closes
/// the runtimes.
pub fn run_relay(
    options: &RelayOptions,
    factory: &RuntimeFactory,
    stop: Arc<AtomicBool>,
) -> Result<RelayReport, RelayError> {
    let uncommitted = Arc::new(Mutex::new(Uncommitted::default()));
    let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let flush_timeout = Duration::from_secs_f64(options.flush_timeout_secs.max(0.1));
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", &options.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest");
    for (k, v) in &options.consumer {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        config.set(k, text);
    }
    let consumer: BaseConsumer<RelayContext> = config
        .create_with_context(RelayContext {
            uncommitted: uncommitted.clone(),
            flush_timeout,
            commits: commits.clone(),
        })
        .map_err(|e| RelayError::Consumer(redacted(&e)))?;
    let topics: Vec<&str> = options.topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|e| RelayError::Consumer(e.to_string()))?;
    // One runtime per producer run (a handful per relay: a linear search is enough).
    let mut runtimes: Vec<(RunIdentity, Runtime)> = Vec::new();
    let mut report = RelayReport::default();
    let commit_every = Duration::from_secs_f64(options.commit_interval_secs.max(0.01));
    let progress_every = Duration::from_secs_f64(options.progress_interval_secs.max(0.1));
    let (mut last_commit, mut last_progress) = (Instant::now(), Instant::now());
    let mut records_at_progress = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if let Some(result) = consumer.poll(Duration::from_millis(100)) {
            match result {
                Ok(message) => {
                    report.messages += 1;
                    let position = format!(
                        "{}[{}]@{}",
                        message.topic(),
                        message.partition(),
                        message.offset()
                    );
                    match read(&message) {
                        Ok(batch) => {
                            let known = runtimes.iter().find(|(run, _)| *run == batch.run);
                            let runtime = match known {
                                Some((_, r)) => r.clone(),
                                None => {
                                    let r = factory(&batch.run).map_err(|reason| {
                                        RelayError::Runtime {
                                            run: batch.run.run_name.clone(),
                                            reason,
                                        }
                                    })?;
                                    report.runs += 1;
                                    tracing::info!(target: "telemetron::relay", "run {:?} (logger {}): runtime started", batch.run.run_name, batch.run.logger_id);
                                    runtimes.push((batch.run.clone(), r.clone()));
                                    r
                                }
                            };
                            report.records += batch.records.len() as u64;
                            if let Err(e) = runtime.forward(batch.records) {
                                tracing::warn!(target: "telemetron::relay", "{position}: forward: {e}");
                            }
                            let mut state = uncommitted.lock();
                            if !state.touched.iter().any(|r| r.run() == runtime.run()) {
                                state.touched.push(runtime);
                            }
                            state.offsets.insert(
                                (message.topic().to_string(), message.partition()),
                                message.offset() + 1,
                            );
                        }
                        Err(why) => {
                            report.skipped += 1;
                            tracing::warn!(target: "telemetron::relay", "{position}: skipped: {why}");
                            uncommitted.lock().offsets.insert(
                                (message.topic().to_string(), message.partition()),
                                message.offset() + 1,
                            );
                        }
                    }
                }
                Err(e) => tracing::warn!(target: "telemetron::relay", "kafka: {e}"),
            }
        }
        if last_commit.elapsed() >= commit_every {
            if commit(&consumer, &uncommitted, flush_timeout) {
                commits.fetch_add(1, Ordering::Relaxed);
            }
            last_commit = Instant::now();
        }
        if last_progress.elapsed() >= progress_every {
            let rate = (report.records - records_at_progress) as f64
                / last_progress.elapsed().as_secs_f64();
            tracing::info!(target: "telemetron::relay", "{} records ({rate:.0}/s), {} runs, lag {}", report.records, runtimes.len(), lag(&consumer));
            records_at_progress = report.records;
            last_progress = Instant::now();
        }
    }
    tracing::info!(target: "telemetron::relay", "stopping: draining and committing");
    if commit(&consumer, &uncommitted, flush_timeout) {
        commits.fetch_add(1, Ordering::Relaxed);
    }
    for (_, runtime) in runtimes {
        if let Err(e) = runtime.close(flush_timeout) {
            tracing::warn!(target: "telemetron::relay", "closing run {:?}: {e}", runtime.run().run_name);
        }
    }
    report.commits = commits.load(Ordering::Relaxed);
    Ok(report)
}

/// A message as a record batch: the content-type header, when present, must be ours.
fn read(
    message: &rdkafka::message::BorrowedMessage<'_>,
) -> Result<telemetron_codec::DecodedBatch, String> {
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
    telemetron_codec::decode(message.payload().unwrap_or_default()).map_err(|e| e.to_string())
}

/// Messages not yet read in the assigned partitions (high watermark − position).
fn lag(consumer: &BaseConsumer<RelayContext>) -> i64 {
    let Ok(positions) = consumer.position() else {
        return -1;
    };
    positions
        .elements()
        .iter()
        .filter_map(|e| {
            let (_, high) = consumer
                .fetch_watermarks(e.topic(), e.partition(), Duration::from_millis(500))
                .ok()?;
            match e.offset() {
                Offset::Offset(o) => Some((high - o).max(0)),
                _ => Some(high),
            }
        })
        .sum()
}

fn redacted(error: &rdkafka::error::KafkaError) -> String {
    match error {
        rdkafka::error::KafkaError::ClientConfig(_, desc, key, value) if !value.is_empty() => {
            format!("property {key:?}: {}", desc.replace(value.as_str(), "***"))
        }
        other => other.to_string(),
    }
}
