//! Header tokens of the OTLP exporter never reach logs, background errors, close reports or
//! the config description, even when every export fails.

mod common;

use std::time::Duration;

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

const TOKEN: &str = "tok-3f9a2c-secret";

#[test]
fn tokens_in_headers_stay_out_of_every_output() {
    // Global: the failures are logged on the runtime's own threads.
    let captured = common::logs::capture_logs();

    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_retries", 1)
        .set("retry_initial_backoff_secs", 0.01)
        .set("error_strategy", "warn")
        .exporters(vec![json!({
            "type": "otlp", "protocol": "http/protobuf", "endpoint": "http://127.0.0.1:9",
            "timeout_secs": 1, "headers": {"authorization": format!("Bearer {TOKEN}")}
        })]);
    let loaded = loader.load().unwrap();
    let description = loaded.describe();
    let runtime = telemetron::start_loaded(&loaded).unwrap();
    let span = runtime.start_span("x", None, Attributes::new()).unwrap();
    runtime.stop_span(span, Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();

    assert!(
        !report.background_errors.is_empty(),
        "the export must have failed"
    );
    let logs = captured.text();
    assert!(
        logs.contains("failed to export") && logs.contains(r#""headers":"***""#),
        "the failure and the (redacted) config are logged: {logs}"
    );
    for (what, text) in [
        ("logs", logs),
        ("description", description),
        ("report", format!("{report:?}")),
    ] {
        assert!(
            !text.contains(TOKEN),
            "the token leaked into the {what}: {text}"
        );
    }
}
