//! A panic in an exporter is caught, counted, and the exporter is rebuilt; later records flow.

mod common;

use std::time::Duration;

use common::{one_record_batches, start, test_exporter, Behaviour};
use telemetron::model::Attributes;

#[test]
fn a_panicking_exporter_is_restarted_and_keeps_receiving() {
    let (panicky, seen) = test_exporter("panicky", Behaviour::PanicOn("boom"));
    let (other, other_seen) = test_exporter("other", Behaviour::Capture);
    let runtime = start(one_record_batches(), vec![panicky, other]);
    for name in ["before", "boom", "after-1", "after-2"] {
        runtime.event(None, name, Attributes::new()).unwrap();
    }
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(seen.event_names(), ["before", "after-1", "after-2"]);
    assert_eq!(
        *seen.initialized.lock(),
        [0, 1],
        "rebuilt and initialized with restarts = 1"
    );
    assert_eq!(
        other_seen.event_names(),
        ["before", "boom", "after-1", "after-2"]
    );
    let health = &runtime.exporter_health()[0];
    assert_eq!(health.panics, 1);
    assert_eq!(health.total_failures, 1, "the panic counts as one failure");
    assert!(health.disabled.is_none());
    assert_eq!(report.metrics.panics, 1);
    assert_eq!(
        seen.data_errors.lock().len(),
        1,
        "its first failure sends a telemetry data error"
    );
}
