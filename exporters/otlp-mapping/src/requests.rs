//! OTLP export requests from mapped records: one resource, the `telemetron` scope for spans,
//! metrics and the Recorder's own log records, one scope per logger for log records.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use telemetron_runtime::RunIdentity;

use crate::assembler::{kv, string};

/// The instrumentation scope `name`, at this crate's version.
pub fn scope(name: String) -> InstrumentationScope {
    InstrumentationScope {
        name,
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    }
}

/// Spans as one request under `resource`, scope `telemetron`.
pub fn trace_request(resource: Option<Resource>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource,
            scope_spans: vec![ScopeSpans {
                scope: Some(scope("telemetron".into())),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// Log records as one request under `resource`, grouped by logger (the scope), loggers in
/// name order.
pub fn logs_request(
    resource: Option<Resource>,
    logs: impl IntoIterator<Item = (String, LogRecord)>,
) -> ExportLogsServiceRequest {
    let mut by_scope: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (logger, record) in logs {
        by_scope.entry(logger).or_default().push(record);
    }
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource,
            scope_logs: by_scope
                .into_iter()
                .map(|(name, log_records)| ScopeLogs {
                    scope: Some(scope(name)),
                    log_records,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: String::new(),
        }],
    }
}

/// Metrics as one request under `resource`, scope `telemetron`.
pub fn metrics_request(
    resource: Option<Resource>,
    metrics: Vec<Metric>,
) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource,
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope("telemetron".into())),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The resource: the configured `attributes` (with `service.name`), then what they leave out
/// of `host.name`, `process.pid`, the run identity (`telemetron.*`) and `telemetry.sdk.*`.
pub fn resource(attributes: &BTreeMap<String, String>, run: &RunIdentity) -> Resource {
    let mut kvs: Vec<_> = attributes.iter().map(|(k, v)| kv(k, string(v))).collect();
    let mut add = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            if !attributes.contains_key(key) {
                kvs.push(kv(key, string(v)));
            }
        }
    };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok());
    add("host.name", host.as_deref());
    add("process.pid", Some(&std::process::id().to_string()));
    add("telemetron.run_name", Some(&run.run_name));
    add("telemetron.workspace", run.workspace.as_deref());
    add("telemetron.project", run.project.as_deref());
    add("telemetron.experiment", run.experiment.as_deref());
    add("telemetron.orchestration_id", Some(&run.orchestration_id));
    add("telemetry.sdk.name", Some("telemetron"));
    add("telemetry.sdk.language", Some("rust"));
    add("telemetry.sdk.version", Some(env!("CARGO_PKG_VERSION")));
    Resource {
        attributes: kvs,
        ..Default::default()
    }
}
