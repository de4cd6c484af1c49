//! The file itself: created 0640 (parents 0750), written in whole batches, rotated by size,
//! fsynced on flush and close.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub(crate) struct RotatingFile {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: Option<u64>,
    max_files: usize,
}

impl RotatingFile {
    pub(crate) fn open(
        path: &Path,
        append: bool,
        max_bytes: Option<u64>,
        max_files: usize,
    ) -> io::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(parent)?;
        }
        let file = open_file(path, append)?;
        let written = if append { file.metadata()?.len() } else { 0 };
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes,
            max_files,
        })
    }

    /// Bytes in the current file.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Whether a line of `line` bytes, after `before` bytes not yet written, would push the
    /// file past `max_bytes`. A line alone in a fresh file always fits.
    pub(crate) fn would_overflow(&self, before: u64, line: u64) -> bool {
        self.max_bytes
            .is_some_and(|max| self.written + before > 0 && self.written + before + line > max)
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Moves `path` to `path.1` (shifting older ones up, dropping the oldest) and starts anew.
    pub(crate) fn rotate(&mut self) -> io::Result<()> {
        self.file.sync_all()?;
        if self.max_files == 0 {
            fs::remove_file(&self.path)?;
        } else {
            let _ = fs::remove_file(numbered(&self.path, self.max_files));
            for n in (1..self.max_files).rev() {
                let from = numbered(&self.path, n);
                if from.exists() {
                    fs::rename(&from, numbered(&self.path, n + 1))?;
                }
            }
            fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        self.file = open_file(&self.path, false)?;
        self.written = 0;
        Ok(())
    }

    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.sync_all()
    }
}

fn open_file(path: &Path, append: bool) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .mode(0o640)
        .open(path)
}

/// `run.jsonl` → `run.jsonl.3`.
pub(crate) fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}
