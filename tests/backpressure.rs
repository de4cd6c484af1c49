//! Backpressure: `drop_new` counts what it drops, `raise` says so, `block` loses nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{start, test_exporter, Behaviour, Gate};
use telemetron::model::Attributes;
use telemetron::{
    Backpressure, EnqueueError, RunIdentity, Runtime, RuntimeConfig, RuntimeSettings,
};

fn held_runtime(settings: RuntimeSettings, gate: Arc<Gate>) -> (Runtime, Arc<common::Seen>) {
    let (capture, seen) = test_exporter("capture", Behaviour::Capture);
    let runtime = Runtime::start(RuntimeConfig {
        settings,
        run: RunIdentity::default(),
        exporters: vec![capture],
        plugins: vec![common::holding_plugin(gate)],
        codec: None,
    })
    .unwrap();
    (runtime, seen)
}

fn fill_until_held(runtime: &Runtime, gate: &Gate) {
    runtime.event(None, "first", Attributes::new()).unwrap();
    gate.until_waiting();
}

#[test]
fn drop_new_drops_and_counts_when_the_queue_is_full() {
    let gate = Arc::new(Gate::default());
    let settings = RuntimeSettings {
        queue_capacity: 16,
        backpressure: Backpressure::DropNew,
        ..RuntimeSettings::default()
    };
    let (runtime, seen) = held_runtime(settings, gate.clone());
    fill_until_held(&runtime, &gate);
    for _ in 0..100 {
        runtime.event(None, "e", Attributes::new()).unwrap();
    }
    gate.open();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    let c = report.metrics.runtime["event"];
    assert_eq!(c.added, 101);
    assert_eq!(
        c.dropped,
        101 - 1 - 16,
        "exactly what did not fit in the queue"
    );
    assert_eq!(c.enqueued, 17);
    assert_eq!(seen.events().len(), 17);
    assert!(report
        .undelivered
        .iter()
        .any(|u| u.exporter == "ingest" && u.records == 84));
}

#[test]
fn raise_returns_queue_full_after_the_enqueue_timeout() {
    let gate = Arc::new(Gate::default());
    let settings = RuntimeSettings {
        queue_capacity: 4,
        backpressure: Backpressure::Raise,
        enqueue_timeout_secs: 0.01,
        ..RuntimeSettings::default()
    };
    let (runtime, seen) = held_runtime(settings, gate.clone());
    fill_until_held(&runtime, &gate);
    for _ in 0..4 {
        runtime.event(None, "fits", Attributes::new()).unwrap();
    }
    let err = runtime
        .event(None, "too-many", Attributes::new())
        .unwrap_err();
    assert_eq!(err, EnqueueError::QueueFull { capacity: 4 });
    gate.open();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(
        seen.event_names(),
        ["first", "fits", "fits", "fits", "fits"],
        "{report:#?}"
    );
}

#[test]
fn block_loses_nothing_with_a_slow_exporter_and_tiny_queues() {
    let (capture, seen) = test_exporter("capture", Behaviour::Capture);
    let settings = RuntimeSettings {
        queue_capacity: 8,
        exporter_queue_capacity: 16,
        batch_max_size: 4,
        backpressure: Backpressure::Block,
        ..RuntimeSettings::default()
    };
    let runtime = start(settings, vec![capture]);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let rt = runtime.clone();
            std::thread::spawn(move || {
                for i in 0..1_000i64 {
                    rt.event(
                        None,
                        "e",
                        Attributes::new()
                            .with("t", t)
                            .unwrap()
                            .with("i", i)
                            .unwrap(),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let report = runtime.close(Duration::from_secs(30)).unwrap();
    assert_eq!(seen.events().len(), 4_000, "{report:#?}");
    assert_eq!(report.metrics.runtime_total().dropped, 0);
    assert_eq!(report.metrics.exporter_total("capture").dropped, 0);
    assert_eq!(report.undelivered_records(), 0);
}
