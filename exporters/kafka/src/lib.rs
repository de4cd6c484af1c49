//! The Kafka exporter (`type: kafka`): OTLP protobuf or JSON messages a stock OpenTelemetry
//! Collector's `kafkareceiver` consumes, or Telemetron's lossless encoding for the relay;
//! librdkafka (rdkafka, built from source) with an idempotent, zstd-compressing producer whose
//! delivery reports count records as sent or failed. See this crate's README.

mod config;
mod encoder;
mod exporter;
mod relay;
mod service;

pub use config::{is_secret_property, Encoding, KafkaConfig, KafkaConfigError, KeyMode, Topics};
pub use exporter::{KafkaExporter, KafkaSettings};
pub use relay::{
    run_relay, RelayError, RelayOptions, RelayOptionsError, RelayReport, RuntimeFactory,
};

use std::sync::Arc;

use telemetron_plugins::{parse_options, BuildContext, ExporterRegistration, RegistryError};

/// Resolves a config (validation, librdkafka properties, the OTLP resource as the `otlp`
/// exporter resolves it, from `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`).
pub fn resolve(config: KafkaConfig, project: Option<&str>) -> Result<KafkaSettings, String> {
    config.validate().map_err(|e| e.to_string())?;
    let otlp = telemetron_exporter_otlp::OtlpConfig {
        service_name: config.service_name.clone(),
        resource_attributes: config.resource_attributes.clone(),
        ..Default::default()
    };
    let env = |name: &str| std::env::var(name).ok();
    let resource = otlp.resource(project, &env).map_err(|e| e.to_string())?;
    Ok(KafkaSettings {
        properties: config.producer_properties(),
        config,
        resource,
    })
}

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    ctx: &BuildContext<'_>,
) -> Result<telemetron_runtime::ExporterFactory, RegistryError> {
    let invalid = |reason: String| RegistryError::InvalidOptions {
        kind: "exporter",
        name: "kafka".into(),
        reason,
    };
    let config: KafkaConfig = parse_options("exporter", "kafka", options)?;
    let settings = resolve(config, ctx.run.project.as_deref()).map_err(invalid)?;
    Ok(Arc::new(move || {
        Box::new(KafkaExporter::new(settings.clone()))
    }))
}

telemetron_plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "kafka",
        description: "Kafka topics: OTLP protobuf/JSON for an OpenTelemetry Collector, or the lossless telemetron encoding for the relay",
        secret_keys: &["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret"],
        build,
    }
}
