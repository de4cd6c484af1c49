//! The `system_metrics` plugin samples this host and process on its own thread: plausible values
//! at wall-clock steps reach the file exporter, GPU series exist only where NVML finds a GPU
//! (one info line otherwise, no error), and the thread is gone once the runtime is closed.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use telemetron::ConfigLoader;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn samples(lines: &[Value], name: &str) -> Vec<(u64, f64)> {
    lines
        .iter()
        .filter(|l| l["kind"] == "metric" && l["name"] == name)
        .map(|l| {
            (
                l["steps"][0].as_u64().unwrap(),
                l["values"][0].as_f64().unwrap(),
            )
        })
        .collect()
}

fn sampler_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim() == telemetron::recorders::SYSTEM_METRICS_THREAD)
        .count()
}

#[test]
fn the_sampler_emits_plausible_system_series_and_stops_at_close() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .finish();
    // Global: the sampler logs on its own thread.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let plugin = json!({"type": "system_metrics", "interval_secs": 0.2});
    let (runtime, path) = common::start_with_file(dir.path(), vec![plugin]);
    let started_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        runtime.flush(Duration::from_secs(10)).unwrap();
        let lines = common::records_of(&path);
        if samples(&lines, "system/process/rss_bytes").len() >= 3 {
            break lines;
        }
        assert!(
            Instant::now() < deadline,
            "no samples after 30 s: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(sampler_threads(), 1);

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let within = |name: &str, lo: f64, hi: f64| {
        let got = samples(&lines, name);
        assert!(!got.is_empty(), "no {name}");
        for (_, v) in &got {
            assert!((lo..=hi).contains(v), "{name} = {v} not in [{lo}, {hi}]");
        }
        got
    };
    within("system/cpu_percent", 0.0, 100.0);
    within("system/process/cpu_percent", 0.0, 100.0 * cores);
    within("system/memory_percent", 0.0, 100.0);
    let rss = within("system/process/rss_bytes", 1.0, 1e13);
    within("system/memory_used_bytes", 1.0, 1e15);
    for rate in [
        "system/disk_read_bytes_per_sec",
        "system/disk_write_bytes_per_sec",
        "system/network_rx_bytes_per_sec",
        "system/network_tx_bytes_per_sec",
        "system/process/disk_read_bytes_per_sec",
        "system/process/disk_write_bytes_per_sec",
    ] {
        within(rate, 0.0, 1e12);
    }
    // Steps are Unix milliseconds, increasing, one interval apart or more.
    let steps: Vec<u64> = rss.iter().map(|(s, _)| *s).collect();
    assert!(steps.windows(2).all(|w| w[1] >= w[0] + 150), "{steps:?}");
    assert!(
        steps[0] >= started_ms && steps[0] < started_ms + 30_000,
        "{steps:?}"
    );

    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert!(report.background_errors.is_empty(), "{report:?}");
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    assert_eq!(sampler_threads(), 0, "the sampler thread outlived close");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let gpu_series: Vec<_> = common::records_of(&path)
        .into_iter()
        .filter(|l| l["kind"] == "metric")
        .filter(|l| l["name"].as_str().unwrap().starts_with("system/gpu/"))
        .collect();
    if logs.contains("system_metrics: no GPU metrics") {
        assert!(gpu_series.is_empty(), "{gpu_series:?}");
        assert_eq!(logs.matches("no GPU metrics").count(), 1, "{logs}");
        assert!(!logs.contains("ERROR") && !logs.contains("WARN"), "{logs}");
    } else {
        assert!(logs.contains("sampling"), "{logs}");
        assert!(!gpu_series.is_empty(), "NVML found GPUs but no GPU series");
    }
}

#[test]
fn an_interval_below_a_tenth_of_a_second_is_a_config_error() {
    let loader = ConfigLoader::new()
        .without_discovery()
        .plugins(vec![json!({"type": "system_metrics", "interval_secs": 0})]);
    let err = telemetron::start(loader).err().expect("refused");
    assert!(
        err.to_string()
            .contains("`interval_secs` must be a number of seconds >= 0.1, got 0"),
        "{err}"
    );
    let loader = ConfigLoader::new()
        .without_discovery()
        .plugins(vec![json!({"type": "system_metrics", "intervall_secs": 1})]);
    let err = telemetron::start(loader).err().expect("refused");
    assert!(err.to_string().contains("intervall_secs"), "{err}");
}
