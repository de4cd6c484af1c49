//! Layered configuration. Sources, highest priority first:
//!
//! 1. **code** — [`ConfigLoader::exporters`], [`ConfigLoader::set`];
//! 2. **a YAML or JSON file** — an explicit path, else `TELEMETRON_CONFIG`, else the first of
//!    `telemetron.yaml`, `telemetron.yml`, `telemetron.json` in the working directory;
//! 3. **registries** — crates that register a [`telemetron_plugins::ConfigProviderRegistration`];
//! 4. **the embedded default** — one file exporter.
//!
//! The exporter list (and the plugin list) comes whole from the highest source that has one.
//! Scalar settings merge key by key, with `TELEMETRON_<SETTING>` environment variables on top.
//! `${VAR}` (and `${VAR:-default}`) expand in files. [`LoadedConfig::describe`] prints every
//! value with the source it came from, secrets redacted.
//!
//! ```
//! use telemetron_config::ConfigLoader;
//! let loaded = ConfigLoader::new()
//!     .exporters(vec![serde_json::json!({"type": "file", "path": "out/run.jsonl"})])
//!     .set("run_name", "doc-run")
//!     .without_discovery()
//!     .load()
//!     .unwrap();
//! assert_eq!(loaded.run.run_name, "doc-run");
//! assert_eq!(loaded.exporters[0].spec.type_name, "file");
//! ```

mod build;
mod describe;
mod error;
mod expand;
mod file;
mod layer;
mod loader;
mod locate;
mod orchestration;
mod run_name;
mod section;
mod strict;
mod suggest;

pub use error::ConfigError;
pub use loader::{ConfigLoader, LoadedConfig, SourcedSpec, CONFIG_ENV_VAR, DEFAULT_FILE_NAMES};
pub use orchestration::{resolve_logger_id, resolve_orchestration_id, ORCHESTRATION_ENV_VARS};
pub use run_name::generate_run_name;
pub use section::Section;
pub use suggest::{closest, OTHER_ENV_VARS};
