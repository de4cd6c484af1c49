//! Shared helpers: exporters with controlled behaviour (they plug into the real runtime through
//! the public `Exporter` trait), and readers for the file exporter's output.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use telemetron::model::{ErrorRecord, Event, Record, SpanStart, SpanStop, TelemetryDataError};
use telemetron::{
    ExportError, Exporter, ExporterContext, ExporterFactory, ExporterSlot, PluginSlot,
    PluginVerdict, RecorderPlugin, Runtime, RuntimeConfig, RuntimeSettings,
};

/// What a capturing exporter saw, shared across restarts of the exporter.
#[derive(Default)]
pub struct Seen {
    pub records: Mutex<Vec<Record>>,
    pub data_errors: Mutex<Vec<TelemetryDataError>>,
    pub initialized: Mutex<Vec<u32>>,
    pub closed: AtomicUsize,
    pub calls: AtomicUsize,
}

impl Seen {
    pub fn events(&self) -> Vec<Event> {
        self.records
            .lock()
            .iter()
            .filter_map(|r| match r {
                Record::Event(e) => Some(Event::clone(e)),
                _ => None,
            })
            .collect()
    }

    pub fn event_names(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .map(|e| e.name.to_string())
            .collect()
    }
}

/// How a test exporter behaves.
#[derive(Clone, Default)]
pub enum Behaviour {
    /// Keeps everything.
    #[default]
    Capture,
    /// Every export fails (not retryable).
    AlwaysFail,
    /// Succeeds `n` times, then fails.
    FailAfter(usize),
    /// Fails with a retryable error `n` times, then succeeds.
    RetryableFailures(usize),
    /// Panics on an event with this name.
    PanicOn(&'static str),
    /// Blocks every export until the gate opens.
    Gated(Arc<Gate>),
}

/// A gate an exporter or plugin waits on: a test's way to make one stuck, then release it.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
    pub waiting: AtomicBool,
}

impl Gate {
    pub fn wait(&self) {
        let mut open = self.open.lock();
        self.waiting.store(true, Ordering::SeqCst);
        while !*open {
            self.cv.wait(&mut open);
        }
    }

    pub fn open(&self) {
        *self.open.lock() = true;
        self.cv.notify_all();
    }

    /// Returns once something waits on the gate.
    pub fn until_waiting(&self) {
        while !self.waiting.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
    }
}

/// A Recorder plugin that holds the Recorder on its first record until `gate` opens, so that
/// the ingest queue fills behind it.
pub fn holding_plugin(gate: Arc<Gate>) -> PluginSlot {
    struct Holder(Arc<Gate>);
    impl RecorderPlugin for Holder {
        fn name(&self) -> &str {
            "holder"
        }
        fn on_record(&mut self, _: &mut Record, _: &mut Vec<Record>) -> PluginVerdict {
            self.0.wait();
            PluginVerdict::Keep
        }
    }
    PluginSlot {
        name: "holder".into(),
        factory: Arc::new(move || Box::new(Holder(gate.clone()))),
    }
}

pub struct TestExporter {
    seen: Arc<Seen>,
    behaviour: Behaviour,
    failures_left: Arc<AtomicU32>,
}

impl TestExporter {
    fn check(&mut self, record: &Record) -> Result<(), ExportError> {
        let call = self.seen.calls.fetch_add(1, Ordering::SeqCst);
        match &self.behaviour {
            Behaviour::Capture => {}
            Behaviour::AlwaysFail => return Err(ExportError::failed("backend refused")),
            Behaviour::FailAfter(n) if call >= *n => {
                return Err(ExportError::failed("backend went away"))
            }
            Behaviour::FailAfter(_) => {}
            Behaviour::RetryableFailures(_) => {
                if self
                    .failures_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return Err(ExportError::retryable("connection refused"));
                }
            }
            Behaviour::PanicOn(name) => {
                if matches!(record, Record::Event(e) if e.name == *name) {
                    panic!("test exporter panics on {name}");
                }
            }
            Behaviour::Gated(gate) => gate.wait(),
        }
        self.seen.records.lock().push(record.clone());
        Ok(())
    }
}

impl Exporter for TestExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        self.seen.initialized.lock().push(ctx.restarts);
        Ok(())
    }
    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.check(&Record::SpanStart(Box::new(span.clone())))
    }
    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.check(&Record::SpanStop(Box::new(span.clone())))
    }
    fn export_event(&mut self, event: &Event) -> Result<(), ExportError> {
        self.check(&Record::Event(Box::new(event.clone())))
    }
    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.check(&Record::Error(Box::new(error.clone())))
    }
    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.seen.data_errors.lock().push(error.clone());
        Ok(())
    }
    fn close(&mut self) -> Result<(), ExportError> {
        self.seen.closed.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A slot for a test exporter and what it will see.
pub fn test_exporter(name: &str, behaviour: Behaviour) -> (ExporterSlot, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let failures = match &behaviour {
        Behaviour::RetryableFailures(n) => *n as u32,
        _ => 0,
    };
    let failures_left = Arc::new(AtomicU32::new(failures));
    let s = seen.clone();
    let factory: ExporterFactory = Arc::new(move || {
        Box::new(TestExporter {
            seen: s.clone(),
            behaviour: behaviour.clone(),
            failures_left: failures_left.clone(),
        })
    });
    (ExporterSlot::new(name, "test", factory), seen)
}

/// Settings that make each record its own batch, so failure counts are per record.
pub fn one_record_batches() -> RuntimeSettings {
    RuntimeSettings {
        batch_max_size: 1,
        ..RuntimeSettings::default()
    }
}

pub fn start(settings: RuntimeSettings, exporters: Vec<ExporterSlot>) -> Runtime {
    Runtime::start(RuntimeConfig {
        settings,
        run: telemetron::RunIdentity {
            run_name: "test-run".into(),
            ..Default::default()
        },
        exporters,
        plugins: Vec::new(),
        codec: None,
    })
    .expect("runtime starts")
}

/// Every line of a JSON Lines file, parsed.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The lines of a file exporter's output without its header line.
pub fn records_of(path: &Path) -> Vec<serde_json::Value> {
    read_jsonl(path)
        .into_iter()
        .filter(|v| v["kind"] != "header")
        .collect()
}
pub mod capture_all;
pub mod every_kind;
#[cfg(feature = "kafka")]
pub mod kafka_broker;
pub mod logs;
pub mod video;

/// A runtime started through the facade with one file exporter at `dir/run.jsonl` (no config
/// discovery) and `plugins`; returns it with the file's path.
pub fn start_with_file(
    dir: &Path,
    plugins: Vec<serde_json::Value>,
) -> (Runtime, std::path::PathBuf) {
    let path = dir.join("run.jsonl");
    let loader = telemetron::ConfigLoader::new()
        .without_discovery()
        .exporters(vec![serde_json::json!({"type": "file", "path": path})])
        .plugins(plugins);
    (
        telemetron::start(loader).expect("start with a file exporter"),
        path,
    )
}
