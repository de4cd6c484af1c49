//! Invalid input is refused with a typed error and loses nothing else; lifecycle misuse is
//! reported in the background; close stops spans left open.

mod common;

use std::time::Duration;

use common::{start, test_exporter, Behaviour};
use telemetron::model::{AttributeError, Attributes, Record, SpanStatus};
use telemetron::{EnqueueError, ErrorInfo, RuntimeSettings};

#[test]
fn invalid_input_is_refused_and_nothing_else_is_lost() {
    let (capture, seen) = test_exporter("capture", Behaviour::Capture);
    let runtime = start(RuntimeSettings::default(), vec![capture]);
    runtime.event(None, "ok-1", Attributes::new()).unwrap();
    let err = runtime.start_span("", None, Attributes::new()).unwrap_err();
    assert!(
        matches!(
            err,
            EnqueueError::Invalid {
                what: "span name",
                ..
            }
        ),
        "{err}"
    );
    let nan = Attributes::new().with("loss", f64::NAN).unwrap_err();
    assert!(matches!(nan, AttributeError::NonFinite { ref key, .. } if key == "loss"));
    let bad_error = ErrorInfo {
        message: "x".into(),
        exception_type: Some("ValueError".into()),
        ..Default::default()
    };
    assert!(runtime.error(None, bad_error).is_err());
    runtime.event(None, "ok-2", Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(5)).unwrap();
    assert_eq!(seen.event_names(), ["ok-1", "ok-2"]);
    assert_eq!(report.metrics.runtime["span_start"].failed, 1);
    assert_eq!(report.metrics.runtime["error"].failed, 1);
}

#[test]
fn double_stop_is_reported_and_close_stops_open_spans() {
    let (capture, seen) = test_exporter("capture", Behaviour::Capture);
    let runtime = start(RuntimeSettings::default(), vec![capture]);
    let done = runtime.start_span("done", None, Attributes::new()).unwrap();
    runtime.stop_span(done, Attributes::new()).unwrap();
    runtime.stop_span(done, Attributes::new()).unwrap();
    let outer = runtime
        .start_span("left-open-outer", None, Attributes::new())
        .unwrap();
    runtime
        .start_span("left-open-inner", Some(outer), Attributes::new())
        .unwrap();
    let failed = runtime
        .start_span("failed", None, Attributes::new())
        .unwrap();
    runtime
        .error(Some(failed), ErrorInfo::message("Error in failed: "))
        .unwrap();
    runtime.stop_span(failed, Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(5)).unwrap();

    assert!(
        report
            .background_errors
            .iter()
            .any(|e| e.contains("stopped but it is not active")),
        "{report:?}"
    );
    assert_eq!(report.metrics.runtime["span_stop"].dropped, 1);
    let stops: Vec<_> = seen
        .records
        .lock()
        .iter()
        .filter_map(|r| match r {
            Record::SpanStop(s) => Some((
                s.name.to_string(),
                s.status.clone(),
                s.attributes.get("stopped_at_close").is_some(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        stops,
        [
            ("done".to_string(), SpanStatus::Ok, false),
            (
                "failed".to_string(),
                SpanStatus::Error("Error in failed: ".into()),
                false
            ),
            ("left-open-inner".to_string(), SpanStatus::Ok, true),
            ("left-open-outer".to_string(), SpanStatus::Ok, true),
        ],
        "open spans are stopped at close, newest first"
    );
}
