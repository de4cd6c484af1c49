//! The `Exporter` implementation: pick the file (never an existing one unless appending), encode
//! a batch into one buffer, write it once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use telemetron_runtime::files::{create_private_dir, is_symlink};
use telemetron_runtime::model::{
    ErrorRecord, Event, Record, SpanStart, SpanStop, TelemetryDataError,
};
use telemetron_runtime::{ExportError, Exporter, ExporterContext, RecordBatch};

use crate::config::FileExporterConfig;
use crate::encoder::{encode_header, encode_record};
use crate::service::{fresh_name, RotatingFile};

/// Fresh names tried beside an existing file before giving up.
const FRESH_NAMES: usize = 1000;

/// Writes JSON Lines to a file. See the crate README for the format.
pub struct FileExporter {
    config: FileExporterConfig,
    path: PathBuf,
    /// The file this exporter writes, decided by its first `initialize` and shared with the
    /// instances rebuilt after a panic (which append to it).
    chosen: Arc<Mutex<Option<PathBuf>>>,
    context: Option<ExporterContext>,
    file: Option<RotatingFile>,
    buf: Vec<u8>,
    /// A batch whose first records are on disk already (written before a rotation, then the
    /// rest failed): its retry skips them.
    progress: Option<(RecordBatch, usize)>,
}

impl FileExporter {
    /// An exporter writing to `path` (already resolved from the config and the run).
    pub fn new(config: FileExporterConfig, path: PathBuf) -> Self {
        Self::sharing(config, path, Arc::default())
    }

    /// An exporter whose chosen file is shared with earlier instances (the factory's).
    pub(crate) fn sharing(
        config: FileExporterConfig,
        path: PathBuf,
        chosen: Arc<Mutex<Option<PathBuf>>>,
    ) -> Self {
        FileExporter {
            config,
            path,
            chosen,
            context: None,
            file: None,
            buf: Vec::with_capacity(256 * 1024),
            progress: None,
        }
    }

    /// The file written, once initialized (`path`, or a fresh name beside it).
    pub fn current_path(&self) -> Option<PathBuf> {
        self.chosen.lock().ok().and_then(|c| c.clone())
    }

    fn file(&mut self) -> Result<&mut RotatingFile, ExportError> {
        self.file.as_mut().ok_or_else(|| {
            ExportError::failed("file exporter used before initialize or after close")
        })
    }

    /// Opens the file: the one chosen before (after a restart: append), else `path` when
    /// `append`, else `path` or the first fresh name beside it that does not exist. Returns the
    /// file, its path, and whether this writer starts a section of an existing file.
    fn open(&self) -> Result<(RotatingFile, PathBuf, bool), String> {
        let max_bytes = self.config.max_bytes;
        let max_files = self.config.max_files();
        let cannot =
            |path: &PathBuf, e: std::io::Error| format!("cannot open {}: {e}", path.display());
        let chosen = self
            .chosen
            .lock()
            .map_err(|_| "file exporter state poisoned")?
            .clone();
        if let Some(path) = chosen {
            let (file, _) =
                RotatingFile::append(&path, self.config.follow_symlinks, max_bytes, max_files)
                    .map_err(|e| cannot(&path, e))?;
            return Ok((file, path, false));
        }
        if let Some(parent) = self.path.parent() {
            create_private_dir(parent).map_err(|e| cannot(&self.path, e))?;
        }
        if self.config.append {
            let (file, fixed) = RotatingFile::append(
                &self.path,
                self.config.follow_symlinks,
                max_bytes,
                max_files,
            )
            .map_err(|e| cannot(&self.path, e))?;
            if let Some(warning) = fixed {
                tracing::warn!(target: "telemetron", "file exporter: {warning}");
            }
            let existing = file.written() > 0;
            return Ok((file, self.path.clone(), existing));
        }
        if is_symlink(&self.path) && !self.config.follow_symlinks {
            return Err(cannot(
                &self.path,
                std::io::Error::other(
                    "it is a symbolic link; refusing to write through it (set follow_symlinks: \
                     true with append: true to allow it)",
                ),
            ));
        }
        for n in 0..=FRESH_NAMES {
            let path = if n == 0 {
                self.path.clone()
            } else {
                fresh_name(&self.path, n)
            };
            match RotatingFile::create(&path, max_bytes, max_files) {
                Ok(file) => {
                    if n > 0 {
                        tracing::warn!(
                            target: "telemetron",
                            "file exporter: {} exists and is never overwritten; writing to {} \
                             (set append: true to append to it)",
                            self.path.display(),
                            path.display()
                        );
                    }
                    return Ok((file, path, false));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(cannot(&path, e)),
            }
        }
        Err(format!(
            "cannot open {}: it and {FRESH_NAMES} fresh names beside it exist",
            self.path.display()
        ))
    }

    /// Writes `records` (whose first `offset` records of the batch are on disk already).
    /// Returns, with an error, how many more records reached the disk (before a rotation).
    fn write_records<'a>(
        &mut self,
        records: impl Iterator<Item = &'a Record>,
    ) -> Result<(), (ExportError, usize)> {
        self.buf.clear();
        let mut in_buf = 0;
        let mut committed = 0;
        for record in records {
            let line_start = self.buf.len();
            encode_record(record, &mut self.buf);
            let line_len = (self.buf.len() - line_start) as u64;
            let file = self
                .file
                .as_mut()
                .ok_or_else(|| (ExportError::failed("file exporter is not open"), committed))?;
            if file.would_overflow(line_start as u64, line_len) {
                file.write_all(&self.buf[..line_start])
                    .map_err(|e| (e.into(), committed))?;
                committed += in_buf;
                in_buf = 0;
                file.rotate().map_err(|e| (e.into(), committed))?;
                self.buf.drain(..line_start);
                self.write_header().map_err(|e| (e, committed))?;
            }
            in_buf += 1;
        }
        let buf = std::mem::take(&mut self.buf);
        let result = self
            .file()
            .and_then(|f| f.write_all(&buf).map_err(ExportError::from));
        self.buf = buf;
        result.map_err(|e| (e, committed))
    }

    /// A header line: first of every file, and first of this writer's part of an existing one.
    fn write_header(&mut self) -> Result<(), ExportError> {
        let mut header = Vec::new();
        if let Some(ctx) = &self.context {
            encode_header(ctx, &mut header);
        }
        self.file()?.write_all(&header)?;
        Ok(())
    }

    fn write_one(&mut self, record: Record) -> Result<(), ExportError> {
        self.write_records(std::iter::once(&record))
            .map_err(|(e, _)| e)
    }
}

impl Exporter for FileExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        let (file, path, joins_existing) = self.open().map_err(ExportError::failed)?;
        if let Ok(mut chosen) = self.chosen.lock() {
            *chosen = Some(path);
        }
        let empty = file.written() == 0;
        self.file = Some(file);
        self.context = Some(ctx.clone());
        if empty || joins_existing {
            self.write_header()?;
        }
        Ok(())
    }

    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.write_one(Record::SpanStart(Box::new(span.clone())))
    }

    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.write_one(Record::SpanStop(Box::new(span.clone())))
    }

    fn export_event(&mut self, event: &Event) -> Result<(), ExportError> {
        self.write_one(Record::Event(Box::new(event.clone())))
    }

    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.write_one(Record::Error(Box::new(error.clone())))
    }

    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.write_one(Record::from(error.clone()))
    }

    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        // A retry of a batch partly written before a rotation skips what is on disk.
        let done = match self.progress.take() {
            Some((previous, done)) if previous.is_same(batch) => done,
            _ => 0,
        };
        self.write_records(batch.iter().skip(done))
            .map_err(|(err, committed)| {
                if done + committed > 0 {
                    self.progress = Some((batch.clone(), done + committed));
                }
                err
            })
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
