//! A span's attributes can grow while it runs and at its stop, and every record can carry an
//! explicit time: the stop line of the file exporter shows both.

mod common;

use std::time::Duration;

use serde_json::json;
use telemetron::model::{Attributes, SpanStatus, Timestamp};
use telemetron::ErrorInfo;

const SEC: u64 = 1_000_000_000;

#[test]
fn live_and_stop_attributes_reach_the_stop_record_with_the_given_times() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, path) = common::start_with_file(dir.path(), vec![]);

    let t0 = Timestamp(Timestamp::now().0 - 60 * SEC);
    let start_attrs = Attributes::new().with("epoch", 1i64).unwrap();
    let span = runtime
        .start_span_at("train", None, start_attrs, Attributes::new(), t0)
        .unwrap();
    runtime
        .update_span(span, Attributes::new().with("epoch", 2i64).unwrap())
        .unwrap();
    runtime
        .update_span(span, Attributes::new().with("lr", 0.1).unwrap())
        .unwrap();
    runtime
        .event_at(
            Some(span),
            "checkpoint",
            Attributes::new(),
            Timestamp(t0.0 + 10 * SEC),
        )
        .unwrap();
    runtime
        .error_at(
            Some(span),
            ErrorInfo::message("slow step"),
            Timestamp(t0.0 + 20 * SEC),
        )
        .unwrap();
    let at_stop = Attributes::new()
        .with("duration_msec", 30_000i64)
        .and_then(|a| a.with("lr", 0.05))
        .unwrap();
    let stop_event = Attributes::new().with("reason", "done").unwrap();
    runtime
        .stop_span_at(
            span,
            SpanStatus::Ok,
            stop_event,
            at_stop,
            Timestamp(t0.0 + 30 * SEC),
        )
        .unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    assert!(report.background_errors.is_empty(), "{report:?}");

    let lines = common::records_of(&path);
    let find = |kind: &str| {
        lines
            .iter()
            .find(|l| l["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} line in {lines:?}"))
    };
    assert_eq!(find("span_start")["time_ns"].as_u64(), Some(t0.0));
    assert_eq!(
        find("event")["time_ns"].as_u64(),
        Some(t0.0 + 10 * SEC),
        "the event keeps its own time"
    );
    assert_eq!(find("error")["time_ns"].as_u64(), Some(t0.0 + 20 * SEC));
    let stop = find("span_stop");
    assert_eq!(stop["time_ns"].as_u64(), Some(t0.0 + 30 * SEC));
    assert_eq!(stop["duration_ns"].as_u64(), Some(30 * SEC));
    assert_eq!(stop["status"], "error", "an error was recorded on it");
    assert_eq!(stop["attributes"], json!({"reason": "done"}));
    // Live updates in order, then the stop's; later values win.
    assert_eq!(
        stop["span_attributes"],
        json!({"epoch": 2, "lr": 0.05, "duration_msec": 30000})
    );
    assert!(
        !lines.iter().any(|l| l["kind"] == "span_update"),
        "updates are absorbed, not exported on their own"
    );
}

#[test]
fn updating_a_span_that_is_not_running_is_reported_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, path) = common::start_with_file(dir.path(), vec![]);
    let span = runtime
        .start_span("short", None, Attributes::new())
        .unwrap();
    runtime.stop_span(span, Attributes::new()).unwrap();
    runtime
        .update_span(span, Attributes::new().with("late", true).unwrap())
        .unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    let errors = report.background_errors.join("\n");
    assert!(
        errors.contains(&format!("attributes for span {}", span.span_id)),
        "{errors}"
    );
    let update = &report.metrics.runtime["span_update"];
    assert_eq!(
        (update.added, update.dropped),
        (1, 1),
        "{:?}",
        report.metrics
    );
    let stop = common::records_of(&path)
        .into_iter()
        .find(|l| l["kind"] == "span_stop")
        .unwrap();
    assert_eq!(stop["span_attributes"], json!({}));
}
