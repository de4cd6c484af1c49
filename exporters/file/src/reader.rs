//! Reads a JSON Lines export back into the runtime's [`Record`]s: the other half of the
//! contract written down in this crate's README.
//!
//! - **Schema-versioned**: a line of a newer `schema` than [`SCHEMA_VERSION`] is a clear error
//!   (upgrade Telemetron); schemas from [`MIN_SCHEMA_VERSION`] up are read.
//! - **Streaming**: one line in memory at a time (plus one interned key per metric series), so
//!   a multi-GB file is read in constant memory.
//! - **Torn tails are expected**: a job killed mid-write leaves half a line at the end (or, when
//!   a later writer appended to the file, before its next `header`). Such a line is skipped and
//!   counted in [`ReadStats::torn_lines`]; any other bad line is an error naming its number.
//!
//! ```no_run
//! use telemetron_exporter_file::reader::{ExportReader, ReadItem};
//! let mut reader = ExportReader::open("telemetron-out/run.jsonl").unwrap();
//! while let Some(item) = reader.next_item().unwrap() {
//!     if let ReadItem::Record(record) = item {
//!         println!("{}", record.kind().as_str());
//!     }
//! }
//! println!("torn lines skipped: {}", reader.stats().torn_lines);
//! ```

mod decode;
mod line;
mod values;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use telemetron_runtime::model::Record;
use telemetron_runtime::RunIdentity;

pub use decode::LineDecoder;

/// The oldest `schema` this reader understands.
pub const MIN_SCHEMA_VERSION: u32 = 1;
pub use crate::encoder::SCHEMA_VERSION;

/// One item of an export: a file header or a record.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadItem {
    /// The line that opens every file (and every rotated segment).
    Header(ExportHeader),
    /// A record, exactly as the exporter received it.
    Record(Record),
}

/// The `header` line: which run wrote the file, and which process.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportHeader {
    /// When the file was opened (Unix ns).
    pub time_ns: u64,
    /// The run.
    pub run: RunIdentity,
    /// The exporter instance name (`file`, `file#2`).
    pub exporter: String,
    /// The writing process.
    pub pid: u64,
    /// `telemetron <version>`.
    pub producer: String,
}

/// What a read went through, beyond the items it returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Complete lines read (headers, records, unknown kinds).
    pub lines: u64,
    /// Bytes consumed.
    pub bytes: u64,
    /// Records returned.
    pub records: u64,
    /// Header lines returned.
    pub headers: u64,
    /// Half-written lines skipped (a writer stopped mid-line).
    pub torn_lines: u64,
    /// Bytes of those lines.
    pub torn_bytes: u64,
    /// Lines of kinds this reader does not know (written by a newer Telemetron within the same
    /// schema), skipped, by kind.
    pub unknown_kinds: std::collections::BTreeMap<String, u64>,
}

/// Why an export could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// What went wrong.
        error: io::Error,
    },
    /// The first line is not a Telemetron line: another program's file.
    #[error("{source_name}: not a Telemetron export (line 1: {reason})")]
    NotAnExport {
        /// The file.
        source_name: String,
        /// What line 1 holds instead.
        reason: String,
    },
    /// Nothing but part of one line: the file was cut before its first line ended.
    #[error("{source_name}: truncated: the file ends inside its first line ({bytes} bytes, no complete record)")]
    Truncated {
        /// The file.
        source_name: String,
        /// Its size.
        bytes: u64,
    },
    /// The file holds no line at all.
    #[error("{source_name}: empty file: no Telemetron records")]
    Empty {
        /// The file.
        source_name: String,
    },
    /// A line of a schema this reader cannot read.
    #[error("{source_name}:{line}: schema {schema} is {}; this reader reads schemas {MIN_SCHEMA_VERSION} to {SCHEMA_VERSION}{}", if *schema > u64::from(SCHEMA_VERSION) { "newer than this Telemetron" } else { "unknown" }, if *schema > u64::from(SCHEMA_VERSION) { " (upgrade telemetron to read it)" } else { "" })]
    UnsupportedSchema {
        /// The file.
        source_name: String,
        /// The line number (1-based).
        line: u64,
        /// The line's schema.
        schema: u64,
    },
    /// A line in the middle of the file is not a valid record.
    #[error("{source_name}:{line}: {reason}")]
    Malformed {
        /// The file.
        source_name: String,
        /// The line number (1-based).
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// A streaming reader of one export file (or any `BufRead` holding one).
pub struct ExportReader<R> {
    input: R,
    decoder: LineDecoder,
    buf: Vec<u8>,
    /// A bad line kept until the next one shows whether it was a torn tail.
    suspect: Option<(usize, ReadError)>,
    /// A line read ahead while judging a suspect.
    ahead: Option<ReadItem>,
    finished: bool,
}

impl ExportReader<BufReader<File>> {
    /// Opens a file for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|error| ReadError::Io {
            source_name: name.clone(),
            error,
        })?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(ReadError::Io {
                source_name: name,
                error: io::Error::other("is a directory, not an export file"),
            });
        }
        Ok(ExportReader::new(
            BufReader::with_capacity(1 << 20, file),
            name,
        ))
    }
}

impl<R: BufRead> ExportReader<R> {
    /// Reads from `input`; `source_name` names it in errors.
    pub fn new(input: R, source_name: impl Into<String>) -> Self {
        ExportReader {
            input,
            decoder: LineDecoder::new(source_name),
            buf: Vec::with_capacity(64 * 1024),
            suspect: None,
            ahead: None,
            finished: false,
        }
    }

    /// What the read went through so far.
    pub fn stats(&self) -> &ReadStats {
        self.decoder.stats()
    }

    /// The next header or record; `None` at the end of the input.
    pub fn next_item(&mut self) -> Result<Option<ReadItem>, ReadError> {
        if let Some(item) = self.ahead.take() {
            return Ok(Some(item));
        }
        loop {
            if self.finished {
                return Ok(None);
            }
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|error| ReadError::Io {
                    source_name: self.decoder.source_name().to_string(),
                    error,
                })?;
            if n == 0 {
                self.finished = true;
                // A bad last line is a torn tail: the writer stopped there.
                if let Some((bytes, _)) = self.suspect.take() {
                    self.decoder.count_torn(bytes);
                }
                let stats = self.decoder.stats();
                if stats.lines == 0 && stats.torn_lines == 0 {
                    return Err(ReadError::Empty {
                        source_name: self.decoder.source_name().to_string(),
                    });
                }
                return Ok(None);
            }
            self.decoder.count_bytes(n);
            // No newline: the last bytes of the input.
            let complete = self.buf.last() == Some(&b'\n');
            match self.decoder.decode(&self.buf) {
                Ok(item) => {
                    if let Some((bytes, error)) = self.suspect.take() {
                        // A bad line followed by a header: the previous writer's torn tail.
                        if matches!(item, Some(ReadItem::Header(_))) {
                            self.decoder.count_torn(bytes);
                        } else {
                            self.ahead = item;
                            return Err(error);
                        }
                    }
                    self.finished = !complete;
                    if let Some(item) = item {
                        return Ok(Some(item));
                    }
                }
                Err(error) => {
                    if let Some((_, first)) = self.suspect.take() {
                        // Two bad lines in a row: the first was not a torn tail.
                        return Err(first);
                    }
                    if !complete {
                        self.finished = true;
                        if self.decoder.stats().lines == 0 {
                            return Err(self.cut_first_line(error, n));
                        }
                        self.decoder.count_torn(n);
                        return Ok(None);
                    }
                    if matches!(
                        error,
                        ReadError::NotAnExport { .. } | ReadError::UnsupportedSchema { .. }
                    ) {
                        return Err(error);
                    }
                    self.suspect = Some((n, error));
                }
            }
        }
    }

    /// The only line is incomplete: cut inside a Telemetron line, or another program's file.
    fn cut_first_line(&self, error: ReadError, bytes: usize) -> ReadError {
        if self.buf.starts_with(b"{\"schema\":")
            && !matches!(error, ReadError::UnsupportedSchema { .. })
        {
            ReadError::Truncated {
                source_name: self.decoder.source_name().to_string(),
                bytes: bytes as u64,
            }
        } else {
            error
        }
    }
}

impl<R: BufRead> Iterator for ExportReader<R> {
    type Item = Result<ReadItem, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => None,
            Err(e) => {
                // After an error the stream is over: a caller looping on `next` stops.
                self.finished = true;
                self.ahead = None;
                Some(Err(e))
            }
        }
    }
}
