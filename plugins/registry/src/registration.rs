//! What crates register, and lookups by type name.

use serde_json::{Map, Value};
use telemetron_runtime::{ExporterFactory, PluginFactory, RunIdentity, RuntimeSettings};

use crate::RegistryError;

/// What a factory may use while building: the run and the runtime-wide settings.
#[derive(Clone, Copy, Debug)]
pub struct BuildContext<'a> {
    /// The run identity (run name always set).
    pub run: &'a RunIdentity,
    /// Runtime-wide settings.
    pub settings: &'a RuntimeSettings,
}

/// An exporter type. Register with
/// `inventory::submit! { ExporterRegistration { type_name: "file", .. } }`.
pub struct ExporterRegistration {
    /// The `type:` it answers to.
    pub type_name: &'static str,
    /// One line for listings.
    pub description: &'static str,
    /// Option keys whose values are secrets: redacted in config descriptions and logs, and
    /// scrubbed from every message once the config is built. Names that look secret (`key`,
    /// `password`, `token`, `dsn`, ...) need not be listed; options that depend on the entry
    /// are declared with a `SecretOptionsRegistration`.
    pub secret_keys: &'static [&'static str],
    /// Validates the options and returns a factory. I/O belongs in the exporter's
    /// `initialize`, not here, so an unreachable backend is an exporter failure, not a start
    /// failure.
    pub build: fn(&Map<String, Value>, &BuildContext<'_>) -> Result<ExporterFactory, RegistryError>,
}

/// A recorder plugin type.
pub struct RecorderPluginRegistration {
    /// The `type:` it answers to.
    pub type_name: &'static str,
    /// One line for listings.
    pub description: &'static str,
    /// Validates the options and returns a factory.
    pub build: fn(&Map<String, Value>, &BuildContext<'_>) -> Result<PluginFactory, RegistryError>,
}

/// A crate's contribution to the lowest config layer: a mapping with `exporters:` and/or
/// settings, used when neither code nor a file gives them.
pub struct ConfigProviderRegistration {
    /// Names the source in the effective-config description.
    pub name: &'static str,
    /// The configuration it provides.
    pub provide: fn() -> Value,
}

inventory::collect!(ExporterRegistration);
inventory::collect!(RecorderPluginRegistration);
inventory::collect!(ConfigProviderRegistration);

/// Every registered exporter type, sorted.
pub fn exporter_types() -> Vec<&'static str> {
    sorted_unique(
        inventory::iter::<ExporterRegistration>
            .into_iter()
            .map(|r| r.type_name),
    )
}

/// Every registered plugin type, sorted.
pub fn plugin_types() -> Vec<&'static str> {
    sorted_unique(
        inventory::iter::<RecorderPluginRegistration>
            .into_iter()
            .map(|r| r.type_name),
    )
}

fn sorted_unique(names: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
    let mut names: Vec<_> = names.collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The exporter registered under `type_name`, or an error listing the known ones.
pub fn find_exporter(type_name: &str) -> Result<&'static ExporterRegistration, RegistryError> {
    inventory::iter::<ExporterRegistration>
        .into_iter()
        .find(|r| r.type_name == type_name)
        .ok_or_else(|| RegistryError::UnknownType {
            kind: "exporter",
            name: type_name.to_string(),
            known: exporter_types(),
        })
}

/// The plugin registered under `type_name`, or an error listing the known ones.
pub fn find_plugin(type_name: &str) -> Result<&'static RecorderPluginRegistration, RegistryError> {
    inventory::iter::<RecorderPluginRegistration>
        .into_iter()
        .find(|r| r.type_name == type_name)
        .ok_or_else(|| RegistryError::UnknownType {
            kind: "plugin",
            name: type_name.to_string(),
            known: plugin_types(),
        })
}
