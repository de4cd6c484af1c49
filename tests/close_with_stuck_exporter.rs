//! `close(timeout)` returns by its deadline even when an exporter is stuck, and reports what the
//! stuck exporter did not deliver; the others get everything.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{start, test_exporter, Behaviour, Gate};
use telemetron::model::Attributes;
use telemetron::RuntimeSettings;

#[test]
fn close_returns_within_the_deadline_and_reports_the_loss() {
    let gate = Arc::new(Gate::default());
    let (stuck, _) = test_exporter("stuck", Behaviour::Gated(gate.clone()));
    let (good, good_seen) = test_exporter("good", Behaviour::Capture);
    let runtime = start(RuntimeSettings::default(), vec![stuck, good]);
    for _ in 0..10 {
        runtime.event(None, "e", Attributes::new()).unwrap();
    }
    let timeout = Duration::from_millis(500);
    let began = Instant::now();
    let report = runtime.close(timeout).unwrap();
    let took = began.elapsed();
    gate.open();
    // Generous bound: the point is that close does not wait for the stuck exporter.
    assert!(
        took < timeout + Duration::from_secs(2),
        "close took {took:?}"
    );
    assert_eq!(good_seen.events().len(), 10);
    let lost = report
        .undelivered
        .iter()
        .find(|u| u.exporter == "stuck")
        .expect("stuck exporter reported");
    assert_eq!(lost.records, 10);
    assert!(lost.reason.contains("deadline"), "{lost:?}");
    assert!(!report.undelivered.iter().any(|u| u.exporter == "good"));
}

#[test]
fn dropping_the_last_handle_closes_and_flushes() {
    let (capture, seen) = test_exporter("capture", Behaviour::Capture);
    let runtime = start(RuntimeSettings::default(), vec![capture]);
    let clone = runtime.clone();
    clone.event(None, "from-clone", Attributes::new()).unwrap();
    drop(clone);
    runtime.event(None, "last", Attributes::new()).unwrap();
    drop(runtime);
    assert_eq!(seen.event_names(), ["from-clone", "last"]);
    assert_eq!(seen.closed.load(std::sync::atomic::Ordering::SeqCst), 1);
}
