//! The Metrana exporter (`type: metrana`): a wire-compatible client of Metrana's ingestion
//! service (`proto/metrana`); see this crate's README.

mod auth;
mod codec;
mod config;
mod exporter;
mod handshake;
mod mapping;
mod outgoing;
mod resume;
mod rl_wire;
mod sender;
mod transport;

pub use config::{Compression, MetranaConfig, ResumeStrategy};
pub use exporter::MetranaExporter;

use std::sync::Arc;

use telemetron_plugins::{parse_options, BuildContext, ExporterRegistration, RegistryError};

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    _ctx: &BuildContext<'_>,
) -> Result<telemetron_runtime::ExporterFactory, RegistryError> {
    let config: MetranaConfig = parse_options("exporter", "metrana", options)?;
    if config.api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        telemetron_plugins::warn_if_cleartext_credentials(
            "metrana",
            &config.endpoint,
            "the api_key",
        );
    }
    Ok(Arc::new(move || {
        Box::new(MetranaExporter::new(config.clone()))
    }))
}

telemetron_plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "metrana",
        description: "Metrana ingestion over gRPC (metric series, RL, histograms, attributes)",
        secret_keys: &["api_key"],
        build,
    }
}
