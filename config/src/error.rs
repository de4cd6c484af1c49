//! Configuration errors: each names the file, key, variable or type at fault.

use std::path::PathBuf;

use telemetron_plugins::RegistryError;
use thiserror::Error;

/// Why a configuration could not be loaded or resolved.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// An explicitly named config file (argument or `TELEMETRON_CONFIG`) does not exist.
    #[error("config file {path} not found (named by {named_by})")]
    NotFound {
        /// The path.
        path: PathBuf,
        /// `the code` or `TELEMETRON_CONFIG`.
        named_by: &'static str,
    },
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's suffix is neither `.yaml`, `.yml` nor `.json`.
    #[error("config file {path} must end in .yaml, .yml or .json")]
    UnsupportedFormat {
        /// The path.
        path: PathBuf,
    },
    /// The file is not valid YAML/JSON.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The file's top level is not a mapping.
    #[error("{path}: the top level must be a mapping (settings, `exporters:`, `plugins:`)")]
    NotAMapping {
        /// The path.
        path: PathBuf,
    },
    /// `${VAR}` names a variable that is not set and has no `:-default`.
    #[error("{path}: environment variable {name} is not set (referenced as ${{{name}}})")]
    MissingEnvVar {
        /// The variable.
        name: String,
        /// The file that references it.
        path: PathBuf,
    },
    /// A top-level key is neither a setting nor `exporters`/`plugins`.
    #[error("unknown setting {key:?} from {source_name} (known: {})", known.join(", "))]
    UnknownSetting {
        /// The key.
        key: String,
        /// Where it came from.
        source_name: String,
        /// Every known key.
        known: Vec<&'static str>,
    },
    /// A setting has the wrong type or is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// An exporter or plugin entry is wrong.
    #[error("{list} entry #{position} (from {source_name}): {error}")]
    Component {
        /// `exporters` or `plugins`.
        list: &'static str,
        /// 1-based position in its list.
        position: usize,
        /// Where the list came from.
        source_name: String,
        /// What is wrong.
        error: RegistryError,
    },
    /// Two exporters have the same explicit `name:`.
    #[error("two exporters are named {0:?}; give each a unique `name:`")]
    DuplicateName(String),
}
