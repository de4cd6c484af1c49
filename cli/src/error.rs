//! What a command reports: one line on stderr, exit code 2.

use std::io;

use telemetron::reader::ReadError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The export could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] telemetron::ConfigError),
    /// An output file could not be written.
    #[error("{path}: {error}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        error: io::Error,
    },
    /// The arguments ask for something the run does not have (e.g. an unknown metric).
    #[error("{0}")]
    Usage(String),
    /// The runtime used for `replay` failed.
    #[error("{0}")]
    Runtime(String),
    /// Stopped by Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// stdout was closed (`telemetron tail run.jsonl | head`): not an error.
    #[error("broken pipe")]
    BrokenPipe,
}

impl CliError {
    /// An error writing to stdout: a closed pipe ends the command quietly.
    pub(crate) fn stdout(error: io::Error) -> CliError {
        if error.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Write {
                path: "<stdout>".into(),
                error,
            }
        }
    }

    /// An error writing `path`.
    pub(crate) fn write(path: &std::path::Path, error: io::Error) -> CliError {
        CliError::Write {
            path: path.display().to_string(),
            error,
        }
    }
}
