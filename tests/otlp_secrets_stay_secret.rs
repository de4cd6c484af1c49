//! Header tokens of the OTLP exporter never reach logs, background errors, close reports or
//! the config description, even when every export fails.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

const TOKEN: &str = "tok-3f9a2c-secret";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tokens_in_headers_stay_out_of_every_output() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    // Global: the failures are logged on the runtime's own threads.
    tracing::subscriber::set_global_default(subscriber).unwrap();

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
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
