//! Typed options of one component, from its config mapping.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use telemetron_runtime::redact::redact_text;

use crate::secrets::{declared_secret_options, register_secret_values};
use crate::RegistryError;

/// Deserializes a component's own options into its config type. Give the type
/// `#[serde(deny_unknown_fields)]` so a misspelt key is an error that names it. The error never
/// quotes a secret option's value.
pub fn parse_options<T: DeserializeOwned>(
    kind: &'static str,
    type_name: &str,
    options: &Map<String, Value>,
) -> Result<T, RegistryError> {
    serde_json::from_value(Value::Object(options.clone())).map_err(|e| {
        // serde quotes the offending value ("invalid type: integer `987654321`"): never a
        // secret's.
        register_secret_values(options, &declared_secret_options(type_name, options));
        RegistryError::InvalidOptions {
            kind,
            name: type_name.to_string(),
            reason: redact_text(&e.to_string()),
        }
    })
}
