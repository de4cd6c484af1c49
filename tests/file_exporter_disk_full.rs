//! A write that fails part-way (a full disk, a file size limit) leaves no partial line: the
//! file is cut back to its last good offset, so the retry writes each record once, and the
//! exporter's counters equal the lines on disk.
//!
//! Two real failures: ENOSPC on a 64 KiB tmpfs (needs mount rights: root here; skipped with a
//! message otherwise), and EFBIG from RLIMIT_FSIZE in a child process (works anywhere).

mod common;

use std::collections::HashSet;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::{ConfigLoader, Runtime};

/// Records per test batch: about 7 KB of lines, more than the room left on the disk.
const BATCH: i64 = 50;

/// A 64 KiB tmpfs, unmounted on drop.
struct SmallTmpfs {
    dir: PathBuf,
}

impl SmallTmpfs {
    fn mount(dir: &Path) -> Result<SmallTmpfs, String> {
        let target = CString::new(dir.as_os_str().as_bytes()).unwrap();
        let fs = CString::new("tmpfs").unwrap();
        let options = CString::new("size=64k,mode=0755").unwrap();
        let rc = unsafe {
            libc::mount(
                fs.as_ptr(),
                target.as_ptr(),
                fs.as_ptr(),
                0,
                options.as_ptr().cast(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok(SmallTmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let target = CString::new(self.dir.as_os_str().as_bytes()).unwrap();
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

fn log_batch(runtime: &Runtime, from: i64) {
    for i in from..from + BATCH {
        let attrs = Attributes::new()
            .with("i", i)
            .unwrap()
            .with("pad", "x".repeat(60))
            .unwrap();
        runtime.event(None, "tick", attrs).unwrap();
    }
}

/// Every line parses; returns the `i` of each event, checking none appears twice.
fn records_on_disk(path: &Path) -> Vec<i64> {
    let is: Vec<i64> = common::records_of(path)
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| r["attributes"]["i"].as_i64().expect("a whole tick record"))
        .collect();
    let unique: HashSet<_> = is.iter().collect();
    assert_eq!(unique.len(), is.len(), "no record written twice: {is:?}");
    is
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn enospc_mid_batch_is_rolled_back_and_the_retry_writes_each_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let mount = match SmallTmpfs::mount(dir.path()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs here ({e}); the RLIMIT_FSIZE test covers partial \
                 writes"
            );
            return;
        }
    };
    let path = mount.dir.join("run.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_retries", 10_000)
        .set("retry_initial_backoff_secs", 0.01)
        .set("retry_max_backoff_secs", 0.02)
        .exporters(vec![
            json!({"type": "file", "path": path, "batch_max_size": BATCH}),
        ]);
    let runtime = telemetron::start(loader).unwrap();
    log_batch(&runtime, 0);
    runtime.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(records_on_disk(&path).len(), BATCH as usize);

    // Fill the disk, then give back one page: less room than a batch needs.
    let filler_path = mount.dir.join("filler");
    let mut filler = std::fs::File::create(&filler_path).unwrap();
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    let len = filler.metadata().unwrap().len();
    filler.set_len(len.saturating_sub(4096)).unwrap();
    filler.sync_all().unwrap();
    let size_before = std::fs::metadata(&path).unwrap().len();
    let touched = modified(&path);

    log_batch(&runtime, BATCH);
    // The exporter wrote part of the batch, hit ENOSPC, and cut the file back.
    wait_for("a failed write", || modified(&path) != touched);
    assert_eq!(
        records_on_disk(&path).len(),
        BATCH as usize,
        "only whole lines"
    );
    let now = std::fs::metadata(&path).unwrap().len();
    assert!(now <= size_before + 4096, "{now} vs {size_before}");

    drop(filler);
    std::fs::remove_file(&filler_path).unwrap();
    runtime.flush(Duration::from_secs(20)).unwrap();
    let m = runtime.metrics().exporter_total("file");
    let on_disk = records_on_disk(&path);
    assert_eq!(on_disk, (0..2 * BATCH).collect::<Vec<_>>());
    assert_eq!(
        m.sent,
        on_disk.len() as u64,
        "counters equal the disk: {m:?}"
    );
    assert_eq!((m.failed, m.dropped), (0, 0));
    runtime.close(Duration::from_secs(10)).unwrap();
}

/// What the child reports: the exporter's counters.
const CHILD_DIR: &str = "TELEMETRON_TEST_FSIZE_DIR";

#[test]
fn a_file_size_limit_mid_batch_leaves_whole_lines_and_exact_counters() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "file_size_limited_child",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("COUNTERS "))
        .expect("the child reports its counters");
    let counters: serde_json::Value = serde_json::from_str(line).unwrap();
    let on_disk = records_on_disk(&dir.path().join("run.jsonl"));
    // The first batch fit; the second hit the limit (refused whole); the third, after the
    // limit was raised, fit.
    let expected: Vec<i64> = (0..BATCH).chain(2 * BATCH..3 * BATCH).collect();
    assert_eq!(on_disk, expected);
    assert_eq!(counters["sent"], on_disk.len() as u64, "{counters}");
    assert_eq!(counters["failed"], BATCH as u64, "{counters}");
}

/// Runs in a child process: RLIMIT_FSIZE is process-wide.
#[test]
#[ignore = "run by a_file_size_limit_mid_batch_leaves_whole_lines_and_exact_counters"]
fn file_size_limited_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR).map(PathBuf::from) else {
        return;
    };
    // Past the limit write() fails with EFBIG instead of the process being killed.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let path = dir.join("run.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_retries", 0)
        .set("max_consecutive_failures", 100)
        .exporters(vec![
            json!({"type": "file", "path": path, "batch_max_size": BATCH}),
        ]);
    let runtime = telemetron::start(loader).unwrap();
    log_batch(&runtime, 0);
    runtime.flush(Duration::from_secs(10)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let set_limit = |bytes: u64| {
        let limit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &limit) }, 0);
    };
    set_limit(size + 1000);
    log_batch(&runtime, BATCH);
    let _ = runtime.flush(Duration::from_secs(10));
    set_limit(libc::RLIM_INFINITY);
    log_batch(&runtime, 2 * BATCH);
    runtime.flush(Duration::from_secs(10)).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    let m = report.metrics.exporter_total("file");
    let events = report.metrics.exporters["file"]["event"];
    println!(
        "COUNTERS {}",
        json!({"sent": events.sent, "failed": events.failed, "all_failed": m.failed})
    );
}
