//! Merging the sources into one configuration.

use std::path::{Path, PathBuf};

use figment::providers::Env;
use figment::{Figment, Profile, Provider as _};
use serde_json::{json, Map, Value};
use telemetron_plugins::{ComponentSpec, ConfigProviderRegistration};
use telemetron_runtime::{RunIdentity, RuntimeSettings};

use crate::file::{self, ConfigFile};
use crate::layer::Layer;
use crate::run_name::generate_run_name;
use crate::section::{read_section, Section};
use crate::suggest::{closest, unknown_env_vars};
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
    sections: Vec<&'static str>,
}

impl Default for ConfigLoader {
    fn default() -> Self {
        ConfigLoader {
            code: Map::new(),
            file: None,
            discovery: true,
            registry_layers: Vec::new(),
            dir: None,
            sections: Vec::new(),
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
    /// `file:line` of the entry when its list came from a file.
    pub location: Option<String>,
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
    /// Things accepted but probably wrong (a `TELEMETRON_*` variable that is not a setting,
    /// with the closest known name), also logged as warnings. Bindings show them to the user.
    pub warnings: Vec<String>,
    /// The sections asked for with [`ConfigLoader::section`] that a source has, in the order
    /// they were asked for (read them typed with [`LoadedConfig::section`]).
    pub sections: Vec<Section>,
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

    /// Accepts the top-level mapping `name` besides the settings, `exporters` and `plugins`
    /// (e.g. `relay` for `telemetron relay`): it is handed over in [`LoadedConfig::sections`]
    /// (`${VAR}` expanded, secret-looking values registered for redaction) instead of being
    /// refused as an unknown setting. Other programs' loaders still refuse it.
    pub fn section(mut self, name: &'static str) -> Self {
        if !self.sections.contains(&name) {
            self.sections.push(name);
        }
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
        let config_file = match file::discover(self.file.as_deref(), env_path, &dir, names)? {
            Some(path) => Some(file::read(&path, &lookup)?),
            None => None,
        };
        if let Some(file) = &config_file {
            figment = figment.merge(Layer::new(
                file_source_name(&file.path),
                file.values.clone(),
            ));
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
        let sources = Sources {
            figment: &figment,
            file: config_file.as_ref(),
            sections: &self.sections,
        };

        sources.check_keys()?;
        let settings: RuntimeSettings = figment
            .extract()
            .map_err(|e| ConfigError::InvalidSetting(sources.describe_error(e)))?;
        settings
            .validate()
            .map_err(|message| ConfigError::InvalidSetting(sources.locate_message(message)))?;
        let orchestration_id = crate::orchestration::resolve_orchestration_id(
            settings.orchestration_id.as_deref(),
            &lookup,
        );
        // Not written back into this process's environment here: setenv races with getenv
        // on other threads. Launchers pass `run().orchestration_id` to their children as
        // TELEMETRON_ORCHESTRATION_ID; the Python package does it through os.environ.
        let logger_id = crate::orchestration::resolve_logger_id(settings.logger_id);
        let run = settings.run_identity(&generate_run_name(), orchestration_id, logger_id);
        let exporters = sources.components("exporters")?;
        let plugins = sources.components("plugins")?;
        // From here on, any message that quotes a secret value shows `***`.
        for entry in exporters.iter().chain(&plugins) {
            entry.spec.register_secrets();
        }
        let mut sections = Vec::new();
        for name in &self.sections {
            let found = read_section(
                &figment,
                name,
                sources.source_of(name),
                sources.key_location(name),
            )?;
            if let Some(section) = found {
                section.register_secrets();
                sections.push(section);
            }
        }
        let provenance = RuntimeSettings::KEYS
            .iter()
            .filter_map(|key| {
                let value = figment.find_value(key).ok()?;
                let json = serde_json::to_string(&value).unwrap_or_default();
                Some((key.to_string(), json, sources.source_of(key)))
            })
            .collect();
        let env_names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        let warnings = unknown_env_vars(env_names.iter().map(String::as_str));
        for warning in &warnings {
            tracing::warn!(target: "telemetron", "{warning}");
        }
        Ok(LoadedConfig {
            settings,
            run,
            exporters,
            plugins,
            provenance,
            warnings,
            sections,
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

fn file_source_name(path: &Path) -> String {
    format!("file {}", path.display())
}

/// The merged sources, and the file (when there is one) to name lines in errors.
struct Sources<'a> {
    figment: &'a Figment,
    file: Option<&'a ConfigFile>,
    sections: &'a [&'static str],
}

impl Sources<'_> {
    fn source_of(&self, key: &str) -> String {
        self.figment
            .find_metadata(key)
            .map_or_else(|| "unknown".to_string(), |m| m.name.to_string())
    }

    /// The file this key's value came from, if it came from the file.
    fn file_of(&self, key: &str) -> Option<&ConfigFile> {
        self.file
            .filter(|f| self.source_of(key) == file_source_name(&f.path))
    }

    /// `file:line` of a top-level key whose value came from the file.
    fn key_location(&self, key: &str) -> Option<String> {
        self.file_of(key)?.key_location(key)
    }

    /// `message` (which starts with a setting's name) after the `file:line` of that setting
    /// when it came from the file.
    fn locate_message(&self, message: String) -> String {
        let key = message.split([' ', ':']).next().unwrap_or_default();
        match self.key_location(key) {
            Some(at) => format!("{at}: {message}"),
            None => message,
        }
    }

    fn check_keys(&self) -> Result<(), ConfigError> {
        let data = self
            .figment
            .data()
            .map_err(|e| ConfigError::InvalidSetting(e.to_string()))?;
        let Some(dict) = data.get(&Profile::Default) else {
            return Ok(());
        };
        let mut known: Vec<&'static str> = RuntimeSettings::KEYS.to_vec();
        known.extend(LISTS);
        known.extend(self.sections);
        for key in dict.keys() {
            if !known.contains(&key.as_str()) {
                return Err(ConfigError::UnknownSetting {
                    key: key.clone(),
                    source_name: self.source_of(key),
                    location: self.key_location(key),
                    suggestion: closest(key, known.iter().copied()),
                    known,
                });
            }
        }
        Ok(())
    }

    fn describe_error(&self, error: figment::Error) -> String {
        let key = error.path.join(".");
        if key.is_empty() {
            return format!("settings: {}", error.kind);
        }
        let top = error.path.first().map(String::as_str).unwrap_or_default();
        match self.key_location(top) {
            Some(at) => format!("{at}: {key}: {}", error.kind),
            None => format!("{key}: {} (from {})", error.kind, self.source_of(top)),
        }
    }

    fn components(&self, list: &'static str) -> Result<Vec<SourcedSpec>, ConfigError> {
        let source = self.source_of(list);
        let file = self.file_of(list);
        let values: Vec<Value> = self.figment.extract_inner(list).map_err(|e| {
            let at = file
                .and_then(|f| f.key_location(list))
                .map(|l| format!("{l}: "))
                .unwrap_or_default();
            ConfigError::InvalidSetting(format!(
                "{at}`{list}` (from {source}) must be a list of mappings: {}",
                e.kind
            ))
        })?;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let location = file.and_then(|f| f.entry_location(list, i + 1));
                ComponentSpec::from_value(v, i)
                    .map(|spec| SourcedSpec {
                        spec,
                        source: source.clone(),
                        position: i + 1,
                        location: location.clone(),
                    })
                    .map_err(|error| ConfigError::Component {
                        location,
                        list,
                        position: i + 1,
                        source_name: source.clone(),
                        error: Box::new(error),
                    })
            })
            .collect()
    }
}
