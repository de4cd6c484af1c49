//! Typed options of one component, from its config mapping.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::RegistryError;

/// Deserializes a component's own options into its config type. Give the type
/// `#[serde(deny_unknown_fields)]` so a misspelt key is an error that names it.
pub fn parse_options<T: DeserializeOwned>(
    kind: &'static str,
    type_name: &str,
    options: &Map<String, Value>,
) -> Result<T, RegistryError> {
    serde_json::from_value(Value::Object(options.clone())).map_err(|e| {
        RegistryError::InvalidOptions {
            kind,
            name: type_name.to_string(),
            reason: e.to_string(),
        }
    })
}
