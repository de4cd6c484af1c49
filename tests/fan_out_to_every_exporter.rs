//! Every exporter receives every record: two file exporters write identical streams.

mod common;

use std::time::Duration;

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::{ConfigLoader, ErrorInfo};

#[test]
fn two_file_exporters_receive_identical_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("a.jsonl"),
        dir.path().join("b/nested/b.jsonl"),
    );
    let loader = ConfigLoader::new().without_discovery().exporters(vec![
        json!({"type": "file", "path": a}),
        json!({"type": "file", "path": b, "batch_max_size": 7}),
    ]);
    let runtime = telemetron::start(loader).unwrap();
    for i in 0..500i64 {
        let span = runtime
            .start_span("step", None, Attributes::new().with("i", i).unwrap())
            .unwrap();
        runtime
            .event(Some(span), "tick", Attributes::new().with("i", i).unwrap())
            .unwrap();
        if i % 100 == 0 {
            runtime
                .error(Some(span), ErrorInfo::message(format!("failure at {i}")))
                .unwrap();
        }
        runtime.stop_span(span, Attributes::new()).unwrap();
    }
    runtime.event(None, "done", Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0);

    let (ra, rb) = (common::records_of(&a), common::records_of(&b));
    assert_eq!(ra.len(), 500 * 3 + 5 + 1);
    assert_eq!(
        ra, rb,
        "both exporters saw the same records in the same order"
    );
    assert_eq!(ra.iter().filter(|r| r["kind"] == "error").count(), 5);
    let errored: Vec<_> = ra
        .iter()
        .filter(|r| r["kind"] == "span_stop" && r["status"] == "error")
        .collect();
    assert_eq!(
        errored.len(),
        5,
        "spans with an error stop with status error"
    );
    let metrics = runtime.metrics();
    for name in ["file", "file#2"] {
        assert_eq!(metrics.exporter_total(name).sent, ra.len() as u64, "{name}");
    }
}
