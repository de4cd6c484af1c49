//! Log records reach the file exporter with severity, logger, body, attributes and the span
//! they were emitted in, including a remote parent taken from a `traceparent`.

mod common;

use std::time::Duration;

use serde_json::json;
use telemetron::model::{Attributes, Severity, SpanContext};
use telemetron::ConfigLoader;

#[test]
fn logs_are_written_with_severity_and_span_context() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .exporters(vec![json!({"type": "file", "path": path})]);
    let runtime = telemetron::start(loader).unwrap();
    let remote =
        SpanContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap();
    let span = runtime
        .start_span("worker", Some(remote), Attributes::new())
        .unwrap();
    runtime
        .log(
            Severity::WARN,
            "disk almost full",
            "trainer.io",
            Some(span),
            Attributes::new().with("free_gb", 1.5).unwrap(),
        )
        .unwrap();
    runtime
        .log(
            Severity::INFO,
            "no span",
            "trainer",
            None,
            Attributes::new(),
        )
        .unwrap();
    runtime.stop_span(span, Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");

    let records = common::records_of(&path);
    let logs: Vec<_> = records.iter().filter(|r| r["kind"] == "log").collect();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["severity_number"], 13);
    assert_eq!(logs[0]["severity_text"], "WARN");
    assert_eq!(logs[0]["logger"], "trainer.io");
    assert_eq!(logs[0]["body"], "disk almost full");
    assert_eq!(logs[0]["attributes"], json!({"free_gb": 1.5}));
    assert_eq!(logs[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(logs[0]["span_id"], span.span_id.to_string());
    assert!(logs[1]["trace_id"].is_null() && logs[1]["span_id"].is_null());
    let start = records.iter().find(|r| r["kind"] == "span_start").unwrap();
    assert_eq!(start["parent_span_id"], "00f067aa0ba902b7");
    assert!(
        report.background_errors.is_empty(),
        "a remote parent is not misuse: {:?}",
        report.background_errors
    );
}
