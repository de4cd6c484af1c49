//! Finding, reading and parsing the config file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::expand::expand_value;
use crate::ConfigError;

/// Which file to read: the explicit one, else `TELEMETRON_CONFIG`, else the first default name
/// that exists in `dir`. An explicit or env-named file that does not exist is an error.
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
        return if path.is_file() {
            Ok(Some(path))
        } else {
            Err(ConfigError::NotFound { path, named_by })
        };
    }
    Ok(default_names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file()))
}

/// Reads and parses `path` (YAML or JSON by suffix) and expands `${VAR}` in its strings.
pub(crate) fn read(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Map<String, Value>, ConfigError> {
    let suffix = path
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
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
    let mut value: Value = match suffix.as_str() {
        "yaml" | "yml" => serde_yaml::from_str(&text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            parse_error(line, column, e.to_string())
        })?,
        "json" => serde_json::from_str(&text)
            .map_err(|e| parse_error(e.line(), e.column(), e.to_string()))?,
        _ => {
            return Err(ConfigError::UnsupportedFormat {
                path: path.to_path_buf(),
            })
        }
    };
    if value.is_null() {
        return Ok(Map::new());
    }
    expand_value(&mut value, lookup).map_err(|name| ConfigError::MissingEnvVar {
        name,
        path: path.to_path_buf(),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ConfigError::NotAMapping {
            path: path.to_path_buf(),
        }),
    }
}
