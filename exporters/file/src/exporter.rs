//! The `Exporter` implementation: encode a batch into one buffer, write it once.

use std::path::PathBuf;

use telemetron_runtime::model::{
    ErrorRecord, Event, Record, SpanStart, SpanStop, TelemetryDataError,
};
use telemetron_runtime::{ExportError, Exporter, ExporterContext, RecordBatch};

use crate::config::FileExporterConfig;
use crate::encoder::{encode_header, encode_record};
use crate::service::RotatingFile;

/// Writes JSON Lines to a file. See the crate README for the format.
pub struct FileExporter {
    config: FileExporterConfig,
    path: PathBuf,
    context: Option<ExporterContext>,
    file: Option<RotatingFile>,
    buf: Vec<u8>,
}

impl FileExporter {
    /// An exporter writing to `path` (already resolved from the config and the run).
    pub fn new(config: FileExporterConfig, path: PathBuf) -> Self {
        FileExporter {
            config,
            path,
            context: None,
            file: None,
            buf: Vec::with_capacity(256 * 1024),
        }
    }

    fn file(&mut self) -> Result<&mut RotatingFile, ExportError> {
        self.file.as_mut().ok_or_else(|| {
            ExportError::failed("file exporter used before initialize or after close")
        })
    }

    fn write_records<'a>(
        &mut self,
        records: impl Iterator<Item = &'a Record>,
    ) -> Result<(), ExportError> {
        self.buf.clear();
        for record in records {
            let line_start = self.buf.len();
            encode_record(record, &mut self.buf);
            let line_len = (self.buf.len() - line_start) as u64;
            let file = self
                .file
                .as_mut()
                .ok_or_else(|| ExportError::failed("file exporter is not open"))?;
            if file.would_overflow(line_start as u64, line_len) {
                file.write_all(&self.buf[..line_start])?;
                file.rotate()?;
                self.buf.drain(..line_start);
                self.write_header_into_buf_front()?;
            }
        }
        let buf = std::mem::take(&mut self.buf);
        let result = self
            .file()
            .and_then(|f| f.write_all(&buf).map_err(ExportError::from));
        self.buf = buf;
        result
    }

    /// After a rotation the new file starts with its own header line.
    fn write_header_into_buf_front(&mut self) -> Result<(), ExportError> {
        let mut header = Vec::new();
        if let Some(ctx) = &self.context {
            encode_header(ctx, &mut header);
        }
        self.file()?.write_all(&header)?;
        Ok(())
    }

    fn write_one(&mut self, record: Record) -> Result<(), ExportError> {
        self.write_records(std::iter::once(&record))
    }
}

impl Exporter for FileExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        // After a restart, append: truncating would lose what the previous instance wrote.
        let append = self.config.append || ctx.restarts > 0;
        let file = RotatingFile::open(
            &self.path,
            append,
            self.config.max_bytes,
            self.config.max_files(),
        )
        .map_err(|e| ExportError::failed(format!("cannot open {}: {e}", self.path.display())))?;
        self.file = Some(file);
        self.context = Some(ctx.clone());
        if self.file()?.written() == 0 {
            self.write_header_into_buf_front()?;
        }
        Ok(())
    }

    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.write_one(Record::SpanStart(span.clone()))
    }

    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.write_one(Record::SpanStop(span.clone()))
    }

    fn export_event(&mut self, event: &Event) -> Result<(), ExportError> {
        self.write_one(Record::Event(event.clone()))
    }

    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.write_one(Record::Error(error.clone()))
    }

    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.write_one(Record::TelemetryDataError(error.clone()))
    }

    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.write_records(batch.iter())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        self.file()?.sync()?;
        Ok(())
    }

    fn close(&mut self) -> Result<(), ExportError> {
        if let Some(mut file) = self.file.take() {
            file.sync()?;
        }
        Ok(())
    }
}
