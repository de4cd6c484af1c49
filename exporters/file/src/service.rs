//! The file itself: created 0640 (parents 0750) through `telemetron_runtime::files`, written in
//! whole batches that land whole or not at all (a failed write is cut back to the last good
//! offset), rotated by size, fsynced on flush and close.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use telemetron_runtime::files::{create_new_private_file, open_private_append};

pub(crate) struct RotatingFile {
    path: PathBuf,
    file: File,
    /// Bytes in the current file, as far as this writer knows: the offset a failed write is
    /// cut back to.
    written: u64,
    max_bytes: Option<u64>,
    max_files: usize,
    /// A failed write could not be cut back: the next write first ends the torn line, so it is
    /// one bad line instead of two merged ones.
    torn: bool,
}

impl RotatingFile {
    /// Creates `path`, which must not exist (`AlreadyExists` otherwise).
    pub(crate) fn create(
        path: &Path,
        max_bytes: Option<u64>,
        max_files: usize,
    ) -> io::Result<Self> {
        let file = create_new_private_file(path)?;
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            written: 0,
            max_bytes,
            max_files,
            torn: false,
        })
    }

    /// Opens `path` for appending (creating it when absent). Returns the warning to log when
    /// its mode had to be fixed.
    pub(crate) fn append(
        path: &Path,
        follow_symlinks: bool,
        max_bytes: Option<u64>,
        max_files: usize,
    ) -> io::Result<(Self, Option<String>)> {
        let opened = open_private_append(path, follow_symlinks)?;
        // A writer killed mid-line left a torn last line: end it before appending.
        let torn = opened.len > 0 && !ends_with_newline(&opened.file, opened.len);
        Ok((
            RotatingFile {
                path: path.to_path_buf(),
                file: opened.file,
                written: opened.len,
                max_bytes,
                max_files,
                torn,
            },
            opened.fixed_mode,
        ))
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

    /// Writes `bytes` (whole lines) entirely, or not at all: after a failure (a full disk, a
    /// file size limit) the file is cut back to where it was, so a retry writes no line twice
    /// and none half.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.torn {
            self.file.write_all(b"\n")?;
            self.written += 1;
            self.torn = false;
        }
        let start = self.written;
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.written += bytes.len() as u64;
                Ok(())
            }
            Err(err) => {
                self.roll_back(start, bytes.len() as u64);
                Err(err)
            }
        }
    }

    /// Cuts the file back to `start` when what follows can only be this writer's `len` bytes
    /// (another process appending to the same file is left alone).
    fn roll_back(&mut self, start: u64, len: u64) {
        let now = self.file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let ours = now >= start && now - start <= len;
        if !(ours && self.file.set_len(start).is_ok()) {
            self.torn = now != start;
            self.written = now.min(start + len);
        }
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
        self.file = create_new_private_file(&self.path)?;
        self.written = 0;
        self.torn = false;
        Ok(())
    }

    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.sync_all()
    }
}

fn ends_with_newline(file: &File, len: u64) -> bool {
    use std::os::unix::fs::FileExt;
    let mut last = [0u8; 1];
    file.read_at(&mut last, len - 1).is_ok_and(|n| n == 1) && last[0] == b'\n'
}

/// `run.jsonl` → `run.jsonl.3`.
pub(crate) fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// `run.jsonl` → `run.1.jsonl`: the name tried when `run.jsonl` exists already.
pub(crate) fn fresh_name(path: &Path, n: usize) -> PathBuf {
    let stem = path.file_stem().unwrap_or(path.as_os_str()).to_owned();
    let mut name = stem;
    name.push(format!(".{n}"));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_keep_the_extension() {
        assert_eq!(
            fresh_name(Path::new("out/run.jsonl"), 1),
            Path::new("out/run.1.jsonl")
        );
        assert_eq!(fresh_name(Path::new("log"), 2), Path::new("log.2"));
    }

    #[test]
    fn appending_ends_a_torn_last_line_first() {
        let dir = std::env::temp_dir().join(format!("telemetron-torn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("torn.jsonl");
        std::fs::write(&path, "{\"kind\":\"event\",\"na").unwrap();
        let (mut file, _) = RotatingFile::append(&path, false, None, 1).unwrap();
        file.write_all(b"{\"kind\":\"header\"}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"kind\":\"event\",\"na\n{\"kind\":\"header\"}\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
