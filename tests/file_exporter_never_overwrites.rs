//! The file exporter never truncates a file it did not create: an existing file gets a fresh
//! name beside it (`run.1.jsonl`), or is appended to with `append: true`; two runs started in
//! one second by one process get their own default files; a symbolic link at the path is
//! refused unless allowed; every file is 0640 (rendered videos too), and an existing file
//! writable by every user is fixed.

#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use figment::Jail;
use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

/// Runs one runtime with `exporter`, logs events `tag-0..n`, closes, returns its health.
fn run(exporter: serde_json::Value, tag: &str, n: i64) -> Vec<telemetron::ExporterHealth> {
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_consecutive_failures", 1)
        .exporters(vec![exporter]);
    let runtime = telemetron::start(loader).unwrap();
    for i in 0..n {
        let name = format!("{tag}-{i}");
        runtime.event(None, name, Attributes::new()).unwrap();
    }
    let _ = runtime.flush(Duration::from_secs(10));
    let health = runtime.exporter_health();
    runtime.close(Duration::from_secs(10)).unwrap();
    health
}

fn names(path: &Path) -> Vec<String> {
    common::records_of(path)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn headers(path: &Path) -> usize {
    common::read_jsonl(path)
        .iter()
        .filter(|l| l["kind"] == "header")
        .count()
}

#[test]
fn an_existing_file_gets_a_fresh_name_or_is_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let theirs = "{\"kind\":\"event\",\"name\":\"theirs\"}\n";
    std::fs::write(&path, theirs).unwrap();

    run(json!({"type": "file", "path": path}), "first", 2);
    run(json!({"type": "file", "path": path}), "second", 2);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        theirs,
        "never truncated"
    );
    assert_eq!(
        names(&dir.path().join("run.1.jsonl")),
        ["first-0", "first-1"]
    );
    assert_eq!(
        names(&dir.path().join("run.2.jsonl")),
        ["second-0", "second-1"]
    );

    run(
        json!({"type": "file", "path": path, "append": true}),
        "appended",
        2,
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(theirs), "{text}");
    assert_eq!(names(&path), ["theirs", "appended-0", "appended-1"]);
    assert_eq!(
        headers(&path),
        1,
        "appending starts with a header line of its own"
    );
}

#[test]
fn two_runs_in_one_second_get_their_own_default_files() {
    Jail::expect_with(|jail| {
        let exporter = json!({"type": "file"});
        run(exporter.clone(), "a", 3);
        run(exporter, "b", 3);
        let out = jail.directory().join("telemetron-out");
        let mut files: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "{files:?}");
        let mut seen: Vec<Vec<String>> = files.iter().map(|f| names(f)).collect();
        seen.sort();
        assert_eq!(seen, [["a-0", "a-1", "a-2"], ["b-0", "b-1", "b-2"]]);
        Ok(())
    });
}

#[test]
fn a_symbolic_link_at_the_path_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "precious\n").unwrap();
    let link = dir.path().join("run.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    for exporter in [
        json!({"type": "file", "path": link}),
        json!({"type": "file", "path": link, "append": true}),
    ] {
        let health = run(exporter, "x", 1);
        let error = health[0].last_error.clone().unwrap_or_default();
        assert!(error.contains("symbolic link"), "{health:?}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    }
    assert!(
        !dir.path().join("run.1.jsonl").exists(),
        "refused, not renamed"
    );

    run(
        json!({"type": "file", "path": link, "append": true, "follow_symlinks": true}),
        "through",
        1,
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.starts_with("precious\n") && text.contains("through-0"),
        "{text}"
    );
}

#[test]
fn every_file_is_0640_and_world_writable_files_are_fixed() {
    // umask 0: only the mode we ask for protects the files.
    let old = unsafe { libc::umask(0) };
    let dir = tempfile::tempdir().unwrap();
    let created = dir.path().join("new/run.jsonl");
    run(
        json!({"type": "file", "path": created, "max_bytes": 600, "max_files": 2}),
        "rotated",
        20,
    );
    let open_to_all = dir.path().join("shared.jsonl");
    std::fs::write(&open_to_all, "").unwrap();
    std::fs::set_permissions(&open_to_all, std::fs::Permissions::from_mode(0o666)).unwrap();
    run(
        json!({"type": "file", "path": open_to_all, "append": true}),
        "s",
        1,
    );
    unsafe { libc::umask(old) };

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for file in [created.clone(), common_rotated(&created, 1), open_to_all] {
        assert_eq!(mode(&file), 0o640, "{}", file.display());
    }
    assert_eq!(mode(created.parent().unwrap()), 0o750);
}

fn common_rotated(path: &Path, n: usize) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    name.into()
}
