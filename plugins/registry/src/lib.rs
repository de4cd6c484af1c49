//! The plugin registry. Exporter crates, recorder-plugin crates and crates that ship default
//! configuration register here with `inventory::submit!`; the config layer looks them up by the
//! `type:` of a config entry.
//!
//! A crate that registers must be referenced by the final binary (`use telemetron_exporter_file
//! as _;`), or the linker drops it and its registrations with it.

mod cleartext;
mod options;
mod registration;
mod secrets;
mod spec;

pub use cleartext::{is_cleartext_remote, warn_if_cleartext_credentials};
pub use options::parse_options;
pub use registration::{
    exporter_types, find_exporter, find_plugin, plugin_types, BuildContext,
    ConfigProviderRegistration, ExporterRegistration, RecorderPluginRegistration,
};
pub use secrets::{
    declared_secret_options, redact_secrets, register_secret_values, SecretOptionsRegistration,
};
pub use spec::{ComponentSpec, RegistryError};

pub use inventory;
