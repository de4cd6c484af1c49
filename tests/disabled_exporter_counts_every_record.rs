//! Once an exporter is disabled, every record it does not get is counted dropped for it, with
//! the reason, and the close report accounts for all of them: an OTLP exporter against a dead
//! collector ends with added = logged = failed + dropped, and says why. (Without a spool: with
//! one, disabled is not forever and the records wait on disk, `spool_bridges_an_outage.rs`.)

use std::time::{Duration, Instant};

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

#[test]
fn an_otlp_exporter_disabled_against_a_dead_collector_counts_every_record() {
    // A port nothing listens on: connections are refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_retries", 0)
        .set("max_consecutive_failures", 3)
        .set("error_strategy", "silent")
        .exporters(vec![
            json!({"type": "otlp", "protocol": "http/protobuf", "timeout_secs": 2,
                   "endpoint": format!("http://127.0.0.1:{port}"), "batch_max_size": 10,
                   "spool": false}),
            json!({"type": "file", "path": dir.path().join("run.jsonl")}),
        ]);
    let runtime = telemetron::start(loader).unwrap();
    let mut logged = 0u64;
    let mut log = |n: u64| {
        for i in 0..n {
            let attrs = Attributes::new().with("i", i as i64).unwrap();
            runtime.event(None, "e", attrs).unwrap();
        }
        logged += n;
    };
    log(100);
    let deadline = Instant::now() + Duration::from_secs(30);
    while runtime.exporter_health()[0].disabled.is_none() {
        assert!(Instant::now() < deadline, "the exporter was never disabled");
        std::thread::sleep(Duration::from_millis(5));
    }
    // After it is disabled: these never reach it, and must still be counted for it.
    log(4_000);
    let report = runtime.close(Duration::from_secs(10)).unwrap();

    let otlp = report.metrics.exporter_total("otlp");
    assert_eq!(otlp.added, logged, "{otlp:?}");
    assert_eq!(otlp.sent, 0);
    assert_eq!(otlp.failed + otlp.dropped, logged, "{otlp:?}");
    assert!(otlp.dropped >= 4_000, "{otlp:?}");
    let lost = report
        .undelivered
        .iter()
        .find(|u| u.exporter == "otlp")
        .expect("the otlp exporter's loss is reported");
    assert_eq!(lost.records, logged, "{lost:?}");
    assert!(
        lost.reason
            .contains(&format!("{} failed after retries", otlp.failed))
            && lost.reason.contains(&format!(
                "{} dropped: disabled: 3 consecutive failures",
                otlp.dropped
            )),
        "every loss with its reason: {lost:?}"
    );
    assert_eq!(report.metrics.exporter_total("file").sent, logged);
    assert!(!report.undelivered.iter().any(|u| u.exporter == "file"));
    assert!(!report.timed_out);
}
