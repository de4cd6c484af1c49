//! `backpressure: spool_then_raise`: a backend slower than the caller fills the queues; when a
//! caller has waited `enqueue_timeout_secs`, the backlog goes to the disk spool (which takes it
//! at disk speed) and the caller goes on; only an exporter without a spool makes it raise.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use telemetron::model::{AttributeValue, Attributes, Record};
use telemetron::{
    Backpressure, EnqueueError, ExportError, Exporter, ExporterSlot, RecordBatch, Runtime,
    RuntimeConfig, RuntimeSettings,
};

/// A backend that takes this long per batch.
struct Slow(Arc<Mutex<Vec<i64>>>, Duration);

impl Exporter for Slow {
    fn export_start(&mut self, _: &telemetron::model::SpanStart) -> Result<(), ExportError> {
        Ok(())
    }
    fn export_stop(&mut self, _: &telemetron::model::SpanStop) -> Result<(), ExportError> {
        Ok(())
    }
    fn export_event(&mut self, _: &telemetron::model::Event) -> Result<(), ExportError> {
        Ok(())
    }
    fn export_error(&mut self, _: &telemetron::model::ErrorRecord) -> Result<(), ExportError> {
        Ok(())
    }
    fn export_telemetry_data_error(
        &mut self,
        _: &telemetron::model::TelemetryDataError,
    ) -> Result<(), ExportError> {
        Ok(())
    }
    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        std::thread::sleep(self.1);
        let mut got = self.0.lock();
        for record in batch.iter() {
            if let Record::Event(e) = record {
                if let Some(AttributeValue::I64(i)) = e.attributes.get("i") {
                    got.push(*i);
                }
            }
        }
        Ok(())
    }
}

fn start(
    dir: &std::path::Path,
    spool: bool,
    per_batch: Duration,
    got: &Arc<Mutex<Vec<i64>>>,
) -> Runtime {
    let settings = RuntimeSettings {
        backpressure: Backpressure::SpoolThenRaise,
        queue_capacity: 64,
        exporter_queue_capacity: 64,
        batch_max_size: 16,
        batch_max_age_secs: 0.001,
        enqueue_timeout_secs: 0.02,
        disk_spool_retry_timeout_secs: 2.0,
        spool_dir: Some(dir.display().to_string()),
        spool_recovery_initial_backoff_secs: 0.05,
        spool_recovery_max_backoff_secs: 0.1,
        error_strategy: telemetron::ErrorStrategy::Silent,
        ..RuntimeSettings::default()
    };
    let got = got.clone();
    let mut slot = ExporterSlot::new(
        "slow",
        "slow",
        Arc::new(move || Box::new(Slow(got.clone(), per_batch)) as Box<dyn Exporter>),
    );
    slot.spool = Some(spool);
    let run = settings.run_identity("then-raise", "job".into(), 3);
    Runtime::start(RuntimeConfig {
        settings,
        run,
        exporters: vec![slot],
        plugins: Vec::new(),
        codec: Some(Arc::new(telemetron_codec::SpoolCodec)),
    })
    .unwrap()
}

fn burst(runtime: &Runtime, n: i64) -> Result<(), EnqueueError> {
    for i in 0..n {
        runtime.event(None, "e", Attributes::new().with("i", i).unwrap())?;
    }
    Ok(())
}

#[test]
fn a_full_queue_fails_over_to_the_spool_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let runtime = start(dir.path(), true, Duration::from_millis(20), &got);
    // 3000 events take the backend ~4 s at 16 per 20 ms: the queues fill, and with a wait of
    // 2 s at most per call after the failover, only the disk can keep the caller from a raise.
    burst(&runtime, 3000).expect("the spool absorbs the backlog: no QueueFull");
    let net = runtime.metrics().exporter_total("slow");
    assert!(
        net.spooled + net.recovered > 0,
        "the backlog went to disk: {net:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.lock().len() < 3000 {
        assert!(Instant::now() < deadline, "delivered {}", got.lock().len());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(*got.lock(), (0..3000).collect::<Vec<_>>(), "in order, once");
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered, vec![]);
    assert_eq!(report.metrics.runtime_total().dropped, 0);
}

#[test]
fn without_a_spool_the_caller_gets_queue_full_after_the_disk_wait() {
    let dir = tempfile::tempdir().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    // A backend that frees no room for longer than the disk wait (2 s): without a spool,
    // nothing else can.
    let runtime = start(dir.path(), false, Duration::from_secs(3), &got);
    let began = Instant::now();
    let err = burst(&runtime, 100_000).unwrap_err();
    assert!(matches!(err, EnqueueError::QueueFull { .. }), "{err:?}");
    // It waited the enqueue timeout and then the disk retry timeout (2 s) before raising.
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    runtime.close(Duration::from_secs(1)).unwrap();
}
