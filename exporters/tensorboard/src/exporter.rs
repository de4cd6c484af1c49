//! The `Exporter` implementation: a batch becomes one buffer of TFRecords, written at once
//! (the wrapper cuts batches by size and age, so data reaches the file within
//! `batch_max_age_secs`); a full file is followed by a new one between batches.

use std::path::PathBuf;

use telemetron_runtime::model::{
    ErrorRecord, Record, SpanStart, SpanStop, TelemetryDataError, Timestamp,
};
use telemetron_runtime::{ExportError, Exporter, ExporterContext, RecordBatch};

use crate::config::TensorBoardConfig;
use crate::encoder::Encoder;
use crate::service::EventFiles;

/// Writes TensorBoard event files. See the crate README for the mapping.
pub struct TensorBoardExporter {
    logdir: PathBuf,
    files: EventFiles,
    encoder: Encoder,
    buf: Vec<u8>,
}

impl TensorBoardExporter {
    /// An exporter writing into `logdir` (already resolved from the config and the run).
    pub fn new(config: TensorBoardConfig, logdir: PathBuf) -> Self {
        TensorBoardExporter {
            files: EventFiles::new(&logdir, config.max_file_bytes()),
            logdir,
            encoder: Encoder::default(),
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    fn open_next(&mut self) -> Result<(), ExportError> {
        let first = self.encoder.file_version(Timestamp::now().0);
        self.files.open_next(&first).map_err(|e| {
            ExportError::failed(format!(
                "cannot create an event file in {}: {e}",
                self.logdir.display()
            ))
        })
    }

    fn write<'a>(&mut self, records: impl Iterator<Item = &'a Record>) -> Result<(), ExportError> {
        if !self.files.is_open() || self.files.full() {
            self.open_next()?;
        }
        self.buf.clear();
        for record in records {
            self.encoder.encode(record, &mut self.buf);
        }
        let path = self.files.path().display().to_string();
        self.files
            .write(&self.buf)
            .map_err(|e| ExportError::failed(format!("{path}: {e}")))
    }
}

impl Exporter for TensorBoardExporter {
    fn initialize(&mut self, _ctx: &ExporterContext) -> Result<(), ExportError> {
        // A restarted instance starts a new file: TensorBoard reads a run's files in order.
        self.open_next()
    }

    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.write(std::iter::once(&Record::SpanStart(Box::new(span.clone()))))
    }

    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.write(std::iter::once(&Record::SpanStop(Box::new(span.clone()))))
    }

    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.write(std::iter::once(&Record::Error(Box::new(error.clone()))))
    }

    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.write(std::iter::once(&Record::from(error.clone())))
    }

    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.write(batch.iter())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        self.files.sync().map_err(ExportError::from)
    }

    fn close(&mut self) -> Result<(), ExportError> {
        self.files.close().map_err(ExportError::from)
    }
}
