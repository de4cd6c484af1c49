//! `{type: kafka, brokers: ..., encoding: ..., topics: {...}, key: ..., producer: {...}}`.
//! Topic names, encoding and message size follow the OpenTelemetry Collector's kafka
//! exporter/receiver, so a stock Collector consumes what this exporter writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Options of the Kafka exporter.
///
/// ```yaml
/// exporters:
///   - type: kafka
///     brokers: "kafka-0:9092,kafka-1:9092"
///     encoding: otlp_proto            # otlp_proto (default) | otlp_json | telemetron
///     topics: {traces: otlp_spans, metrics: otlp_metrics, logs: otlp_logs, records: telemetron_records}
///     key: trace_id                   # trace_id | run | none
///     producer:                       # any librdkafka producer property
///       security.protocol: SASL_SSL
///       sasl.mechanism: SCRAM-SHA-512
///       sasl.username: trainer
///       sasl.password: ${KAFKA_PASSWORD}   # secret: redacted everywhere
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `host:port` list, comma-separated. Default `localhost:9092` (the Collector's).
    pub brokers: String,
    /// What each message value is.
    pub encoding: Encoding,
    /// Topic per signal.
    pub topics: Topics,
    /// Message key. Default: `run` with `encoding: telemetron` (a writer's records stay in
    /// order in one partition), `none` otherwise (the Collector's default).
    pub key: Option<KeyMode>,
    /// Largest message value, bytes, before compression. Default 1,000,000 (the Collector's
    /// `max_message_bytes`); batches are split to fit.
    pub max_message_bytes: usize,
    /// How long a call waits for room in librdkafka's queue before it reports a retryable
    /// failure (the runtime's backpressure then applies upstream). Default 5 s.
    pub queue_full_wait_secs: f64,
    /// librdkafka producer properties, passed through (`security.protocol`, `sasl.*`, `ssl.*`,
    /// `linger.ms`, `message.timeout.ms`, ...); they override the defaults below. Values of
    /// keys naming a password or secret are secrets.
    pub producer: BTreeMap<String, Value>,
    /// `service.name` of the OTLP resource (default `OTEL_SERVICE_NAME`, then the project, then
    /// `telemetron`), as the `otlp` exporter resolves it.
    pub service_name: Option<String>,
    /// More OTLP resource attributes (over `OTEL_RESOURCE_ATTRIBUTES`).
    pub resource_attributes: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "localhost:9092".into(),
            encoding: Encoding::OtlpProto,
            topics: Topics::default(),
            key: None,
            max_message_bytes: 1_000_000,
            queue_full_wait_secs: 5.0,
            producer: BTreeMap::new(),
            service_name: None,
            resource_attributes: BTreeMap::new(),
        }
    }
}

/// The message value format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// One serialized `Export{Trace,Metrics,Logs}ServiceRequest` per message (protobuf), no
    /// envelope: the Collector's `otlp_proto`.
    OtlpProto,
    /// The same requests in OTLP/JSON: the Collector's `otlp_json`.
    OtlpJson,
    /// Telemetron's lossless encoding (`application/x-telemetron-records; v=1`): every record
    /// kind, for the relay.
    Telemetron,
}

/// Topics, by signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Topics {
    /// OTLP spans. Default `otlp_spans`.
    pub traces: String,
    /// OTLP metrics. Default `otlp_metrics`.
    pub metrics: String,
    /// OTLP logs. Default `otlp_logs`.
    pub logs: String,
    /// Lossless record batches (`encoding: telemetron`). Default `telemetron_records`.
    pub records: String,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            traces: "otlp_spans".into(),
            metrics: "otlp_metrics".into(),
            logs: "otlp_logs".into(),
            records: "telemetron_records".into(),
        }
    }
}

/// The message key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// Span messages hold the spans of one trace and are keyed by its 32-hex id (the
    /// Collector's `partition_traces_by_id`); other messages have no key. OTLP encodings only.
    TraceId,
    /// `<run_name>/<logger_id>`: a writer's messages stay in order in one partition, a job's
    /// many writers spread over partitions.
    Run,
    /// No key.
    None,
}

/// A config that cannot work, named.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KafkaConfigError {
    /// Something is out of range or contradictory.
    #[error("kafka exporter: {0}")]
    Invalid(String),
}

/// Producer properties we set unless `producer:` overrides them.
const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    // Exactly once per partition across broker retries, in order.
    ("enable.idempotence", "true"),
    ("acks", "all"),
    ("compression.type", "zstd"),
    ("linger.ms", "5"),
    // librdkafka's default is 1 GiB: bounded here, and full means backpressure.
    ("queue.buffering.max.kbytes", "65536"),
];

impl KafkaConfig {
    /// The key mode in effect.
    pub fn key_mode(&self) -> KeyMode {
        self.key.unwrap_or(match self.encoding {
            Encoding::Telemetron => KeyMode::Run,
            _ => KeyMode::None,
        })
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), KafkaConfigError> {
        let invalid = |m: String| Err(KafkaConfigError::Invalid(m));
        if self.brokers.split(',').all(|b| b.trim().is_empty()) {
            return invalid("brokers must name at least one host:port".into());
        }
        if self.encoding == Encoding::Telemetron && self.key == Some(KeyMode::TraceId) {
            return invalid(
                "key: trace_id needs an OTLP encoding (a telemetron batch holds many traces); use run or none"
                    .into(),
            );
        }
        if self.max_message_bytes < 1024 {
            return invalid(format!(
                "max_message_bytes {} is below 1024",
                self.max_message_bytes
            ));
        }
        if !(self.queue_full_wait_secs.is_finite() && self.queue_full_wait_secs >= 0.0) {
            return invalid(format!(
                "queue_full_wait_secs {} must be a finite number >= 0",
                self.queue_full_wait_secs
            ));
        }
        for (name, topic) in [
            ("traces", &self.topics.traces),
            ("metrics", &self.topics.metrics),
            ("logs", &self.topics.logs),
            ("records", &self.topics.records),
        ] {
            check_topic_name(&format!("topics.{name}"), topic)
                .map_err(KafkaConfigError::Invalid)?;
        }
        check_property_values("producer", &self.producer).map_err(KafkaConfigError::Invalid)
    }

    /// The librdkafka properties: our defaults, then `producer:`, then `bootstrap.servers`
    /// from `brokers` unless `producer:` sets it.
    pub fn producer_properties(&self) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = PRODUCER_DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // Room for the key, headers and protocol overhead above our own size limit.
        props.insert(
            "message.max.bytes".into(),
            (self.max_message_bytes + 64 * 1024).to_string(),
        );
        props.insert("bootstrap.servers".into(), self.brokers.clone());
        for (k, v) in &self.producer {
            props.insert(k.clone(), property_text(v));
        }
        props
    }
}

/// A topic name Kafka accepts (1-249 of `a-z A-Z 0-9 . _ -`), or an error naming `field`.
pub(crate) fn check_topic_name(field: &str, topic: &str) -> Result<(), String> {
    let ok = !topic.is_empty()
        && topic.len() <= 249
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field} {topic:?} is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)"
        ))
    }
}

/// librdkafka properties (`producer:`, `consumer:`) must be scalars; the error names the key,
/// never the value (it may be a password).
pub(crate) fn check_property_values(
    section: &str,
    properties: &BTreeMap<String, Value>,
) -> Result<(), String> {
    match properties
        .iter()
        .find(|(_, v)| !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
    {
        Some((key, _)) => Err(format!(
            "{section}.{key} must be a string, number or boolean"
        )),
        None => Ok(()),
    }
}

/// A property value as librdkafka takes it (text).
pub(crate) fn property_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a librdkafka property's value is a secret (`sasl.password`, `ssl.key.password`,
/// `ssl.keystore.password`, `sasl.oauthbearer.client.secret`, ...).
pub fn is_secret_property(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "sasl.oauthbearer.config",
        "ssl.key.pem",
    ]
    .iter()
    .any(|hint| key.contains(hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_collectors_and_ours() {
        let c = KafkaConfig::default();
        assert_eq!(c.brokers, "localhost:9092");
        assert_eq!(c.encoding, Encoding::OtlpProto);
        assert_eq!(
            (c.topics.traces.as_str(), c.topics.metrics.as_str()),
            ("otlp_spans", "otlp_metrics")
        );
        assert_eq!(c.topics.logs, "otlp_logs");
        assert_eq!(c.max_message_bytes, 1_000_000);
        assert_eq!(c.key_mode(), KeyMode::None);
        let props = c.producer_properties();
        assert_eq!(props["enable.idempotence"], "true");
        assert_eq!(props["acks"], "all");
        assert_eq!(props["compression.type"], "zstd");
        let telemetron = KafkaConfig {
            encoding: Encoding::Telemetron,
            ..KafkaConfig::default()
        };
        assert_eq!(telemetron.key_mode(), KeyMode::Run);
    }

    #[test]
    fn producer_overrides_win_and_bad_values_never_echo() {
        let c: KafkaConfig = serde_json::from_value(serde_json::json!({
            "brokers": "a:1",
            "producer": {"acks": 1, "sasl.password": {"nested": "hunter2"}}
        }))
        .unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("producer.sasl.password"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let c: KafkaConfig = serde_json::from_value(serde_json::json!({
            "producer": {"acks": 1, "bootstrap.servers": "b:2"}
        }))
        .unwrap();
        c.validate().unwrap();
        let props = c.producer_properties();
        assert_eq!(
            (props["acks"].as_str(), props["bootstrap.servers"].as_str()),
            ("1", "b:2")
        );
        assert!(is_secret_property("sasl.password"));
        assert!(is_secret_property("ssl.key.password"));
        assert!(!is_secret_property("sasl.username"));
    }

    #[test]
    fn contradictions_and_bad_topics_are_named() {
        let bad = KafkaConfig {
            encoding: Encoding::Telemetron,
            key: Some(KeyMode::TraceId),
            ..KafkaConfig::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("trace_id"));
        let mut topic = KafkaConfig::default();
        topic.topics.logs = "logs/x".into();
        assert!(topic
            .validate()
            .unwrap_err()
            .to_string()
            .contains("topics.logs"));
    }
}
