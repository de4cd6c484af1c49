//! Spans nest: children carry their parent's id and trace; stops are filled in by the Recorder.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

#[test]
fn nested_spans_record_parent_and_trace_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .exporters(vec![json!({"type": "file", "path": path})]);
    let runtime = telemetron::start(loader).unwrap();
    let (outer_ctx, inner_ctx);
    {
        let outer = runtime.span("outer").unwrap();
        outer_ctx = outer.context();
        let inner = runtime.span("inner").unwrap();
        inner_ctx = inner.context();
        // An explicit parent from another thread.
        let rt = runtime.clone();
        std::thread::spawn(move || {
            let leaf = rt
                .start_span("leaf", Some(inner_ctx), Attributes::new())
                .unwrap();
            rt.stop_span(leaf, Attributes::new()).unwrap();
        })
        .join()
        .unwrap();
    }
    let other_root = runtime
        .start_span("root2", None, Attributes::new())
        .unwrap();
    runtime.stop_span(other_root, Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");

    let lines = common::records_of(&path);
    let starts: HashMap<String, &serde_json::Value> = lines
        .iter()
        .filter(|l| l["kind"] == "span_start")
        .map(|l| (l["name"].as_str().unwrap().to_string(), l))
        .collect();
    assert_eq!(starts.len(), 4);
    assert_eq!(starts["outer"]["parent_span_id"], serde_json::Value::Null);
    assert_eq!(
        starts["inner"]["parent_span_id"],
        outer_ctx.span_id.to_string()
    );
    assert_eq!(
        starts["leaf"]["parent_span_id"],
        inner_ctx.span_id.to_string()
    );
    let trace = outer_ctx.trace_id.to_string();
    for name in ["outer", "inner", "leaf"] {
        assert_eq!(
            starts[name]["trace_id"], trace,
            "{name} shares the root's trace"
        );
    }
    assert_ne!(
        starts["root2"]["trace_id"], trace,
        "a new root starts a new trace"
    );

    let stops: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["kind"] == "span_stop").collect();
    let stop_names: Vec<&str> = stops.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        stop_names,
        ["leaf", "inner", "outer", "root2"],
        "stops in order, names filled in"
    );
    let inner_stop = stops[1];
    assert_eq!(inner_stop["parent_span_id"], outer_ctx.span_id.to_string());
    assert_eq!(inner_stop["status"], "ok");
    let start_ns = inner_stop["start_time_ns"].as_u64().unwrap();
    let stop_ns = inner_stop["time_ns"].as_u64().unwrap();
    assert_eq!(
        inner_stop["duration_ns"].as_u64().unwrap(),
        stop_ns - start_ns
    );
}
