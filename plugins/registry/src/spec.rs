//! One exporter or plugin entry of a configuration: `{type: file, path: out/run.jsonl}`.

use serde_json::{Map, Value};
use thiserror::Error;

/// Keys every exporter entry may carry besides its own options.
const COMMON_KEYS: &[&str] = &[
    "type",
    "name",
    "enabled",
    "queue_capacity",
    "batch_max_size",
    "batch_max_age_secs",
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
/// `Debug` redacts secret options (see [`redact_secrets`]).
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
    /// Everything else: the type's own options.
    pub options: Map<String, Value>,
}

/// Option names treated as secrets for every type, besides each type's own `secret_keys`.
const SECRET_HINTS: &[&str] = &[
    "key",
    "password",
    "secret",
    "token",
    "authorization",
    "headers",
    "credential",
];

/// A copy of `options` with every secret value replaced by `***`: keys listed in
/// `secret_keys`, and keys whose name contains key, password, secret, token, authorization,
/// headers or credential, at any depth.
pub fn redact_secrets(options: &Map<String, Value>, secret_keys: &[&str]) -> Map<String, Value> {
    options
        .iter()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let secret =
                secret_keys.contains(&k.as_str()) || SECRET_HINTS.iter().any(|h| lower.contains(h));
            (
                k.clone(),
                match v {
                    _ if secret => Value::String("***".into()),
                    // Nested maps (the kafka exporter's `producer: {sasl.password: ...}`).
                    Value::Object(inner) => Value::Object(redact_secrets(inner, secret_keys)),
                    _ => v.clone(),
                },
            )
        })
        .collect()
}

impl std::fmt::Debug for ComponentSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret_keys = crate::find_exporter(&self.type_name)
            .map(|r| r.secret_keys)
            .unwrap_or(&[]);
        f.debug_struct("ComponentSpec")
            .field("type_name", &self.type_name)
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .field("queue_capacity", &self.queue_capacity)
            .field("batch_max_size", &self.batch_max_size)
            .field("batch_max_age_secs", &self.batch_max_age_secs)
            .field("options", &redact_secrets(&self.options, secret_keys))
            .finish()
    }
}

impl ComponentSpec {
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
