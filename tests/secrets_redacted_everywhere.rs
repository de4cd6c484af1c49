//! Secrets stay out of every output: option names that look secret (passwd, dsn, auth, ...),
//! options an exporter declares secret, URL userinfo and `?token=`-style parameters are
//! redacted in the config description (`config show`), exporter health, close reports,
//! background errors, flush errors and logs — even when a backend's error quotes them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use telemetron::model::{Event, SpanStart, SpanStop};
use telemetron::plugins::{
    inventory, BuildContext, ExporterRegistration, RegistryError, SecretOptionsRegistration,
};
use telemetron::{ConfigLoader, ExportError, Exporter, ExporterFactory};

/// Secrets this test configures; none may appear in any output.
const SECRETS: &[&str] = &[
    "pw-in-dsn-31337",
    "passwd-8c1f2e",
    "auth-token-77aa",
    "declared-5ec2e7",
    "url-pass-4242",
    "query-tok-9090",
];

/// An exporter whose backend refuses every export with an error that quotes its whole
/// configuration, as careless client libraries do.
struct Leaky(String);

impl Exporter for Leaky {
    fn export_start(&mut self, _: &SpanStart) -> Result<(), ExportError> {
        Err(ExportError::failed(format!(
            "backend refused; config was {}",
            self.0
        )))
    }
    fn export_stop(&mut self, _: &SpanStop) -> Result<(), ExportError> {
        Err(ExportError::failed(format!(
            "backend refused; config was {}",
            self.0
        )))
    }
    fn export_event(&mut self, _: &Event) -> Result<(), ExportError> {
        Err(ExportError::failed(format!(
            "backend refused; config was {}",
            self.0
        )))
    }
}

fn build_leaky(
    options: &Map<String, Value>,
    _: &BuildContext<'_>,
) -> Result<ExporterFactory, RegistryError> {
    let quoted = Value::Object(options.clone()).to_string();
    Ok(Arc::new(move || Box::new(Leaky(quoted.clone()))))
}

/// Like a Python exporter class naming its own secret options.
fn leaky_secret_options(options: &Map<String, Value>) -> Vec<String> {
    options
        .get("secret_options")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

inventory::submit! {
    ExporterRegistration {
        type_name: "leaky",
        description: "test exporter quoting its config in errors",
        secret_keys: &[],
        build: build_leaky,
    }
}

inventory::submit! {
    SecretOptionsRegistration { type_name: "leaky", secret_options: leaky_secret_options }
}

#[test]
fn secrets_never_reach_descriptions_health_reports_or_logs() {
    let captured = common::logs::capture_logs();

    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_retries", 0)
        .set("batch_max_size", 1)
        .set("max_consecutive_failures", 3)
        .set("error_strategy", "warn")
        .exporters(vec![
            json!({
                "type": "leaky",
                "dsn": "postgres://app:pw-in-dsn-31337@db/telemetry",
                "passwd": "passwd-8c1f2e",
                "nested": {"auth": "auth-token-77aa", "level": 3},
                "custom": "declared-5ec2e7",
                "secret_options": ["custom"],
                "url": "https://ingest:url-pass-4242@backend.example/v1?token=query-tok-9090&team=rl",
            }),
            json!({
                "type": "otlp", "protocol": "http/protobuf", "timeout_secs": 1,
                "endpoint": "http://bob:url-pass-4242@127.0.0.1:9/otlp?api_key=query-tok-9090",
            }),
        ]);
    let loaded = loader.load().unwrap();
    let description = loaded.describe();
    assert!(
        description.contains(r#""passwd":"***""#)
            && description.contains(r#""custom":"***""#)
            && description.contains("https://ingest:***@backend.example/v1?token=***&team=rl")
            && description.contains(r#""level":3"#),
        "secrets redacted, the rest shown:\n{description}"
    );
    let runtime = telemetron::start_loaded(&loaded).unwrap();
    for _ in 0..5 {
        runtime.event(None, "e", Default::default()).unwrap();
    }
    let flush = runtime
        .flush(Duration::from_secs(10))
        .unwrap_err()
        .to_string();
    let health = format!("{:?}", runtime.exporter_health());
    assert!(health.contains("backend refused"), "{health}");
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert!(!report.background_errors.is_empty());
    let logs = captured.text();
    assert!(logs.contains("backend refused"), "{logs}");
    for (what, text) in [
        ("description", description),
        ("health", health),
        ("flush error", flush),
        ("close report", format!("{report:?}")),
        ("logs", logs),
    ] {
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{secret} leaked into the {what}:\n{text}"
            );
        }
    }
}
