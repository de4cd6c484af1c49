//! The file exporter: JSON Lines, one record a line, schema-versioned, rotated by size.
//! The embedded default (`{type: file}`); its format is documented in this crate's README,
//! and [`reader`] reads it back into records.

mod config;
mod encoder;
mod exporter;
pub mod reader;
mod service;

pub use config::FileExporterConfig;
pub use encoder::{encode_record, SCHEMA_VERSION};
pub use exporter::FileExporter;

use std::sync::Arc;

use telemetron_plugins::{parse_options, BuildContext, ExporterRegistration, RegistryError};

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    ctx: &BuildContext<'_>,
) -> Result<telemetron_runtime::ExporterFactory, RegistryError> {
    let config: FileExporterConfig = parse_options("exporter", "file", options)?;
    let path = config.resolved_path(&ctx.run.run_name);
    // Shared by every instance the factory builds: a rebuilt exporter appends to the file its
    // predecessor chose.
    let chosen = Arc::default();
    Ok(Arc::new(move || {
        Box::new(FileExporter::sharing(
            config.clone(),
            path.clone(),
            Arc::clone(&chosen),
        ))
    }))
}

telemetron_plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "file",
        description: "JSON Lines file, rotated by size (the default)",
        secret_keys: &[],
        build,
    }
}
