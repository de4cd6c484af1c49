//! The event files on disk: TFRecord framing (length, masked CRC-32C of the length, data,
//! masked CRC-32C of the data), named `events.out.tfevents.<unix secs>.<host>.<pid>.<n>`,
//! created 0640 in a 0750 directory, written once per batch, fsynced on flush and close, and
//! rotated past a size (each new file opens with its own `file_version` event).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// CRC-32C (Castagnoli) table, reflected polynomial 0x82F63B78.
static CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// TFRecord's masked CRC-32C: rotated and offset so a CRC of CRC-bearing data stays strong.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one TFRecord holding `data` to `out`.
pub fn tfrecord(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
}

pub(crate) struct EventFiles {
    dir: PathBuf,
    file: Option<File>,
    path: PathBuf,
    written: u64,
    max_bytes: u64,
    files_opened: u32,
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // truncates, and the last byte stays 0.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let name = if rc == 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "localhost".into()
    } else {
        safe
    }
}

impl EventFiles {
    pub(crate) fn new(dir: &Path, max_bytes: u64) -> Self {
        EventFiles {
            dir: dir.to_path_buf(),
            file: None,
            path: PathBuf::new(),
            written: 0,
            max_bytes,
            files_opened: 0,
        }
    }

    /// The current file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// Opens a new file; `first_record` (the framed `file_version` event) opens it.
    pub(crate) fn open_next(&mut self, first_record: &[u8]) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(&self.dir)?;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // The counter keeps names unique and ordered within one second (TensorBoard reads a
        // run's files in name order).
        let name = format!(
            "events.out.tfevents.{secs:010}.{}.{}.{:04}",
            host_name(),
            std::process::id(),
            self.files_opened
        );
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o640)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)?;
        self.files_opened += 1;
        if let Some(mut old) = self.file.replace(file) {
            old.flush()?;
            old.sync_all()?;
        }
        self.path = path;
        self.written = 0;
        self.write(first_record)
    }

    /// Whether the current file is full.
    pub(crate) fn full(&self) -> bool {
        self.written >= self.max_bytes
    }

    /// Writes whole records; the caller rotates between batches.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("event file is not open"))?;
        file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub(crate) fn sync(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.sync_all(),
            None => Ok(()),
        }
    }

    pub(crate) fn close(&mut self) -> io::Result<()> {
        match self.file.take() {
            Some(f) => f.sync_all(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }
}
