//! One exporter or plugin entry of a configuration: `{type: file, path: out/run.jsonl}`.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::secrets::{declared_secret_options, redact_secrets, register_secret_values};

/// Keys every exporter entry may carry besides its own options.
const COMMON_KEYS: &[&str] = &[
    "type",
    "name",
    "enabled",
    "queue_capacity",
    "batch_max_size",
    "batch_max_age_secs",
    "spool",
];

/// Why a configuration entry could not be used.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RegistryError {
    /// No factory is registered under that `type:`.
    #[error("unknown {kind} type {name:?} (known: {})", known.join(", "))]
    UnknownType {
        /// `exporter` or `plugin`.
        kind: &'static str,
        /// The type asked for.
        name: String,
        /// Every registered type.
        known: Vec<&'static str>,
    },
    /// The entry is not a mapping with a string `type:`.
    #[error("{0}")]
    Malformed(String),
    /// The entry's options do not fit its type.
    #[error("invalid options for {kind} {name:?}: {reason}")]
    InvalidOptions {
        /// `exporter` or `plugin`.
        kind: &'static str,
        /// The entry's type.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// An exporter or plugin entry, split into its common keys and its type's own options.
/// `Debug` redacts secret options (see [`ComponentSpec::redacted_options`]).
#[derive(Clone, PartialEq)]
pub struct ComponentSpec {
    /// The `type:`.
    pub type_name: String,
    /// The `name:`, if given (exporter instances default to their type).
    pub name: Option<String>,
    /// `enabled: false` keeps the entry but runs nothing.
    pub enabled: bool,
    /// Per-exporter queue capacity override.
    pub queue_capacity: Option<usize>,
    /// Per-exporter batch size override.
    pub batch_max_size: Option<usize>,
    /// Per-exporter batch age override.
    pub batch_max_age_secs: Option<f64>,
    /// `spool: true | false`: a disk spool behind the exporter (default: on for network
    /// exporters).
    pub spool: Option<bool>,
    /// Everything else: the type's own options.
    pub options: Map<String, Value>,
}

impl std::fmt::Debug for ComponentSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentSpec")
            .field("type_name", &self.type_name)
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .field("queue_capacity", &self.queue_capacity)
            .field("batch_max_size", &self.batch_max_size)
            .field("batch_max_age_secs", &self.batch_max_age_secs)
            .field("spool", &self.spool)
            .field("options", &self.redacted_options())
            .finish()
    }
}

impl ComponentSpec {
    /// The entry's own options with every secret (declared by its type, or looking secret, or
    /// a URL's credentials) replaced by `***`: what descriptions and logs show.
    pub fn redacted_options(&self) -> Map<String, Value> {
        redact_secrets(&self.options, &self.secret_options())
    }

    /// Names of the options its type declares secret (see [`declared_secret_options`]).
    pub fn secret_options(&self) -> Vec<String> {
        declared_secret_options(&self.type_name, &self.options)
    }

    /// Registers its secret values with the runtime, so messages that quote one show `***`.
    pub fn register_secrets(&self) {
        register_secret_values(&self.options, &self.secret_options());
    }

    /// Parses one entry. `position` (0-based) names it in errors.
    pub fn from_value(value: &Value, position: usize) -> Result<Self, RegistryError> {
        let Value::Object(map) = value else {
            return Err(RegistryError::Malformed(format!(
                "entry #{} must be a mapping with a `type:` key, got {value}",
                position + 1
            )));
        };
        let type_name = match map.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            Some(other) => {
                return Err(RegistryError::Malformed(format!(
                    "entry #{}: `type` must be a non-empty string, got {other}",
                    position + 1
                )))
            }
            None => {
                return Err(RegistryError::Malformed(format!(
                    "entry #{} has no `type:` key: {value}",
                    position + 1
                )))
            }
        };
        let invalid = |key: &str, want: &str| RegistryError::InvalidOptions {
            kind: "exporter",
            name: type_name.clone(),
            reason: format!("`{key}` must be {want}"),
        };
        let name = match map.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return Err(invalid("name", "a non-empty string")),
        };
        let enabled = match map.get("enabled") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("enabled", "true or false")),
        };
        let positive = |key: &str| -> Result<Option<usize>, RegistryError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| *n > 0)
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| invalid(key, "a whole number >= 1")),
            }
        };
        let batch_max_age_secs = match map.get("batch_max_age_secs") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| invalid("batch_max_age_secs", "a number of seconds >= 0"))?,
            ),
        };
        let spool = match map.get("spool") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(invalid("spool", "true or false")),
        };
        let options = map
            .iter()
            .filter(|(k, _)| !COMMON_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let queue_capacity = positive("queue_capacity")?;
        let batch_max_size = positive("batch_max_size")?;
        Ok(ComponentSpec {
            type_name,
            name,
            enabled,
            queue_capacity,
            batch_max_size,
            batch_max_age_secs,
            spool,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_common_keys_from_options() {
        let spec = ComponentSpec::from_value(
            &json!({"type": "file", "name": "main", "batch_max_size": 10, "path": "x.jsonl"}),
            0,
        )
        .unwrap();
        assert_eq!(spec.type_name, "file");
        assert_eq!(spec.name.as_deref(), Some("main"));
        assert_eq!(spec.batch_max_size, Some(10));
        assert_eq!(spec.options.len(), 1);
        assert!(spec.enabled);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let spec = ComponentSpec::from_value(
            &json!({"type": "x", "api_key": "sk-123", "sasl_password": "pw", "headers": {"a": "t"}, "url": "u"}),
            0,
        )
        .unwrap();
        let shown = format!("{spec:?}");
        for secret in ["sk-123", "pw", "\"t\""] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("\"u\""), "non-secrets stay visible: {shown}");
    }

    #[test]
    fn explains_what_is_malformed() {
        let err = ComponentSpec::from_value(&json!({"path": "x"}), 2).unwrap_err();
        assert!(
            err.to_string().contains("entry #3 has no `type:` key"),
            "{err}"
        );
        let err = ComponentSpec::from_value(&json!({"type": "file", "batch_max_size": 0}), 0)
            .unwrap_err();
        assert!(err.to_string().contains("batch_max_size"), "{err}");
    }
}
