//! Telemetron: an actor-based, multi-signal telemetry runtime for ML and RL jobs.
//!
//! Record spans, events and errors from any thread for the price of a copy and an enqueue; a
//! supervised actor system batches them and fans them out to every configured exporter.
//!
//! ```no_run
//! let runtime = telemetron::start(telemetron::ConfigLoader::new()).unwrap();
//! {
//!     let _epoch = runtime.span("epoch").unwrap();
//!     let _step = runtime.span("step").unwrap();
//! }
//! let report = runtime.close(std::time::Duration::from_secs(10)).unwrap();
//! assert_eq!(report.undelivered_records(), 0);
//! ```

pub use telemetron_config::{generate_run_name, ConfigError, ConfigLoader, LoadedConfig};
pub use telemetron_exporter_file::{reader, FileExporter, FileExporterConfig};
/// The Metrana ingestion exporter (`type: metrana`).
pub use telemetron_exporter_metrana as metrana;
/// The OpenTelemetry OTLP exporter (`type: otlp`).
pub use telemetron_exporter_otlp as otlp;
/// The TensorBoard exporter (`type: tensorboard`).
pub use telemetron_exporter_tensorboard as tensorboard;
pub use telemetron_plugins as plugins;
/// Recorder plugins: `span_stats`, `system_metrics`.
pub use telemetron_recorders as recorders;
pub use telemetron_recorders::{SpanStats, SpanStatsConfig};
pub use telemetron_runtime::*;

/// The Kafka exporter and relay (`type: kafka`, feature `kafka`).
#[cfg(feature = "kafka")]
pub use telemetron_exporter_kafka as kafka;

/// The H.264 rendering actor (feature `render`).
#[cfg(feature = "render")]
pub use telemetron_render as render;

/// Why [`start`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TelemetronError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The runtime could not start.
    #[error(transparent)]
    Start(#[from] StartError),
}

/// Loads the configuration from every source, builds the exporters and plugins it names, and
/// starts a runtime.
pub fn start(loader: ConfigLoader) -> Result<Runtime, TelemetronError> {
    let loaded = loader.load()?;
    start_loaded(&loaded)
}

/// Starts a runtime from an already loaded configuration.
pub fn start_loaded(loaded: &LoadedConfig) -> Result<Runtime, TelemetronError> {
    let mut config = loaded.runtime_config()?;
    // Spooled frames are the lossless record encoding.
    config.codec = Some(std::sync::Arc::new(telemetron_codec::SpoolCodec));
    tracing::debug!(target: "telemetron", "starting with:\n{}", loaded.describe());
    Ok(Runtime::start(config)?)
}
