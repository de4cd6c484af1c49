//! A run's export as one stream of items: its rotated segments oldest first (`run.jsonl.N` ..
//! `run.jsonl.1`, then `run.jsonl`), with a progress bar over their bytes and Ctrl-C checks.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use telemetron::reader::{ExportReader, ReadItem, ReadStats};

use crate::error::CliError;
use crate::progress::bytes_bar;
use crate::Host;

/// Items between two checks of the host's interrupt flag (a check may take the GIL).
const CHECK_EVERY: u32 = 1 << 14;
/// Bytes between two progress updates.
const PROGRESS_EVERY: u64 = 1 << 20;

pub(crate) struct RunInput<'h> {
    segments: Vec<PathBuf>,
    next_segment: usize,
    reader: Option<ExportReader<BufReader<File>>>,
    /// Stats of the segments already finished.
    done: ReadStats,
    bar: ProgressBar,
    reported: u64,
    host: &'h Host,
    since_check: u32,
}

/// The segment files of `path`, oldest first (just `path` unless `rotated`).
pub(crate) fn segments(path: &Path, rotated: bool) -> Vec<PathBuf> {
    let mut older = Vec::new();
    if rotated {
        let mut n = 1;
        loop {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".{n}"));
            let segment = PathBuf::from(name);
            if !segment.is_file() {
                break;
            }
            older.push(segment);
            n += 1;
        }
    }
    older.reverse();
    older.push(path.to_path_buf());
    older
}

impl<'h> RunInput<'h> {
    /// Opens the run at `path`; `what` labels the progress bar.
    pub(crate) fn open(
        path: &Path,
        rotated: bool,
        what: &str,
        host: &'h Host,
    ) -> Result<Self, CliError> {
        let segments = segments(path, rotated);
        // Open the newest first: a missing file is reported before any work.
        let first = ExportReader::open(path)?;
        let total = segments
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let mut input = RunInput {
            next_segment: 0,
            reader: None,
            done: ReadStats::default(),
            bar: bytes_bar(total, what),
            reported: 0,
            host,
            since_check: 0,
            segments,
        };
        if input.segments.len() == 1 {
            input.reader = Some(first);
            input.next_segment = 1;
        }
        Ok(input)
    }

    /// The next item of the run, across segments.
    pub(crate) fn next_item(&mut self) -> Result<Option<ReadItem>, CliError> {
        self.since_check += 1;
        if self.since_check >= CHECK_EVERY {
            self.since_check = 0;
            if (self.host.interrupted)() {
                self.bar.finish_and_clear();
                return Err(CliError::Interrupted);
            }
        }
        loop {
            if let Some(reader) = &mut self.reader {
                match reader.next_item() {
                    Ok(Some(item)) => {
                        let at = self.done.bytes + reader.stats().bytes;
                        if at - self.reported >= PROGRESS_EVERY {
                            self.reported = at;
                            self.bar.set_position(at);
                        }
                        return Ok(Some(item));
                    }
                    Ok(None) => {
                        let stats = reader.stats().clone();
                        add(&mut self.done, &stats);
                        self.reader = None;
                    }
                    Err(e) => {
                        self.bar.finish_and_clear();
                        return Err(e.into());
                    }
                }
            }
            let Some(path) = self.segments.get(self.next_segment) else {
                self.bar.finish_and_clear();
                return Ok(None);
            };
            self.reader = Some(ExportReader::open(path)?);
            self.next_segment += 1;
        }
    }

    /// What was read so far, over every segment.
    pub(crate) fn stats(&self) -> ReadStats {
        let mut total = self.done.clone();
        if let Some(reader) = &self.reader {
            add(&mut total, reader.stats());
        }
        total
    }

    /// The segment files read.
    pub(crate) fn files(&self) -> &[PathBuf] {
        &self.segments
    }
}

fn add(total: &mut ReadStats, more: &ReadStats) {
    total.lines += more.lines;
    total.bytes += more.bytes;
    total.records += more.records;
    total.headers += more.headers;
    total.torn_lines += more.torn_lines;
    total.torn_bytes += more.torn_bytes;
    for (kind, n) in &more.unknown_kinds {
        *total.unknown_kinds.entry(kind.clone()).or_default() += n;
    }
}

/// One note on stderr for lines the reader skipped; silent when there were none.
pub(crate) fn report_skipped(stats: &ReadStats) {
    if stats.torn_lines > 0 {
        eprintln!(
            "telemetron: note: skipped {} torn line(s) ({} bytes): the writer stopped mid-line",
            stats.torn_lines, stats.torn_bytes
        );
    }
    for (kind, n) in &stats.unknown_kinds {
        eprintln!("telemetron: note: skipped {n} record(s) of unknown kind {kind:?} (written by a newer telemetron)");
    }
}
