//! A failing exporter gets one telemetry data error, is disabled after N failures, and the
//! other exporters keep receiving everything.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{one_record_batches, start, test_exporter, Behaviour};
use telemetron::model::{Attributes, TelemetryDataErrorKind};
use telemetron::RuntimeSettings;

#[test]
fn a_failing_exporter_is_disabled_while_the_other_receives_everything() {
    let (failing, failing_seen) = test_exporter("failing", Behaviour::AlwaysFail);
    let (good, good_seen) = test_exporter("good", Behaviour::Capture);
    let runtime = start(one_record_batches(), vec![failing, good]);
    for i in 0..20i64 {
        runtime
            .event(None, "e", Attributes::new().with("i", i).unwrap())
            .unwrap();
    }
    runtime.flush(Duration::from_secs(10)).unwrap_err();
    let health = runtime.exporter_health();
    assert_eq!(health[0].name, "failing");
    assert_eq!(
        health[0].total_failures, 5,
        "no export is tried once disabled"
    );
    assert!(
        health[0]
            .disabled
            .as_deref()
            .unwrap()
            .contains("5 consecutive failures"),
        "{:?}",
        health[0]
    );
    assert!(!health[0].ever_succeeded);
    assert!(health[1].disabled.is_none());
    assert_eq!(failing_seen.calls.load(Ordering::SeqCst), 5);

    let errors = failing_seen.data_errors.lock().clone();
    assert_eq!(
        errors.len(),
        1,
        "exactly one telemetry data error: {errors:?}"
    );
    assert_eq!(errors[0].kind, TelemetryDataErrorKind::NoTelemetryData);
    assert_eq!(errors[0].exporter.as_deref(), Some("failing"));
    assert!(
        good_seen.data_errors.lock().is_empty(),
        "only the failing exporter is told"
    );

    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(good_seen.events().len(), 20);
    assert_eq!(
        failing_seen.closed.load(Ordering::SeqCst),
        1,
        "a disabled exporter is still closed"
    );
    let m = report.metrics.exporter_total("failing");
    assert_eq!((m.added, m.failed, m.dropped), (20, 5, 15));
    let lost = report
        .undelivered
        .iter()
        .find(|u| u.exporter == "failing")
        .unwrap();
    assert_eq!(lost.records, 20);
    assert!(report
        .background_errors
        .iter()
        .any(|e| e.contains("failing disabled")));
}

#[test]
fn data_error_is_incomplete_after_a_success_and_total_cap_disables() {
    let (flaky, seen) = test_exporter("flaky", Behaviour::FailAfter(2));
    let settings = RuntimeSettings {
        max_consecutive_failures: 100,
        max_total_failures: 3,
        ..one_record_batches()
    };
    let runtime = start(settings, vec![flaky]);
    for _ in 0..10 {
        runtime.event(None, "e", Attributes::new()).unwrap();
    }
    let _ = runtime.flush(Duration::from_secs(10));
    let health = &runtime.exporter_health()[0];
    assert!(health.ever_succeeded);
    assert!(
        health
            .disabled
            .as_deref()
            .unwrap()
            .contains("3 failures in all"),
        "{health:?}"
    );
    let errors = seen.data_errors.lock().clone();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].kind,
        TelemetryDataErrorKind::IncompleteTelemetryData
    );
    runtime.close(Duration::from_secs(5)).unwrap();
}

#[test]
fn retryable_errors_are_retried_with_backoff_and_nothing_is_lost() {
    let (flaky, seen) = test_exporter("flaky", Behaviour::RetryableFailures(3));
    let settings = RuntimeSettings {
        retry_initial_backoff_secs: 0.001,
        max_retries: 5,
        ..RuntimeSettings::default()
    };
    let runtime = start(settings, vec![flaky]);
    for _ in 0..10 {
        runtime.event(None, "e", Attributes::new()).unwrap();
    }
    runtime.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(seen.events().len(), 10);
    let health = &runtime.exporter_health()[0];
    assert_eq!(
        health.total_failures, 0,
        "a retry that succeeds is not a failure"
    );
    runtime.close(Duration::from_secs(5)).unwrap();
}

#[test]
fn user_telemetry_data_error_reaches_each_exporter_once() {
    let (a, seen_a) = test_exporter("a", Behaviour::Capture);
    let (b, seen_b) = test_exporter("b", Behaviour::Capture);
    let runtime = start(RuntimeSettings::default(), vec![a, b]);
    runtime
        .telemetry_data_error(
            TelemetryDataErrorKind::IncompleteTelemetryData,
            "lost a shard",
        )
        .unwrap();
    runtime
        .telemetry_data_error(TelemetryDataErrorKind::NoTelemetryData, "again")
        .unwrap();
    runtime.close(Duration::from_secs(5)).unwrap();
    for seen in [seen_a, seen_b] {
        let errors = seen.data_errors.lock().clone();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].message, "lost a shard");
    }
}
