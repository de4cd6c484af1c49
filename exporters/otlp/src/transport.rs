//! Sending one export request over OTLP/gRPC (tonic) or OTLP/HTTP (reqwest), with headers,
//! gzip, a timeout and TLS, and classifying failures as the OTLP spec says.

use std::io::Write;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::{
    logs_service_client::LogsServiceClient, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    metrics_service_client::MetricsServiceClient, ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    trace_service_client::TraceServiceClient, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use telemetron_runtime::exporter::{error_chain, with_causes};
use telemetron_runtime::redact::redact_text;
use telemetron_runtime::ExportError;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::Code;

use crate::config::{Protocol, SignalTarget};

/// PEM files for `https://` endpoints.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsFiles {
    pub(crate) ca: Option<Vec<u8>>,
    pub(crate) client: Option<(Vec<u8>, Vec<u8>)>,
}

/// How partial acceptance was reported: rejected items and the collector's reason.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub(crate) items: i64,
    pub(crate) reason: String,
}

/// One signal's connection.
pub(crate) enum Client {
    Grpc {
        channel: Channel,
        target: SignalTarget,
    },
    Http {
        client: reqwest::Client,
        target: SignalTarget,
    },
}

impl Client {
    /// Builds the client without connecting (a down collector is an export failure, not an
    /// initialization failure). Call inside the exporter's tokio runtime.
    pub(crate) fn new(target: SignalTarget, tls: &TlsFiles) -> Result<Client, ExportError> {
        let https = target.url.starts_with("https://");
        match target.protocol {
            Protocol::Grpc => {
                let mut endpoint = Endpoint::from_shared(target.url.clone())
                    .map_err(|e| {
                        ExportError::failed(format!("endpoint {}: {e}", redact_text(&target.url)))
                    })?
                    .timeout(target.timeout)
                    .connect_timeout(target.timeout);
                if https {
                    let mut config = ClientTlsConfig::new().with_native_roots();
                    if let Some(ca) = &tls.ca {
                        config = config.ca_certificate(Certificate::from_pem(ca));
                    }
                    if let Some((cert, key)) = &tls.client {
                        config = config.identity(Identity::from_pem(cert, key));
                    }
                    endpoint = endpoint
                        .tls_config(config)
                        .map_err(|e| ExportError::failed(format!("TLS setup: {e}")))?;
                }
                Ok(Client::Grpc {
                    channel: endpoint.connect_lazy(),
                    target,
                })
            }
            Protocol::HttpProtobuf => {
                let mut builder = reqwest::Client::builder()
                    .timeout(target.timeout)
                    .connect_timeout(target.timeout);
                if let Some(ca) = &tls.ca {
                    let cert = reqwest::Certificate::from_pem(ca)
                        .map_err(|e| ExportError::failed(format!("ca_file: {e}")))?;
                    builder = builder.add_root_certificate(cert);
                }
                if let Some((cert, key)) = &tls.client {
                    let mut pem = cert.clone();
                    pem.extend_from_slice(key);
                    let identity = reqwest::Identity::from_pem(&pem)
                        .map_err(|e| ExportError::failed(format!("client certificate: {e}")))?;
                    builder = builder.identity(identity);
                }
                let client = builder
                    .build()
                    .map_err(|e| ExportError::failed(format!("HTTP client: {e}")))?;
                Ok(Client::Http { client, target })
            }
        }
    }
}

/// One `send_<signal>` method per OTLP service: gRPC through its generated client, or an HTTP
/// POST whose body decodes as its response; `rejected` names the partial-success count.
macro_rules! send {
    ($name:ident, $request:ty, $client:ident, $response:ty, $rejected:ident) => {
        impl Client {
            pub(crate) async fn $name(&self, request: $request) -> Result<Rejected, ExportError> {
                let partial = match self {
                    Client::Grpc { channel, target } => {
                        let mut client = $client::new(channel.clone());
                        if target.gzip {
                            client = client.send_compressed(CompressionEncoding::Gzip);
                        }
                        client
                            .export(grpc_request(request, target)?)
                            .await
                            .map_err(|s| grpc_error(&s))?
                            .into_inner()
                            .partial_success
                    }
                    Client::Http { client, target } => {
                        let body = post(client, target, request.encode_to_vec()).await?;
                        <$response>::decode(body.as_slice())
                            .unwrap_or_default()
                            .partial_success
                    }
                }
                .unwrap_or_default();
                Ok(Rejected {
                    items: partial.$rejected,
                    reason: partial.error_message,
                })
            }
        }
    };
}

send!(
    send_traces,
    ExportTraceServiceRequest,
    TraceServiceClient,
    ExportTraceServiceResponse,
    rejected_spans
);
send!(
    send_logs,
    ExportLogsServiceRequest,
    LogsServiceClient,
    ExportLogsServiceResponse,
    rejected_log_records
);
send!(
    send_metrics,
    ExportMetricsServiceRequest,
    MetricsServiceClient,
    ExportMetricsServiceResponse,
    rejected_data_points
);

fn grpc_request<T>(message: T, target: &SignalTarget) -> Result<tonic::Request<T>, ExportError> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(target.timeout);
    for (key, value) in &target.headers {
        // The value is a secret: errors name the header, never its value.
        let key = MetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
            .map_err(|_| ExportError::failed(format!("header name {key:?} is not valid")))?;
        let value = MetadataValue::try_from(value.as_str())
            .map_err(|_| ExportError::failed(format!("the value of header {key} is not valid")))?;
        request.metadata_mut().insert(key, value);
    }
    Ok(request)
}

/// OTLP/gRPC: these codes are transient, the rest are not. A connection that broke before any
/// answer (tonic reports `Unknown` with a transport error as its source) is a network failure,
/// not a server verdict: transient too.
fn grpc_error(status: &tonic::Status) -> ExportError {
    // A transport failure (TLS, connection) is only "transport error" without its causes.
    let message = with_causes(
        format!("OTLP gRPC {:?}: {}", status.code(), status.message()),
        std::error::Error::source(status),
    );
    let transport = std::error::Error::source(status)
        .is_some_and(|e| e.is::<tonic::transport::Error>() || e.is::<hyper::Error>());
    if status.code() == Code::Unknown && transport {
        return ExportError::retryable(message);
    }
    match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => ExportError::retryable(message),
        _ => ExportError::failed(message),
    }
}

async fn post(
    client: &reqwest::Client,
    target: &SignalTarget,
    body: Vec<u8>,
) -> Result<Vec<u8>, ExportError> {
    let mut request = client
        .post(&target.url)
        .header("content-type", "application/x-protobuf");
    let body = if target.gzip {
        request = request.header("content-encoding", "gzip");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&body)?;
        encoder.finish()?
    } else {
        body
    };
    for (key, value) in &target.headers {
        request = request.header(key.as_str(), value.as_str());
    }
    // Connection refused, DNS, timeout, TLS: transient. The message names every cause (a TLS
    // failure is otherwise only "error sending request"), and the URL without credentials.
    let failed = |e: reqwest::Error| {
        ExportError::retryable(format!(
            "OTLP HTTP {}: {}",
            redact_text(&target.url),
            error_chain(&e.without_url())
        ))
    };
    let response = request.body(body).send().await.map_err(failed)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response.bytes().await.map_err(failed)?;
    if status.is_success() {
        return Ok(bytes.to_vec());
    }
    let snippet = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
    let message = match &retry_after {
        Some(after) => format!("OTLP HTTP {status} (Retry-After {after}): {snippet}"),
        None => format!("OTLP HTTP {status}: {snippet}"),
    };
    if matches!(status.as_u16(), 429 | 502 | 503 | 504) {
        // Retry-After in seconds (the HTTP-date form is rare for collectors: plain backoff).
        match retry_after.and_then(|after| after.trim().parse::<u64>().ok()) {
            Some(secs) => Err(ExportError::retry_after(message, Duration::from_secs(secs))),
            None => Err(ExportError::retryable(message)),
        }
    } else {
        Err(ExportError::failed(message))
    }
}
