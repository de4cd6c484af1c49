//! Merging the sources into one configuration.

use std::path::PathBuf;

use figment::providers::Env;
use figment::{Figment, Profile, Provider as _};
use serde_json::{json, Map, Value};
use telemetron_plugins::{ComponentSpec, ConfigProviderRegistration};
use telemetron_runtime::{RunIdentity, RuntimeSettings};

use crate::file;
use crate::layer::Layer;
use crate::run_name::generate_run_name;
use crate::ConfigError;

/// The environment variable naming the config file.
pub const CONFIG_ENV_VAR: &str = "TELEMETRON_CONFIG";
/// Files looked for in the working directory, in order, when no file is named.
pub const DEFAULT_FILE_NAMES: &[&str] = &["telemetron.yaml", "telemetron.yml", "telemetron.json"];

const LISTS: [&str; 2] = ["exporters", "plugins"];

/// Collects the sources and merges them. See the crate docs for the priority order.
#[derive(Clone, Debug)]
pub struct ConfigLoader {
    code: Map<String, Value>,
    file: Option<PathBuf>,
    discovery: bool,
    registry_layers: Vec<(String, Map<String, Value>)>,
    dir: Option<PathBuf>,
}

impl Default for ConfigLoader {
    fn default() -> Self {
        ConfigLoader {
            code: Map::new(),
            file: None,
            discovery: true,
            registry_layers: Vec::new(),
            dir: None,
        }
    }
}

/// An exporter or plugin entry and the source its list came from.
#[derive(Clone, Debug, PartialEq)]
pub struct SourcedSpec {
    /// The entry.
    pub spec: ComponentSpec,
    /// The source of its list (`code`, `file telemetron.yaml`, `registry ...`, `default`).
    pub source: String,
    /// 1-based position in its list.
    pub position: usize,
}

/// The merged configuration, before exporters are built.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// Scalar settings.
    pub settings: RuntimeSettings,
    /// The run identity (run name generated when none was given).
    pub run: RunIdentity,
    /// Exporter entries, in order (disabled ones included).
    pub exporters: Vec<SourcedSpec>,
    /// Plugin entries, in order.
    pub plugins: Vec<SourcedSpec>,
    /// Every setting as `(key, value as JSON, source)`.
    pub provenance: Vec<(String, String, String)>,
}

impl ConfigLoader {
    /// A loader with no code-level values, discovering the file and registries.
    pub fn new() -> Self {
        Self::default()
    }

    /// The exporter list from code: it replaces every lower source's list.
    pub fn exporters(mut self, exporters: Vec<Value>) -> Self {
        self.code
            .insert("exporters".into(), Value::Array(exporters));
        self
    }

    /// The plugin list from code.
    pub fn plugins(mut self, plugins: Vec<Value>) -> Self {
        self.code.insert("plugins".into(), Value::Array(plugins));
        self
    }

    /// A setting from code (`run_name`, `queue_capacity`, ...).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.code.insert(key.to_string(), value.into());
        self
    }

    /// Reads this file (it must exist) instead of discovering one.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Looks for default file names in `dir` instead of the working directory.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Ignores `TELEMETRON_CONFIG` and default file names (an explicit file is still read).
    pub fn without_discovery(mut self) -> Self {
        self.discovery = false;
        self
    }

    /// Adds a registry-level source (e.g. a Python entry point), below the file.
    pub fn registry_layer(mut self, name: impl Into<String>, values: Map<String, Value>) -> Self {
        self.registry_layers.push((name.into(), values));
        self
    }

    /// Merges every source.
    pub fn load(self) -> Result<LoadedConfig, ConfigError> {
        let lookup = |name: &str| std::env::var(name).ok();
        let mut figment = Figment::from(Layer::new("default", default_layer()));

        let mut registries = Figment::new();
        for registration in telemetron_plugins::inventory::iter::<ConfigProviderRegistration> {
            match (registration.provide)() {
                Value::Object(map) => {
                    registries = registries
                        .admerge(Layer::new(format!("registry {}", registration.name), map))
                }
                other => {
                    tracing::warn!(target: "telemetron", "config registry {} gave {other}, not a mapping; ignored", registration.name)
                }
            }
        }
        for (name, values) in self.registry_layers {
            registries = registries.admerge(Layer::new(format!("registry {name}"), values));
        }
        figment = figment.merge(registries);

        let dir = self.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let env_path = if self.discovery {
            std::env::var(CONFIG_ENV_VAR).ok()
        } else {
            None
        };
        let names: &[&str] = if self.discovery {
            DEFAULT_FILE_NAMES
        } else {
            &[]
        };
        if let Some(path) = file::discover(self.file.as_deref(), env_path, &dir, names)? {
            let values = file::read(&path, &lookup)?;
            figment = figment.merge(Layer::new(format!("file {}", path.display()), values));
        }
        if !self.code.is_empty() {
            figment = figment.merge(Layer::new("code", self.code));
        }
        // TELEMETRON_ORCHESTRATION_ID is not a setting override: an explicit orchestration_id
        // wins over it (it is the first fallback, and what children inherit).
        let env_keys: Vec<&str> = RuntimeSettings::KEYS
            .iter()
            .copied()
            .filter(|k| *k != "orchestration_id")
            .collect();
        figment = figment.merge(Env::prefixed("TELEMETRON_").only(&env_keys));

        check_keys(&figment)?;
        let settings: RuntimeSettings = figment
            .extract()
            .map_err(|e| ConfigError::InvalidSetting(describe_figment_error(&figment, e)))?;
        settings.validate().map_err(ConfigError::InvalidSetting)?;
        let orchestration_id = crate::orchestration::resolve_orchestration_id(
            settings.orchestration_id.as_deref(),
            &lookup,
        );
        // Not written back into this process's environment here: setenv races with getenv
        // on other threads. Launchers pass `run().orchestration_id` to their children as
        // TELEMETRON_ORCHESTRATION_ID; the Python package does it through os.environ.
        let logger_id = crate::orchestration::resolve_logger_id(settings.logger_id);
        let run = settings.run_identity(&generate_run_name(), orchestration_id, logger_id);
        let exporters = components(&figment, "exporters")?;
        let plugins = components(&figment, "plugins")?;
        // From here on, any message that quotes a secret value shows `***`.
        for entry in exporters.iter().chain(&plugins) {
            entry.spec.register_secrets();
        }
        let provenance = RuntimeSettings::KEYS
            .iter()
            .filter_map(|key| {
                let value = figment.find_value(key).ok()?;
                let json = serde_json::to_string(&value).unwrap_or_default();
                Some((key.to_string(), json, source_of(&figment, key)))
            })
            .collect();
        Ok(LoadedConfig {
            settings,
            run,
            exporters,
            plugins,
            provenance,
        })
    }
}

/// The embedded default: every setting's default and one file exporter.
fn default_layer() -> Map<String, Value> {
    let mut map = match serde_json::to_value(RuntimeSettings::default()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    map.retain(|_, v| !v.is_null());
    map.insert("exporters".into(), json!([{"type": "file"}]));
    map.insert("plugins".into(), json!([]));
    map
}

fn source_of(figment: &Figment, key: &str) -> String {
    figment
        .find_metadata(key)
        .map_or_else(|| "unknown".to_string(), |m| m.name.to_string())
}

fn check_keys(figment: &Figment) -> Result<(), ConfigError> {
    let data = figment
        .data()
        .map_err(|e| ConfigError::InvalidSetting(e.to_string()))?;
    let Some(dict) = data.get(&Profile::Default) else {
        return Ok(());
    };
    for key in dict.keys() {
        if !RuntimeSettings::KEYS.contains(&key.as_str()) && !LISTS.contains(&key.as_str()) {
            let mut known: Vec<&'static str> = RuntimeSettings::KEYS.to_vec();
            known.extend(LISTS);
            return Err(ConfigError::UnknownSetting {
                key: key.clone(),
                source_name: source_of(figment, key),
                known,
            });
        }
    }
    Ok(())
}

fn describe_figment_error(figment: &Figment, error: figment::Error) -> String {
    let key = error.path.join(".");
    let source = if key.is_empty() {
        String::new()
    } else {
        format!(" (from {})", source_of(figment, &key))
    };
    format!(
        "{}: {}{source}",
        if key.is_empty() { "settings" } else { &key },
        error.kind
    )
}

fn components(figment: &Figment, list: &'static str) -> Result<Vec<SourcedSpec>, ConfigError> {
    let source = source_of(figment, list);
    let values: Vec<Value> = figment.extract_inner(list).map_err(|e| {
        ConfigError::InvalidSetting(format!(
            "`{list}` (from {source}) must be a list of mappings: {}",
            e.kind
        ))
    })?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            ComponentSpec::from_value(v, i)
                .map(|spec| SourcedSpec {
                    spec,
                    source: source.clone(),
                    position: i + 1,
                })
                .map_err(|error| ConfigError::Component {
                    list,
                    position: i + 1,
                    source_name: source.clone(),
                    error,
                })
        })
        .collect()
}
