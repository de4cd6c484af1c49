//! `telemetron tail [-f] RUN.jsonl [--kind K] [--name GLOB] [-n N]`: one readable line per
//! record; with `-f`, keeps reading as the file grows and reopens it when the exporter rotates
//! it (a new inode at the path, or a file shorter than what was read).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use telemetron::model::{Record, RecordKind};
use telemetron::reader::{LineDecoder, ReadError, ReadItem};

use super::format::{line, record_name};
use crate::args::KindFilter;
use crate::error::CliError;
use crate::input::report_skipped;
use crate::Host;

/// How often a followed file is checked for growth or rotation.
const POLL: Duration = Duration::from_millis(100);

struct Filter {
    kinds: Vec<RecordKind>,
    name: Option<glob::Pattern>,
}

impl Filter {
    fn new(kinds: &[KindFilter], name: Option<&str>) -> Result<Filter, CliError> {
        let kinds = kinds
            .iter()
            .flat_map(|k| match k {
                KindFilter::Span => vec![RecordKind::SpanStart, RecordKind::SpanStop],
                KindFilter::SpanStart => vec![RecordKind::SpanStart],
                KindFilter::SpanStop => vec![RecordKind::SpanStop],
                KindFilter::Event => vec![RecordKind::Event],
                KindFilter::Error => vec![RecordKind::Error],
                KindFilter::TelemetryDataError => vec![RecordKind::TelemetryDataError],
                KindFilter::Log => vec![RecordKind::Log],
                KindFilter::Metric => vec![RecordKind::Metric],
                KindFilter::RlMetric => vec![RecordKind::Rl],
                KindFilter::Histogram => vec![RecordKind::Histogram],
                KindFilter::Scatter => vec![RecordKind::Scatter],
                KindFilter::Attributes => vec![RecordKind::Attributes],
                KindFilter::Rendering => vec![RecordKind::Rendering],
            })
            .collect();
        let name = name
            .map(|g| {
                glob::Pattern::new(g)
                    .map_err(|e| CliError::Usage(format!("--name {g:?} is not a valid glob: {e}")))
            })
            .transpose()?;
        Ok(Filter { kinds, name })
    }

    fn keeps(&self, record: &Record) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&record.kind()))
            && self
                .name
                .as_ref()
                .is_none_or(|p| record_name(record).is_some_and(|n| p.matches(n)))
    }
}

/// A file being read line by line; a partial last line waits for the rest.
struct Follower {
    reader: BufReader<File>,
    decoder: LineDecoder,
    partial: Vec<u8>,
    inode: u64,
    position: u64,
}

impl Follower {
    fn open(path: &Path) -> Result<Follower, CliError> {
        let io = |error| ReadError::Io {
            source_name: path.display().to_string(),
            error,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            return Err(CliError::Read(io(std::io::Error::other(
                "is a directory, not an export file",
            ))));
        }
        Ok(Follower {
            reader: BufReader::with_capacity(1 << 20, file),
            decoder: LineDecoder::new(path.display().to_string()),
            partial: Vec::new(),
            inode: meta.ino(),
            position: 0,
        })
    }

    /// Decodes every complete line available now, handing records to `each`.
    fn drain(
        &mut self,
        mut each: impl FnMut(Record) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        loop {
            let n = self
                .reader
                .read_until(b'\n', &mut self.partial)
                .map_err(|error| ReadError::Io {
                    source_name: self.decoder.source_name().to_string(),
                    error,
                })?;
            self.position += n as u64;
            if self.partial.last() != Some(&b'\n') {
                return Ok(()); // the rest of the line has not been written yet
            }
            self.decoder.count_bytes(self.partial.len());
            let item = self.decoder.decode(&self.partial);
            self.partial.clear();
            if let Some(ReadItem::Record(record)) = item? {
                each(record)?;
            }
        }
    }

    /// Whether the path now names another file (rotated) or a shorter one (truncated).
    fn replaced(&self, path: &Path) -> bool {
        match std::fs::metadata(path) {
            Ok(meta) => meta.ino() != self.inode || meta.len() < self.position,
            Err(_) => false, // between the rename and the new file: keep the old one
        }
    }
}

pub(super) fn run(
    path: &Path,
    follow: bool,
    lines: Option<usize>,
    kinds: &[KindFilter],
    name: Option<&str>,
    host: &Host,
) -> Result<(), CliError> {
    let filter = Filter::new(kinds, name)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut follower = Follower::open(path)?;

    // The file as it is now: everything, or the last N matching records.
    let mut last: VecDeque<String> = VecDeque::new();
    let mut seen = 0u64;
    follower.drain(|record| {
        seen += 1;
        if seen % (1 << 14) == 0 && (host.interrupted)() {
            return Err(CliError::Interrupted);
        }
        if filter.keeps(&record) {
            let text = line(&record);
            match lines {
                Some(n) => {
                    if last.len() == n {
                        last.pop_front();
                    }
                    if n > 0 {
                        last.push_back(text);
                    }
                }
                None => writeln!(out, "{text}").map_err(CliError::stdout)?,
            }
        }
        Ok(())
    })?;
    for text in last {
        writeln!(out, "{text}").map_err(CliError::stdout)?;
    }
    out.flush().map_err(CliError::stdout)?;
    if !follow {
        if !follower.partial.is_empty() {
            if follower.decoder.stats().lines == 0 {
                return Err(CliError::Read(ReadError::Truncated {
                    source_name: path.display().to_string(),
                    bytes: follower.partial.len() as u64,
                }));
            }
            follower.decoder.count_torn(follower.partial.len());
        } else if follower.decoder.stats().lines == 0 {
            return Err(CliError::Read(ReadError::Empty {
                source_name: path.display().to_string(),
            }));
        }
        report_skipped(follower.decoder.stats());
        return Ok(());
    }

    let mut print = |record: Record| -> Result<(), CliError> {
        if filter.keeps(&record) {
            writeln!(out, "{}", line(&record)).map_err(CliError::stdout)?;
            out.flush().map_err(CliError::stdout)?;
        }
        Ok(())
    };
    loop {
        if (host.interrupted)() {
            return Err(CliError::Interrupted);
        }
        std::thread::sleep(POLL);
        follower.drain(&mut print)?;
        if follower.replaced(path) {
            // What the old file got before the rename, then the new file from its start.
            follower.drain(&mut print)?;
            follower = Follower::open(path)?;
            follower.drain(&mut print)?;
        }
    }
}
