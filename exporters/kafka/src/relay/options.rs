//! The `relay:` section of a relay's YAML: where to read, as which group, how often to commit.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{check_property_values, check_topic_name, property_text};

/// Options of `telemetron relay` (the `relay:` section of its config file; the file's
/// `exporters:` and settings configure where the records go).
///
/// ```yaml
/// relay:
///   brokers: "kafka-0:9092,kafka-1:9092"
///   group: telemetron-relay          # relays sharing a group share the partitions
///   topics: [telemetron_records]
///   consumer:                        # any librdkafka consumer property
///     session.timeout.ms: 10000
///     security.protocol: SASL_SSL
///     sasl.password: ${KAFKA_PASSWORD}
/// exporters:
///   - {type: otlp, endpoint: http://otel-collector:4317}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayOptions {
    /// `host:port` list, comma-separated. Default `localhost:9092`.
    pub brokers: String,
    /// Consumer group: relays sharing it share the partitions. Default `telemetron-relay`.
    pub group: String,
    /// Topics to read (`encoding: telemetron`). Default `[telemetron_records]`.
    pub topics: Vec<String>,
    /// librdkafka consumer properties, passed through (`security.protocol`, `sasl.*`, `ssl.*`,
    /// `session.timeout.ms`, `auto.offset.reset`, ...). Values of keys naming a password or
    /// secret are secrets.
    pub consumer: BTreeMap<String, Value>,
    /// Deliver and commit at least this often, seconds. Default 1.
    pub commit_interval_secs: f64,
    /// How long the exporters may take to deliver what was forwarded before a commit,
    /// seconds; longer counts as not delivered (read again). Default 30.
    pub flush_timeout_secs: f64,
    /// Progress and lag are logged this often, seconds. Default 10.
    pub progress_interval_secs: f64,
    /// A producer run's runtime is closed after this long without records (its exporters
    /// close: Metrana gets `CloseRun`), seconds. Default 300.
    pub idle_run_close_secs: f64,
    /// Longest wait before reading again what was not delivered, seconds (the wait doubles
    /// from 0.5 s). Default 30.
    pub retry_max_backoff_secs: f64,
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
            idle_run_close_secs: 300.0,
            retry_max_backoff_secs: 30.0,
        }
    }
}

/// Consumer properties the relay decides itself: `consumer:` may not set them.
const OWNED: &[(&str, &str)] = &[
    ("group.id", "use `group`"),
    ("bootstrap.servers", "use `brokers`"),
    (
        "enable.auto.commit",
        "the relay commits only what its exporters delivered",
    ),
    (
        "enable.auto.offset.store",
        "the relay commits only what its exporters delivered",
    ),
];

/// Consumer defaults, each overridable under `consumer:`.
const CONSUMER_DEFAULTS: &[(&str, &str)] = &[
    // A new group reads the topic from its start: nothing a producer wrote is skipped.
    ("auto.offset.reset", "earliest"),
];

/// Options that cannot work, named.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RelayOptionsError {
    /// Something is out of range or contradictory.
    #[error("relay: {0}")]
    Invalid(String),
}

impl RelayOptions {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), RelayOptionsError> {
        let invalid = |m: String| Err(RelayOptionsError::Invalid(m));
        if self.brokers.split(',').all(|b| b.trim().is_empty()) {
            return invalid("brokers must name at least one host:port".into());
        }
        if self.group.trim().is_empty() {
            return invalid("group must not be empty".into());
        }
        if self.topics.is_empty() {
            return invalid("topics must name at least one topic".into());
        }
        for topic in &self.topics {
            check_topic_name("topics", topic).map_err(RelayOptionsError::Invalid)?;
        }
        for (name, value, min) in [
            ("commit_interval_secs", self.commit_interval_secs, 0.01),
            ("flush_timeout_secs", self.flush_timeout_secs, 0.1),
            ("progress_interval_secs", self.progress_interval_secs, 0.1),
            ("idle_run_close_secs", self.idle_run_close_secs, 1.0),
            ("retry_max_backoff_secs", self.retry_max_backoff_secs, 0.5),
        ] {
            if !(value.is_finite() && value >= min && value <= 1e6) {
                return invalid(format!(
                    "{name} {value} must be a number of seconds from {min} to 1000000"
                ));
            }
        }
        check_property_values("consumer", &self.consumer).map_err(RelayOptionsError::Invalid)?;
        if let Some((key, why)) = OWNED
            .iter()
            .find(|(key, _)| self.consumer.contains_key(*key))
        {
            return invalid(format!("consumer.{key} cannot be set: {why}"));
        }
        Ok(())
    }

    /// The librdkafka consumer properties: defaults, then `consumer:`, then what the relay
    /// owns (group, brokers, manual commits).
    pub fn consumer_properties(&self) -> BTreeMap<String, String> {
        let mut props: BTreeMap<String, String> = CONSUMER_DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // The lag in the progress line comes from librdkafka's statistics (asking the brokers
        // for each partition's watermarks would stall the loop).
        props.insert(
            "statistics.interval.ms".into(),
            ((self.progress_interval_secs * 1000.0).round() as u64)
                .clamp(100, 86_400_000)
                .to_string(),
        );
        for (k, v) in &self.consumer {
            props.insert(k.clone(), property_text(v));
        }
        props.insert("bootstrap.servers".into(), self.brokers.clone());
        props.insert("group.id".into(), self.group.clone());
        props.insert("enable.auto.commit".into(), "false".into());
        props.insert("enable.auto.offset.store".into(), "false".into());
        props
    }

    pub(crate) fn commit_interval(&self) -> Duration {
        Duration::from_secs_f64(self.commit_interval_secs)
    }

    pub(crate) fn flush_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.flush_timeout_secs)
    }

    pub(crate) fn progress_interval(&self) -> Duration {
        Duration::from_secs_f64(self.progress_interval_secs)
    }

    pub(crate) fn idle_run_close(&self) -> Duration {
        Duration::from_secs_f64(self.idle_run_close_secs)
    }

    pub(crate) fn retry_max_backoff(&self) -> Duration {
        Duration::from_secs_f64(self.retry_max_backoff_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(value: Value) -> RelayOptions {
        serde_json::from_value(value).expect("options")
    }

    #[test]
    fn defaults_read_everything_and_commit_by_hand() {
        let o = RelayOptions::default();
        o.validate().unwrap();
        let props = o.consumer_properties();
        assert_eq!(props["group.id"], "telemetron-relay");
        assert_eq!(props["bootstrap.servers"], "localhost:9092");
        assert_eq!(props["enable.auto.commit"], "false");
        assert_eq!(props["auto.offset.reset"], "earliest");
        assert_eq!(o.topics, ["telemetron_records"]);
    }

    #[test]
    fn consumer_properties_pass_through_but_not_over_what_the_relay_owns() {
        let o = options(
            json!({"consumer": {"session.timeout.ms": 6000, "auto.offset.reset": "latest"}}),
        );
        o.validate().unwrap();
        let props = o.consumer_properties();
        assert_eq!(props["session.timeout.ms"], "6000");
        assert_eq!(props["auto.offset.reset"], "latest");
        for key in ["group.id", "enable.auto.commit", "bootstrap.servers"] {
            let err = options(json!({"consumer": {key: "x"}}))
                .validate()
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn bad_values_are_named_never_echoing_a_secret() {
        let err = options(json!({"consumer": {"sasl.password": ["hunter2"]}}))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("consumer.sasl.password") && !err.contains("hunter2"),
            "{err}"
        );
        let err = options(json!({"topics": ["a/b"]}))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"a/b\""), "{err}");
        let err = options(json!({"commit_interval_secs": 0.0}))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("commit_interval_secs 0"), "{err}");
        assert!(options(json!({"topics": []})).validate().is_err());
        assert!(options(json!({"group": " "})).validate().is_err());
        let unknown = serde_json::from_value::<RelayOptions>(json!({"grup": "x"}));
        assert!(unknown.unwrap_err().to_string().contains("grup"));
    }
}
