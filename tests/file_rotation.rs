//! The file exporter rotates by size, keeps `max_files` rotated files, writes 0640 files, and
//! every line of every file is a schema-versioned JSON record.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

#[test]
fn rotates_by_size_and_keeps_max_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/run.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .exporters(vec![json!({
            "type": "file", "path": path, "max_bytes": 4096, "max_files": 2, "batch_max_size": 16
        })]);
    let runtime = telemetron::start(loader).unwrap();
    for i in 0..400i64 {
        runtime
            .event(None, "tick", Attributes::new().with("i", i).unwrap())
            .unwrap();
    }
    runtime.close(Duration::from_secs(10)).unwrap();

    let rotated: Vec<_> = (1..=3)
        .map(|n| dir.path().join(format!("logs/run.jsonl.{n}")))
        .collect();
    assert!(rotated[0].exists() && rotated[1].exists());
    assert!(
        !rotated[2].exists(),
        "only max_files rotated files are kept"
    );
    let mut seen_i = Vec::new();
    for file in [&rotated[1], &rotated[0], &path] {
        let meta = std::fs::metadata(file).unwrap();
        assert!(
            meta.len() <= 4096,
            "{} is {} bytes",
            file.display(),
            meta.len()
        );
        assert_eq!(
            meta.permissions().mode() & 0o777 & !0o640,
            0,
            "not more open than 0640"
        );
        let lines = common::read_jsonl(file);
        assert_eq!(
            lines[0]["kind"], "header",
            "every file starts with a header"
        );
        assert!(lines.iter().all(|l| l["schema"] == 1));
        seen_i.extend(
            lines[1..]
                .iter()
                .map(|l| l["attributes"]["i"].as_i64().unwrap()),
        );
    }
    // Newest files hold the newest records, in order and without gaps.
    assert_eq!(*seen_i.last().unwrap(), 399);
    assert!(
        seen_i.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous across files"
    );
}
