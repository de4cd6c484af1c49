//! `close(timeout)` that gave up on anything says `timed_out: true`: an exporter stuck past the
//! deadline, or one that stopped waiting for its backend at the deadline it was given. A close
//! that finished everything says false.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{start, test_exporter, Behaviour, Gate};
use telemetron::{ExportError, Exporter, ExporterFactory, ExporterSlot, RuntimeSettings};

#[test]
fn a_stuck_exporter_makes_close_time_out() {
    let gate = Arc::new(Gate::default());
    let (stuck, _) = test_exporter("stuck", Behaviour::Gated(gate.clone()));
    let runtime = start(RuntimeSettings::default(), vec![stuck]);
    runtime.event(None, "e", Default::default()).unwrap();
    let report = runtime.close(Duration::from_millis(300)).unwrap();
    gate.open();
    assert!(report.timed_out, "{report:?}");
}

#[test]
fn a_close_that_finished_everything_did_not_time_out() {
    let (capture, _) = test_exporter("capture", Behaviour::Capture);
    let runtime = start(RuntimeSettings::default(), vec![capture]);
    runtime.event(None, "e", Default::default()).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert!(!report.timed_out, "{report:?}");
    assert_eq!(report.undelivered_records(), 0);
}

/// A backend that never acknowledges: its close waits for acks until the deadline it is given.
struct NeverAcknowledged {
    deadline_seen: Arc<parking_lot::Mutex<Option<Instant>>>,
}

impl Exporter for NeverAcknowledged {
    fn close_by(&mut self, deadline: Instant) -> Result<(), ExportError> {
        *self.deadline_seen.lock() = Some(deadline);
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        Err(ExportError::deadline_passed(
            "3 requests never acknowledged",
        ))
    }
}

#[test]
fn an_exporter_giving_up_at_its_deadline_makes_close_time_out() {
    let seen = Arc::new(parking_lot::Mutex::new(None));
    let deadline_seen = seen.clone();
    let factory: ExporterFactory = Arc::new(move || {
        Box::new(NeverAcknowledged {
            deadline_seen: deadline_seen.clone(),
        })
    });
    let runtime = start(
        RuntimeSettings::default(),
        vec![ExporterSlot::new("acks", "test", factory)],
    );
    runtime.event(None, "e", Default::default()).unwrap();
    let began = Instant::now();
    let timeout = Duration::from_secs(2);
    let report = runtime.close(timeout).unwrap();
    let given = seen.lock().expect("close_by was called");
    assert!(
        given > began + timeout / 2 && given <= began + timeout,
        "the exporter gets (nearly) the whole close deadline"
    );
    assert!(report.timed_out, "{report:?}");
    let lost = report
        .undelivered
        .iter()
        .find(|u| u.exporter == "acks")
        .expect("reported");
    assert!(
        lost.reason.contains("never acknowledged") && lost.reason.contains("deadline"),
        "{lost:?}"
    );
}
