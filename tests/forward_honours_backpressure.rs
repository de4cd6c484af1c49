//! `Runtime::forward` under each backpressure strategy: `drop_new` drops what does not fit and
//! says how much, `raise` stops with `QueueFull`, `block` loses nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::capture_all::{capture_all, Captured};
use common::Gate;
use telemetron::model::{Attributes, Event, Name, Record, Timestamp};
use telemetron::{
    Backpressure, EnqueueError, RunIdentity, Runtime, RuntimeConfig, RuntimeSettings,
};

fn events(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::Event(Box::new(Event {
                span: None,
                name: Name::Owned(format!("e{i}")),
                time: Timestamp(i as u64),
                attributes: Attributes::new(),
            }))
        })
        .collect()
}

fn held(settings: RuntimeSettings) -> (Runtime, Captured, Arc<Gate>) {
    let gate = Arc::new(Gate::default());
    let (slot, captured) = capture_all("capture");
    let runtime = Runtime::start(RuntimeConfig {
        settings,
        run: RunIdentity::default(),
        exporters: vec![slot],
        plugins: vec![common::holding_plugin(gate.clone())],
        codec: None,
    })
    .unwrap();
    // One record reaches the Recorder and is held there: the queue is empty and stays so.
    runtime.forward(events(1)).unwrap();
    gate.until_waiting();
    (runtime, captured, gate)
}

#[test]
fn drop_new_forwards_what_fits_and_counts_the_rest() {
    let (runtime, captured, gate) = held(RuntimeSettings {
        queue_capacity: 16,
        backpressure: Backpressure::DropNew,
        ..RuntimeSettings::default()
    });
    let forwarded = runtime.forward(events(100)).unwrap();
    assert_eq!((forwarded.enqueued, forwarded.dropped), (16, 84));
    gate.open();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    let c = report.metrics.runtime["event"];
    assert_eq!((c.added, c.enqueued, c.dropped), (101, 17, 84));
    assert_eq!(captured.lock().len(), 17);
    // The first 16 of the 100 made it, in order.
    let expected: Vec<Record> = events(1).into_iter().chain(events(16)).collect();
    assert_eq!(*captured.lock(), expected);
}

#[test]
fn raise_stops_at_the_first_record_that_does_not_fit() {
    let (runtime, captured, gate) = held(RuntimeSettings {
        queue_capacity: 4,
        backpressure: Backpressure::Raise,
        ..RuntimeSettings::default()
    });
    let err = runtime.forward(events(10)).unwrap_err();
    assert_eq!(err, EnqueueError::QueueFull { capacity: 4 });
    gate.open();
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(
        captured.lock().len(),
        5,
        "the held one and the 4 that fitted"
    );
    assert_eq!(
        report.metrics.runtime["event"].added, 6,
        "the refused one is counted"
    );
}

#[test]
fn block_forwards_everything_once_room_frees() {
    let (runtime, captured, gate) = held(RuntimeSettings {
        queue_capacity: 8,
        exporter_queue_capacity: 16,
        batch_max_size: 4,
        backpressure: Backpressure::Block,
        ..RuntimeSettings::default()
    });
    let rt = runtime.clone();
    let producer = std::thread::spawn(move || rt.forward(events(1_000)).unwrap());
    gate.open();
    let forwarded = producer.join().unwrap();
    assert_eq!((forwarded.enqueued, forwarded.dropped), (1_000, 0));
    let report = runtime.close(Duration::from_secs(30)).unwrap();
    assert_eq!(captured.lock().len(), 1_001, "{report:#?}");
    assert_eq!(report.metrics.runtime_total().dropped, 0);
}
