//! The disk spool under an exporter whose backend goes away: batches that exhaust their retries
//! go to disk with everything after them, come back in order exactly once when the backend
//! answers, are delivered first by the next process of the run (damaged frames skipped and
//! counted), and a full spool is counted or stops the job as `delivery_policy` says.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use telemetron::model::{Attributes, Record};
use telemetron::{
    DeliveryPolicy, EnqueueError, ExportError, Exporter, ExporterSlot, RecordBatch, Runtime,
    RuntimeConfig, RuntimeSettings, SpoolCompression,
};

/// A backend that is up or down: down, every export fails with a retryable error.
#[derive(Clone, Default)]
struct Backend {
    up: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<i64>>>,
}

struct Switchable(Backend);

impl Exporter for Switchable {
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
        if !self.0.up.load(Ordering::SeqCst) {
            return Err(ExportError::retryable("connection refused"));
        }
        let mut got = self.0.got.lock();
        for record in batch.iter() {
            if let Record::Event(e) = record {
                if let Some(telemetron::model::AttributeValue::I64(i)) = e.attributes.get("i") {
                    got.push(*i);
                }
            }
        }
        Ok(())
    }
    fn spool_by_default(&self) -> bool {
        true
    }
}

fn settings(spool_dir: &Path) -> RuntimeSettings {
    RuntimeSettings {
        run_name: Some("spool-run".into()),
        spool_dir: Some(spool_dir.display().to_string()),
        batch_max_size: 10,
        batch_max_age_secs: 0.01,
        max_retries: 1,
        retry_initial_backoff_secs: 0.01,
        retry_max_backoff_secs: 0.01,
        spool_recovery_initial_backoff_secs: 0.05,
        spool_recovery_max_backoff_secs: 0.2,
        error_strategy: telemetron::ErrorStrategy::Silent,
        ..RuntimeSettings::default()
    }
}

fn start(settings: RuntimeSettings, backend: &Backend) -> Runtime {
    let b = backend.clone();
    let slot = ExporterSlot::new(
        "net",
        "switchable",
        Arc::new(move || Box::new(Switchable(b.clone())) as Box<dyn Exporter>),
    );
    let run = settings.run_identity("spool-run", "job".into(), 7);
    Runtime::start(RuntimeConfig {
        settings,
        run,
        exporters: vec![slot],
        plugins: Vec::new(),
        codec: Some(Arc::new(telemetron_codec::SpoolCodec)),
    })
    .unwrap()
}

fn log(runtime: &Runtime, range: std::ops::Range<i64>) {
    for i in range {
        runtime
            .event(None, "e", Attributes::new().with("i", i).unwrap())
            .unwrap();
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn counter(runtime: &Runtime, pick: fn(&telemetron::CounterSnapshot) -> u64) -> u64 {
    runtime.metrics().exporters["net"].values().map(pick).sum()
}

#[test]
fn an_outage_goes_through_the_spool_in_order_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::default();
    backend.up.store(true, Ordering::SeqCst);
    let runtime = start(settings(dir.path()), &backend);
    log(&runtime, 0..20);
    runtime.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(backend.got.lock().len(), 20);

    backend.up.store(false, Ordering::SeqCst);
    log(&runtime, 20..100);
    // The flush is a durability barrier: on disk is enough.
    runtime.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(counter(&runtime, |c| c.spooled), 80);
    let [state] = <[_; 1]>::try_from(runtime.spool_status()).unwrap();
    assert!(
        state.own_bytes > 0 && state.path.starts_with(dir.path()),
        "{state:?}"
    );
    assert_eq!(backend.got.lock().len(), 20, "nothing reached the backend");

    backend.up.store(true, Ordering::SeqCst);
    log(&runtime, 100..110);
    wait_for("the spool to drain", || backend.got.lock().len() == 110);
    assert_eq!(*backend.got.lock(), (0..110).collect::<Vec<_>>());
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered, vec![]);
    assert_eq!(report.spooled, vec![]);
    let net = report.metrics.exporter_total("net");
    // The 80 of the outage came back from disk (and perhaps the 10 logged while it drained).
    assert!((80..=90).contains(&net.recovered), "{net:?}");
    assert_eq!((net.spooled, net.sent), (0, 110));
    let left: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.ends_with(".tsp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_next_process_delivers_leftovers_first_and_skips_damaged_frames() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::default();
    // An offline run: everything to disk, one frame per flush.
    let mut offline = settings(dir.path());
    offline.mode = telemetron::RunMode::Offline;
    offline.spool_compression = SpoolCompression::None;
    let first = start(offline, &backend);
    assert!(first.is_offline());
    for burst in 0..5 {
        log(&first, burst * 10..burst * 10 + 10);
        first.flush(Duration::from_secs(10)).unwrap();
    }
    let report = first.close(Duration::from_secs(10)).unwrap();
    let [spooled] = <[_; 1]>::try_from(report.spooled).unwrap();
    assert_eq!(spooled.records, 50);
    assert!(backend.got.lock().is_empty(), "offline: no connection");

    // Flip a byte inside the third frame.
    let [segment] = <[_; 1]>::try_from(
        walk(dir.path())
            .into_iter()
            .filter(|p| p.ends_with(".tsp"))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let starts: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"TSFR")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(starts.len(), 5);
    bytes[(starts[2] + starts[3]) / 2] ^= 0x55;
    std::fs::write(&segment, bytes).unwrap();

    backend.up.store(true, Ordering::SeqCst);
    let second = start(settings(dir.path()), &backend);
    log(&second, 1000..1005);
    wait_for("leftovers and the new records", || {
        backend.got.lock().len() == 45
    });
    let expected: Vec<i64> = (0..20).chain(30..50).chain(1000..1005).collect();
    assert_eq!(*backend.got.lock(), expected, "leftovers first, in order");
    let [state] = <[_; 1]>::try_from(second.spool_status()).unwrap();
    assert_eq!((state.bad_frames, state.leftover_dirs), (1, 0), "{state:?}");
    let net = second.metrics().exporter_total("net");
    assert_eq!(net.recovered, 40);
    second.close(Duration::from_secs(10)).unwrap();
}

fn full_spool(policy: DeliveryPolicy) -> (Runtime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::default();
    let mut s = settings(dir.path());
    s.spool_max_bytes = 4096;
    s.spool_compression = SpoolCompression::None;
    s.delivery_policy = policy;
    let runtime = start(s, &backend);
    log(&runtime, 0..400);
    let _ = runtime.flush(Duration::from_secs(10));
    (runtime, dir)
}

#[test]
fn a_full_spool_counts_drops_under_tolerate_loss() {
    let (runtime, _dir) = full_spool(DeliveryPolicy::TolerateLoss);
    let net = runtime.metrics().exporter_total("net");
    assert!(net.spooled > 0 && net.dropped > 0, "{net:?}");
    assert_eq!(net.spooled + net.dropped, 400, "{net:?}");
    log(&runtime, 400..401); // the job goes on
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    let [lost] = <[_; 1]>::try_from(report.undelivered).unwrap();
    assert!(lost.reason.contains("spool full"), "{}", lost.reason);
}

#[test]
fn a_full_spool_stops_the_job_under_all_or_crash() {
    let (runtime, _dir) = full_spool(DeliveryPolicy::AllOrCrash);
    let err = runtime.event(None, "after", Attributes::new()).unwrap_err();
    let EnqueueError::Undeliverable(reason) = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("spool full") && reason.contains("spool_max_bytes"),
        "{reason}"
    );
    let closed = runtime.close(Duration::from_secs(10));
    assert!(matches!(
        closed,
        Err(telemetron::ShutdownError::Undeliverable(..))
    ));
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}
