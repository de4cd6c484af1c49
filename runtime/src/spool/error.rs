//! Why the spool could not take or give back a frame.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A spool failure, naming the file or directory and the cause.
#[derive(Debug, Error)]
pub enum SpoolError {
    /// A file operation failed (disk full, read-only, permissions).
    #[error("spool {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The run's spool is at `spool_max_bytes`.
    #[error("spool full: {used} of spool_max_bytes {max} bytes used, a frame of {needed} bytes does not fit")]
    Full {
        /// Bytes used by this runtime's spools.
        used: u64,
        /// The cap.
        max: u64,
        /// The frame that did not fit.
        needed: u64,
    },
    /// Another process holds the writer directory.
    #[error("spool directory {0} is locked by another process")]
    Locked(PathBuf),
    /// A file is not what the spool wrote (or a newer format).
    #[error("spool {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No spool directory could be used.
    #[error("spool_dir {path}: {reason}")]
    Unavailable {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl SpoolError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SpoolError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        SpoolError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
