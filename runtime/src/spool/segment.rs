//! Segment files of a writer's log: `seg-<first frame index>.tsp`, a 16-byte header (format
//! version, compression) followed by frames. A writer appends to its newest segment and starts
//! a new one past `spool_segment_bytes`.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SpoolError;

/// `TSPOOL`, the format version, the compression, reserved bytes.
const HEADER_MAGIC: &[u8; 6] = b"TSPOOL";
pub(crate) const FORMAT_VERSION: u8 = 1;
pub(crate) const HEADER_LEN: u64 = 16;

/// How the frames' payloads of a segment are compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoolCompression {
    /// As encoded.
    None,
    /// zstd (level 3), each frame's payload on its own, so a bad frame costs only itself.
    #[default]
    Zstd,
}

impl SpoolCompression {
    fn code(self) -> u8 {
        match self {
            SpoolCompression::None => 0,
            SpoolCompression::Zstd => 1,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(SpoolCompression::None),
            1 => Some(SpoolCompression::Zstd),
            _ => None,
        }
    }
}

/// The file name of the segment whose first frame is `first_index`.
pub(crate) fn segment_name(first_index: u64) -> String {
    format!("seg-{first_index:020}.tsp")
}

/// The first frame index of a segment file name, if it is one.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    name.strip_prefix("seg-")?
        .strip_suffix(".tsp")?
        .parse()
        .ok()
}

/// The segments in `dir`, oldest first: (first frame index, path).
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, SpoolError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| SpoolError::io(dir, e))? {
        let entry = entry.map_err(|e| SpoolError::io(dir, e))?;
        if let Some(first) = entry.file_name().to_str().and_then(parse_segment_name) {
            found.push((first, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Writes a segment header.
fn write_header(file: &mut File, compression: SpoolCompression) -> io::Result<()> {
    let mut header = [0u8; HEADER_LEN as usize];
    header[..6].copy_from_slice(HEADER_MAGIC);
    header[6] = FORMAT_VERSION;
    header[7] = compression.code();
    file.write_all(&header)
}

/// Reads a segment: its compression and the bytes after the header, from `offset` (a position
/// in the file, at least [`HEADER_LEN`]) to the end.
pub(crate) fn read_segment(
    path: &Path,
    offset: u64,
) -> Result<(SpoolCompression, Vec<u8>), SpoolError> {
    let mut file = File::open(path).map_err(|e| SpoolError::io(path, e))?;
    let mut header = [0u8; HEADER_LEN as usize];
    file.read_exact(&mut header)
        .map_err(|e| SpoolError::corrupt(path, format!("no segment header: {e}")))?;
    if &header[..6] != HEADER_MAGIC {
        return Err(SpoolError::corrupt(path, "not a spool segment (bad magic)"));
    }
    if header[6] > FORMAT_VERSION {
        return Err(SpoolError::corrupt(
            path,
            format!(
                "segment format {} is newer than this reader's {FORMAT_VERSION}: upgrade telemetron",
                header[6]
            ),
        ));
    }
    let compression = SpoolCompression::from_code(header[7]).ok_or_else(|| {
        SpoolError::corrupt(path, format!("unknown compression code {}", header[7]))
    })?;
    file.seek(SeekFrom::Start(offset.max(HEADER_LEN)))
        .map_err(|e| SpoolError::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| SpoolError::io(path, e))?;
    Ok((compression, bytes))
}

/// The segment a writer appends to.
pub(crate) struct SegmentWriter {
    pub file: File,
    pub path: PathBuf,
    /// Its size in bytes (header included).
    pub len: u64,
    pub first_index: u64,
}

impl SegmentWriter {
    /// Creates `dir/seg-<first_index>.tsp` (it must not exist) and writes its header.
    pub(crate) fn create(
        dir: &Path,
        first_index: u64,
        compression: SpoolCompression,
    ) -> Result<Self, SpoolError> {
        let path = dir.join(segment_name(first_index));
        let mut file =
            crate::files::create_new_private_file(&path).map_err(|e| SpoolError::io(&path, e))?;
        write_header(&mut file, compression).map_err(|e| SpoolError::io(&path, e))?;
        Ok(SegmentWriter {
            file,
            path,
            len: HEADER_LEN,
            first_index,
        })
    }

    /// Appends `bytes` (whole frames) with one write; on failure the segment is cut back to
    /// where it was, so it never ends in half a frame this process wrote.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), SpoolError> {
        if let Err(e) = self.file.write_all(bytes) {
            let _ = self.file.set_len(self.len);
            return Err(SpoolError::io(&self.path, e));
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Makes the appended frames durable (`fdatasync`).
    pub(crate) fn sync(&self) -> Result<(), SpoolError> {
        self.file
            .sync_data()
            .map_err(|e| SpoolError::io(&self.path, e))
    }
}
