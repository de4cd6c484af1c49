//! An exporter that keeps every record of every kind, in order (the shared `TestExporter`
//! keeps spans, events and errors only).

use std::sync::Arc;

use parking_lot::Mutex;
use telemetron::model::{Record, TelemetryDataError};
use telemetron::{ExportError, Exporter, ExporterSlot, RecordBatch};

/// Every record exported, in order.
pub type Captured = Arc<Mutex<Vec<Record>>>;

struct CaptureAll(Captured);

impl Exporter for CaptureAll {
    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.0.lock().extend(batch.iter().cloned());
        Ok(())
    }
    fn export_start(&mut self, _: &telemetron::model::SpanStart) -> Result<(), ExportError> {
        unreachable!("export_batch is overridden")
    }
    fn export_stop(&mut self, _: &telemetron::model::SpanStop) -> Result<(), ExportError> {
        unreachable!("export_batch is overridden")
    }
    fn export_event(&mut self, _: &telemetron::model::Event) -> Result<(), ExportError> {
        unreachable!("export_batch is overridden")
    }
    fn export_error(&mut self, _: &telemetron::model::ErrorRecord) -> Result<(), ExportError> {
        unreachable!("export_batch is overridden")
    }
    fn export_telemetry_data_error(&mut self, e: &TelemetryDataError) -> Result<(), ExportError> {
        self.0.lock().push(Record::from(e.clone()));
        Ok(())
    }
}

/// A slot for an exporter named `name` that captures everything.
pub fn capture_all(name: &str) -> (ExporterSlot, Captured) {
    let captured = Captured::default();
    let c = captured.clone();
    let slot = ExporterSlot::new(
        name,
        "capture_all",
        Arc::new(move || Box::new(CaptureAll(c.clone()))),
    );
    (slot, captured)
}
