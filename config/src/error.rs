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
    /// A config file (named, or found under a default name) is a directory.
    #[error("config file {path} is a directory, not a file (named by {named_by})")]
    IsADirectory {
        /// The path.
        path: PathBuf,
        /// `the code`, `TELEMETRON_CONFIG` or `its default name`.
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
    #[error("{path}:{line}: environment variable {name} is not set (referenced as ${{{name}}}; give a default with ${{{name}:-default}})")]
    MissingEnvVar {
        /// The variable.
        name: String,
        /// The file that references it.
        path: PathBuf,
        /// 1-based line of the first reference (0 when it cannot be found).
        line: usize,
    },
    /// A `${` without its closing `}`, or `${}`.
    #[error("{path}:{line}: malformed variable reference {reference:?}: write ${{NAME}} or ${{NAME:-default}} (and $${{ for a literal ${{)")]
    MalformedReference {
        /// The reference as written (at most 40 characters).
        reference: String,
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when it cannot be found).
        line: usize,
    },
    /// A top-level key is neither a setting nor `exporters`/`plugins`.
    #[error("{}unknown setting {key:?} from {source_name}{} (known: {})",
        location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default(),
        suggestion.map(|s| format!("; did you mean {s:?}?")).unwrap_or_default(),
        known.join(", "))]
    UnknownSetting {
        /// The key.
        key: String,
        /// Where it came from.
        source_name: String,
        /// `file:line` when it came from a file.
        location: Option<String>,
        /// The known key closest to it, when it looks like a typo.
        suggestion: Option<&'static str>,
        /// Every known key.
        known: Vec<&'static str>,
    },
    /// A setting has the wrong type or is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// An exporter or plugin entry is wrong.
    #[error("{}{list} entry #{position} (from {source_name}): {error}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    Component {
        /// `file:line` of the entry when it came from a file.
        location: Option<String>,
        /// `exporters` or `plugins`.
        list: &'static str,
        /// 1-based position in its list.
        position: usize,
        /// Where the list came from.
        source_name: String,
        /// What is wrong.
        error: Box<RegistryError>,
    },
    /// A section (`relay:`, asked for with `ConfigLoader::section`) is wrong.
    #[error("{}{message} (section `{section}` from {source_name})", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    InvalidSection {
        /// `file:line` of the section when it came from a file.
        location: Option<String>,
        /// The section's key.
        section: String,
        /// Where it came from.
        source_name: String,
        /// The field and what is wrong with it (secret values redacted).
        message: String,
    },
    /// Two exporters have the same explicit `name:`.
    #[error("two exporters are named {0:?}; give each a unique `name:`")]
    DuplicateName(String),
}
