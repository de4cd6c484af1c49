//! An exporter whose file cannot be opened fails and is tracked by health; the runtime and the
//! other exporters keep going.

mod common;

use std::time::Duration;

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

#[test]
fn an_unwritable_path_fails_that_exporter_only() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let good = dir.path().join("good.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("batch_max_size", 1)
        .exporters(vec![
            json!({"type": "file", "name": "broken", "path": blocker.join("run.jsonl")}),
            json!({"type": "file", "name": "good", "path": good}),
        ]);
    let runtime = telemetron::start(loader).unwrap();
    for i in 0..10i64 {
        runtime
            .event(None, "e", Attributes::new().with("i", i).unwrap())
            .unwrap();
    }
    let _ = runtime.flush(Duration::from_secs(10));
    let health = runtime.exporter_health();
    let broken = health.iter().find(|h| h.name == "broken").unwrap();
    assert!(broken.disabled.is_some(), "{broken:?}");
    assert!(
        broken
            .last_error
            .as_deref()
            .unwrap()
            .contains("cannot open"),
        "{broken:?}"
    );
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(common::records_of(&good).len(), 10);
    assert!(report
        .undelivered
        .iter()
        .any(|u| u.exporter == "broken" && u.records == 10));
}
