//! The OpenTelemetry exporter: spans, events, errors, metric series and log records over OTLP/gRPC or
//! OTLP/HTTP (protobuf), with headers, gzip, timeouts and TLS. Configured as
//! `{type: otlp, ...}` or by the standard `OTEL_EXPORTER_OTLP_*` variables; the mapping is
//! documented in this crate's README.

mod config;
mod endpoint;
mod exporter;
mod transport;

pub use config::{Compression, OtlpConfig, OtlpConfigError, Protocol, Signal, SignalTarget};
pub use exporter::{OtlpExporter, OtlpSettings};

use std::sync::Arc;

use telemetron_plugins::{parse_options, BuildContext, ExporterRegistration, RegistryError};

use crate::transport::TlsFiles;

/// Resolves a config against an environment lookup, reading TLS files.
pub fn resolve(
    config: &OtlpConfig,
    project: Option<&str>,
    env: config::Env<'_>,
) -> Result<OtlpSettings, String> {
    let signals = config.signals();
    let target = |signal| -> Result<_, String> {
        exporter::sent(&signals, signal)
            .then(|| config.target(signal, env))
            .transpose()
            .map_err(|e| e.to_string())
    };
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
    };
    let ca = config
        .ca_file
        .as_deref()
        .map(|p| read(p, "ca_file"))
        .transpose()?;
    let client = match (&config.client_cert_file, &config.client_key_file) {
        (Some(cert), Some(key)) => Some((
            read(cert, "client_cert_file")?,
            read(key, "client_key_file")?,
        )),
        (None, None) => None,
        _ => return Err("client_cert_file and client_key_file go together".into()),
    };
    let settings = OtlpSettings {
        traces: target(Signal::Traces)?,
        logs: target(Signal::Logs)?,
        metrics: target(Signal::Metrics)?,
        resource: config.resource(project, env).map_err(|e| e.to_string())?,
        tls: TlsFiles { ca, client },
    };
    // Header values (from the config or OTEL_EXPORTER_OTLP_*HEADERS) are secrets: scrubbed from
    // every message, the token of `Bearer <token>` too.
    for target in [&settings.traces, &settings.metrics, &settings.logs]
        .into_iter()
        .flatten()
    {
        for (_, value) in &target.headers {
            telemetron_runtime::redact::register_secret(value);
            if let Some((_, token)) = value.trim().rsplit_once(' ') {
                telemetron_runtime::redact::register_secret(token);
            }
        }
    }
    Ok(settings)
}

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    ctx: &BuildContext<'_>,
) -> Result<telemetron_runtime::ExporterFactory, RegistryError> {
    let config: OtlpConfig = parse_options("exporter", "otlp", options)?;
    let env = |name: &str| std::env::var(name).ok();
    let settings = resolve(&config, ctx.run.project.as_deref(), &env).map_err(|reason| {
        RegistryError::InvalidOptions {
            kind: "exporter",
            name: "otlp".into(),
            reason,
        }
    })?;
    warn_if_credentials_in_clear(&settings);
    Ok(Arc::new(move || {
        Box::new(OtlpExporter::new(settings.clone()))
    }))
}

/// One warning when a signal's headers or URL carry credentials (an `authorization` or API-key
/// header, a URL password or token) to a plain `http://` endpoint on another host.
fn warn_if_credentials_in_clear(settings: &OtlpSettings) {
    for target in [&settings.traces, &settings.metrics, &settings.logs]
        .into_iter()
        .flatten()
    {
        let secret_header = target
            .headers
            .iter()
            .find(|(name, _)| telemetron_runtime::redact::is_secret_name(name));
        let in_url = telemetron_runtime::redact::redact_text(&target.url) != target.url;
        let what = match (secret_header, in_url) {
            (Some((name, _)), _) => format!("the {name} header"),
            (None, true) => "a credential in the endpoint URL".to_string(),
            (None, false) => continue,
        };
        if telemetron_plugins::warn_if_cleartext_credentials("otlp", &target.url, &what) {
            return;
        }
    }
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or a per-signal endpoint) in the environment adds an `otlp`
/// exporter beside the default file exporter, at the lowest config layer: an exporter list in
/// code or a file replaces both.
fn otel_environment() -> serde_json::Value {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let endpoint = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ]
    .into_iter()
    .any(set);
    if endpoint {
        serde_json::json!({"exporters": [{"type": "file"}, {"type": "otlp"}]})
    } else {
        serde_json::json!({})
    }
}

telemetron_plugins::inventory::submit! {
    telemetron_plugins::ConfigProviderRegistration {
        name: "OTEL_EXPORTER_OTLP_ENDPOINT",
        provide: otel_environment,
    }
}

telemetron_plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "otlp",
        description: "OpenTelemetry OTLP over gRPC or HTTP/protobuf (traces, metrics, logs)",
        secret_keys: &["headers"],
        build,
    }
}
