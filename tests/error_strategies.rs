//! Background errors reach the caller only as the error strategy says.

mod common;

use std::time::Duration;

use common::{one_record_batches, start, test_exporter, Behaviour};
use telemetron::model::Attributes;
use telemetron::{EnqueueError, ErrorStrategy, RuntimeSettings, ShutdownError};

fn settings(strategy: ErrorStrategy) -> RuntimeSettings {
    RuntimeSettings {
        error_strategy: strategy,
        ..one_record_batches()
    }
}

#[test]
fn raise_on_log_returns_the_error_on_the_next_call() {
    let (failing, _) = test_exporter("failing", Behaviour::AlwaysFail);
    let runtime = start(settings(ErrorStrategy::RaiseOnLog), vec![failing]);
    runtime.event(None, "e", Attributes::new()).unwrap();
    let _ = runtime.flush(Duration::from_secs(10));
    match runtime.event(None, "next", Attributes::new()) {
        Err(EnqueueError::Background(errors)) => {
            assert!(
                errors[0].contains("failing failed to export 1 records: backend refused"),
                "{errors:?}"
            )
        }
        other => panic!("expected the background error, got {other:?}"),
    }
    runtime
        .event(None, "after", Attributes::new())
        .expect("reported once, then recording resumes");
    runtime.close(Duration::from_secs(5)).unwrap();
}

#[test]
fn raise_on_close_makes_close_an_error_with_the_report() {
    let (failing, _) = test_exporter("failing", Behaviour::AlwaysFail);
    let runtime = start(settings(ErrorStrategy::RaiseOnClose), vec![failing]);
    runtime
        .event(None, "e", Attributes::new())
        .expect("no error on the recording call");
    match runtime.close(Duration::from_secs(5)) {
        Err(ShutdownError::BackgroundErrors(report)) => {
            assert!(!report.background_errors.is_empty());
            assert_eq!(report.undelivered_records(), 1);
        }
        other => panic!("expected BackgroundErrors, got {other:?}"),
    }
}

#[test]
fn silent_and_warn_never_fail_the_caller_but_count() {
    for strategy in [ErrorStrategy::Silent, ErrorStrategy::Warn] {
        let (failing, _) = test_exporter("failing", Behaviour::AlwaysFail);
        let runtime = start(settings(strategy), vec![failing]);
        for _ in 0..3 {
            runtime.event(None, "e", Attributes::new()).unwrap();
        }
        let _ = runtime.flush(Duration::from_secs(10));
        runtime.event(None, "e", Attributes::new()).unwrap();
        let report = runtime.close(Duration::from_secs(5)).unwrap();
        assert!(
            report.metrics.background_errors >= 3,
            "{strategy:?}: {report:?}"
        );
        assert!(matches!(
            runtime.close(Duration::from_secs(1)),
            Err(ShutdownError::AlreadyClosed)
        ));
    }
}
