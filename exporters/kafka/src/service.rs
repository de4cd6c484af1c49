//! The librdkafka producer: messages in, delivery reports out. Reports count each message's
//! records as sent or failed through the runtime's `Deliveries`; the bytes in flight bound
//! what we hand librdkafka, so a batch is produced whole or not at all.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use telemetron_runtime::{Deliveries, ExportError, KindCounts};

use crate::encoder::OutMessage;

/// What delivery reports tell the exporter thread.
#[derive(Default)]
pub(crate) struct DeliveryState {
    /// Payload bytes produced and not yet reported.
    in_flight_bytes: AtomicU64,
    /// The last report's failure, cleared by a success.
    last_failure: Mutex<Option<String>>,
}

/// Each message's opaque: its records and size.
pub(crate) struct Sent {
    tally: KindCounts,
    bytes: u64,
}

pub(crate) struct DeliveryContext {
    deliveries: Deliveries,
    state: Arc<DeliveryState>,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "telemetron::kafka", "librdkafka {fac}: {log_message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "telemetron::kafka", "librdkafka {fac}: {log_message}")
            }
            _ => tracing::debug!(target: "telemetron::kafka", "librdkafka {fac}: {log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "telemetron::kafka", "kafka client: {error}: {reason}");
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<Sent>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Sent>) {
        self.state
            .in_flight_bytes
            .fetch_sub(sent.bytes, Ordering::AcqRel);
        match result {
            Ok(_) => {
                for (kind, n) in sent.tally.iter() {
                    self.deliveries.acknowledged(kind, n);
                }
                *self.state.last_failure.lock() = None;
            }
            Err((error, _)) => {
                let reason = error.to_string();
                for (kind, n) in sent.tally.iter() {
                    self.deliveries.failed(kind, n, &reason);
                }
                *self.state.last_failure.lock() = Some(reason);
            }
        }
    }
}

/// The producer and its bookkeeping.
pub(crate) struct KafkaService {
    producer: ThreadedProducer<DeliveryContext>,
    state: Arc<DeliveryState>,
    deliveries: Deliveries,
    /// How many payload bytes may be in flight (below librdkafka's own queue limit).
    max_in_flight_bytes: u64,
}

impl KafkaService {
    /// Creates the producer (it connects in the background). A property librdkafka refuses is
    /// named without its value, which may be a secret.
    pub(crate) fn new(
        properties: &BTreeMap<String, String>,
        deliveries: Deliveries,
    ) -> Result<Self, ExportError> {
        let mut config = ClientConfig::new();
        for (k, v) in properties {
            config.set(k, v);
        }
        let state = Arc::new(DeliveryState::default());
        let context = DeliveryContext {
            deliveries: deliveries.clone(),
            state: state.clone(),
        };
        let producer: ThreadedProducer<DeliveryContext> = config
            .create_with_context(context)
            .map_err(|e| ExportError::failed(config_error("producer", &e)))?;
        let queue_kib: u64 = properties
            .get("queue.buffering.max.kbytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_048_576);
        Ok(KafkaService {
            producer,
            state,
            deliveries,
            max_in_flight_bytes: queue_kib * 1024 * 9 / 10,
        })
    }

    /// The last delivery failure since the last success, if any.
    pub(crate) fn failing(&self) -> Option<String> {
        self.state.last_failure.lock().clone()
    }

    /// Whether anything is still waiting for a delivery report.
    pub(crate) fn idle(&self) -> bool {
        self.producer.in_flight_count() == 0
    }

    /// Asks a broker for metadata: whether the cluster answers at all.
    pub(crate) fn probe(&self, timeout: Duration) -> Result<(), String> {
        self.producer
            .client()
            .fetch_metadata(None, timeout)
            .map(|_| {
                *self.state.last_failure.lock() = None;
            })
            .map_err(|e| e.to_string())
    }

    /// Waits until `bytes` more fit in flight, at most until `deadline`.
    pub(crate) fn wait_for_room(&self, bytes: u64, deadline: Instant) -> bool {
        loop {
            let in_flight = self.state.in_flight_bytes.load(Ordering::Acquire);
            // An empty pipeline takes any batch: a single batch larger than the limit would
            // otherwise wait forever.
            if in_flight == 0 || in_flight + bytes <= self.max_in_flight_bytes {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Produces one message; waits for room in librdkafka's queue until `deadline`. Returns
    /// the message back when the queue stayed full. A message librdkafka refuses outright
    /// (too large, unknown topic) has its records counted as rejected.
    pub(crate) fn produce(&self, message: OutMessage, deadline: Instant) -> Result<(), OutMessage> {
        let bytes = message.payload.len() as u64;
        let headers = OwnedHeaders::new().insert(Header {
            key: "content-type",
            value: Some(message.content_type),
        });
        let sent = Box::new(Sent {
            tally: message.tally,
            bytes,
        });
        let mut record = BaseRecord::with_opaque_to(&message.topic, sent)
            .payload(&message.payload)
            .headers(headers);
        if let Some(key) = &message.key {
            record = record.key(key);
        }
        self.state
            .in_flight_bytes
            .fetch_add(bytes, Ordering::AcqRel);
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now() < deadline =>
                {
                    record = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((error, back)) => {
                    self.state
                        .in_flight_bytes
                        .fetch_sub(bytes, Ordering::AcqRel);
                    let queue_full = matches!(
                        error,
                        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)
                    );
                    let sent = back.delivery_opaque;
                    if queue_full {
                        return Err(OutMessage {
                            topic: message.topic.clone(),
                            key: message.key.clone(),
                            payload: message.payload.clone(),
                            content_type: message.content_type,
                            tally: sent.tally,
                        });
                    }
                    for (kind, n) in sent.tally.iter() {
                        self.deliveries.rejected(
                            kind,
                            n,
                            &format!("kafka refused the message: {error}"),
                        );
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Waits for every delivery report until `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), ExportError> {
        self.producer.flush(timeout).map_err(|e| {
            ExportError::retryable(format!(
                "kafka: {} message(s) not delivered within {timeout:?}: {e}",
                self.producer.in_flight_count()
            ))
        })
    }

    /// Gives up on everything not delivered: each such message is reported failed (purged).
    pub(crate) fn purge(&self) {
        self.producer
            .purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
        // The reports of purged messages arrive through the polling thread.
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.producer.in_flight_count() > 0 && Instant::now() < deadline {
            self.producer.poll(Duration::from_millis(10));
        }
    }
}

/// A librdkafka config error of a `client` (`producer`, `consumer`) without the value (it may
/// be a password).
pub(crate) fn config_error(client: &str, error: &KafkaError) -> String {
    match error {
        KafkaError::ClientConfig(_, desc, key, value) => {
            let desc = if value.is_empty() {
                desc.clone()
            } else {
                desc.replace(value.as_str(), "***")
            };
            format!("kafka {client} property {key:?}: {desc}")
        }
        other => format!("kafka {client}: {other}"),
    }
}
