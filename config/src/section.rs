//! Sections: top-level mappings a program adds to the format (`relay:` for `telemetron relay`),
//! accepted only when that program's loader asks for them, and handed over whole instead of
//! being read as settings.

use figment::Figment;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use telemetron_plugins::{redact_secrets, register_secret_values};

use crate::layer::Layer;
use crate::{ConfigError, LoadedConfig};

/// A section's value and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Its top-level key.
    pub name: String,
    /// Its mapping, with `${VAR}` expanded.
    pub values: Map<String, Value>,
    /// The source it came from (`file relay.yaml`, `code`).
    pub source: String,
    /// `file:line` of its key when it came from a file.
    pub location: Option<String>,
}

impl Section {
    /// Its values with secrets (secret-looking names at any depth, URL credentials) as `***`.
    pub fn redacted(&self) -> Map<String, Value> {
        redact_secrets(&self.values, &[])
    }

    /// Makes later messages that quote one of its secret values show `***`.
    pub(crate) fn register_secrets(&self) {
        register_secret_values(&self.values, &[]);
    }

    fn error(&self, message: String) -> ConfigError {
        ConfigError::InvalidSection {
            location: self.location.clone(),
            section: self.name.clone(),
            source_name: self.source.clone(),
            message,
        }
    }
}

impl LoadedConfig {
    /// Section `name` deserialized into `T` (typically a `deny_unknown_fields` struct with
    /// defaults); `None` when no source has it. An error names the file and line of the
    /// section, the field and the problem, never a secret value.
    ///
    /// ```
    /// # use telemetron_config::ConfigLoader;
    /// #[derive(serde::Deserialize)]
    /// struct Relay { group: String }
    /// let loaded = ConfigLoader::new()
    ///     .section("relay")
    ///     .set("relay", serde_json::json!({"group": "g1"}))
    ///     .without_discovery()
    ///     .load()
    ///     .unwrap();
    /// assert_eq!(loaded.section::<Relay>("relay").unwrap().unwrap().group, "g1");
    /// ```
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ConfigError> {
        let Some(section) = self.sections.iter().find(|s| s.name == name) else {
            return Ok(None);
        };
        // One layer holding the section, so figment's errors carry the field's path.
        let mut wrapped = Map::new();
        wrapped.insert(name.to_string(), Value::Object(section.values.clone()));
        Figment::from(Layer::new(section.source.clone(), wrapped))
            .extract_inner::<T>(name)
            .map(Some)
            .map_err(|e| {
                // figment appends the key it extracted at to the field's path.
                let mut fields: &[String] = &e.path;
                if fields.last().is_some_and(|last| last == name) {
                    fields = &fields[..fields.len() - 1];
                }
                let mut at = vec![name];
                at.extend(fields.iter().map(String::as_str));
                section.error(telemetron_runtime::redact::redact_text(&format!(
                    "{}: {}",
                    at.join("."),
                    e.kind
                )))
            })
    }
}

/// Reads section `name` from the merged sources: a mapping, or an error naming its line.
pub(crate) fn read_section(
    figment: &Figment,
    name: &str,
    source: String,
    location: Option<String>,
) -> Result<Option<Section>, ConfigError> {
    let Ok(value) = figment.find_value(name) else {
        return Ok(None);
    };
    let section = |values| Section {
        name: name.to_string(),
        values,
        source: source.clone(),
        location: location.clone(),
    };
    match value.deserialize::<Value>() {
        Ok(Value::Object(values)) => Ok(Some(section(values))),
        Ok(Value::Null) => Ok(Some(section(Map::new()))),
        _ => Err(section(Map::new()).error(format!("`{name}` must be a mapping"))),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::ConfigLoader;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Relay {
        group: String,
        #[serde(default)]
        commit_interval_secs: f64,
        #[serde(default)]
        consumer: serde_json::Map<String, serde_json::Value>,
    }

    /// `text` in a file of this test's own directory.
    fn file(test: &str, name: &str, text: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("telemetron-section-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const FILE: &str = "run_name: r\nrelay:\n  group: g1\n  commit_interval_secs: 2\n  consumer: {sasl.username: u, sasl.password: hunter2-section}\nexporters: [{type: file}]\n";

    #[test]
    fn a_section_is_refused_unless_asked_for_then_handed_over_with_secrets_hidden() {
        let path = file("handed", "relay.yaml", FILE);
        let refused = ConfigLoader::new().config_file(&path).load().unwrap_err();
        let at = format!("{}:2: unknown setting \"relay\"", path.display());
        assert!(refused.to_string().starts_with(&at), "{refused}");
        let loaded = ConfigLoader::new()
            .config_file(&path)
            .section("relay")
            .load()
            .unwrap();
        let relay: Relay = loaded.section("relay").unwrap().unwrap();
        assert_eq!(
            (relay.group.as_str(), relay.commit_interval_secs),
            ("g1", 2.0)
        );
        assert_eq!(relay.consumer["sasl.password"], "hunter2-section");
        let shown = loaded.describe();
        assert!(
            shown.contains(&format!("relay:  (file {})", path.display())),
            "{shown}"
        );
        assert!(
            shown.contains("sasl.username") && !shown.contains("hunter2"),
            "{shown}"
        );
        // Registered: any message quoting it is redacted.
        let text = telemetron_runtime::redact::redact_text("auth failed for hunter2-section");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(loaded.section::<Relay>("other").unwrap().is_none());
    }

    #[test]
    fn a_wrong_section_names_its_line_and_field() {
        let path = file("wrong", "bad.yaml", "relay:\n  group: [1]\n");
        let loaded = ConfigLoader::new()
            .config_file(&path)
            .section("relay")
            .load()
            .unwrap();
        let err = loaded.section::<Relay>("relay").unwrap_err().to_string();
        let at = format!("{}:1: relay.group: invalid type", path.display());
        assert!(err.starts_with(&at), "{err}");
        assert!(err.contains("(section `relay` from file "), "{err}");
        let path = file("wrong", "scalar.yaml", "relay: 3\n");
        let err = ConfigLoader::new()
            .config_file(&path)
            .section("relay")
            .load()
            .unwrap_err()
            .to_string();
        let at = format!("{}:1: `relay` must be a mapping", path.display());
        assert!(err.starts_with(&at), "{err}");
    }
}
