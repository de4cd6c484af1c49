//! Finding, reading and parsing the config file, strictly: duplicate keys, `.nan`, malformed
//! `${...}` and missing variables are errors that name `file:line`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::expand::{expand_value, mark_quoted_references, ExpandError};
use crate::locate::{
    first_line_containing, list_entry_line, repeated_key_line, top_level_key_line,
};
use crate::strict::StrictValue;
use crate::ConfigError;

/// Which file to read: the explicit one, else `TELEMETRON_CONFIG`, else the first default name
/// that exists in `dir`. A named file that does not exist, or any candidate that is a
/// directory, is an error.
pub(crate) fn discover(
    explicit: Option<&Path>,
    env_path: Option<String>,
    dir: &Path,
    default_names: &[&str],
) -> Result<Option<PathBuf>, ConfigError> {
    let named = explicit.map(|p| (p.to_path_buf(), "the code")).or_else(|| {
        env_path
            .filter(|p| !p.is_empty())
            .map(|p| (PathBuf::from(p), crate::CONFIG_ENV_VAR))
    });
    if let Some((path, named_by)) = named {
        return if path.is_dir() {
            Err(ConfigError::IsADirectory { path, named_by })
        } else if path.is_file() {
            Ok(Some(path))
        } else {
            Err(ConfigError::NotFound { path, named_by })
        };
    }
    for path in default_names.iter().map(|n| dir.join(n)) {
        if path.is_dir() {
            return Err(ConfigError::IsADirectory {
                path,
                named_by: "its default name",
            });
        }
        if path.is_file() {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// A parsed config file, with what is needed to name lines in later errors.
#[derive(Clone, Debug)]
pub(crate) struct ConfigFile {
    pub(crate) path: PathBuf,
    pub(crate) values: Map<String, Value>,
    text: String,
    json: bool,
}

impl ConfigFile {
    /// `path:line` of the top-level `key`, if it can be found.
    pub(crate) fn key_location(&self, key: &str) -> Option<String> {
        top_level_key_line(&self.text, self.json, key).map(|l| self.at(l))
    }

    /// `path:line` of entry `position` (1-based) of the top-level list `list`.
    pub(crate) fn entry_location(&self, list: &str, position: usize) -> Option<String> {
        list_entry_line(&self.text, self.json, list, position).map(|l| self.at(l))
    }

    fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }
}

/// Reads and parses `path` (YAML or JSON by suffix) and expands `${VAR}` in its strings.
pub(crate) fn read(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigFile, ConfigError> {
    let suffix = path
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = match suffix.as_str() {
        "yaml" | "yml" => false,
        "json" => true,
        _ => {
            return Err(ConfigError::UnsupportedFormat {
                path: path.to_path_buf(),
            })
        }
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |line: usize, column: usize, message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let mut value = if json {
        serde_json::from_str::<StrictValue>(&text)
            .map_err(|e| parse_error(e.line(), e.column(), e.to_string()))?
            .0
    } else {
        serde_yaml::from_str::<StrictValue>(&mark_quoted_references(&text))
            .map_err(|e| {
                let (mut line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                let message = without_location(e.to_string());
                // serde_yaml places a duplicate key at its mapping's start: find the repeat.
                if let Some(key) = duplicated_key(&message) {
                    line = repeated_key_line(&text, line, column, &key).unwrap_or(line);
                }
                parse_error(line, column, message)
            })?
            .0
    };
    if value.is_null() {
        value = Value::Object(Map::new());
    }
    expand_value(&mut value, lookup).map_err(|e| {
        let line = first_line_containing(&text, &e.needle()).unwrap_or(0);
        match e {
            ExpandError::Missing(name) => ConfigError::MissingEnvVar {
                name,
                path: path.to_path_buf(),
                line,
            },
            ExpandError::Malformed(reference) => ConfigError::MalformedReference {
                reference,
                path: path.to_path_buf(),
                line,
            },
        }
    })?;
    match value {
        Value::Object(values) => Ok(ConfigFile {
            path: path.to_path_buf(),
            values,
            text,
            json,
        }),
        _ => Err(ConfigError::NotAMapping {
            path: path.to_path_buf(),
        }),
    }
}

/// The key named by a strict parser's duplicate-key message.
fn duplicated_key(message: &str) -> Option<String> {
    let rest = &message[message.find("duplicate key \"")? + "duplicate key \"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// serde_yaml's message without its trailing `at line L column C` (the error shows it first).
fn without_location(message: String) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
        _ => message,
    }
}
