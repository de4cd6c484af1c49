//! The gRPC channel: TLS for `https://` endpoints, the bearer token, and how a status maps to
//! a retryable or final error.

use std::time::Duration;

use telemetron_runtime::exporter::with_causes;
use telemetron_runtime::ExportError;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::config::MetranaConfig;

/// The endpoint to connect to, with TLS (the system roots, plus `ca_file` and a client
/// certificate when given) for `https://`.
pub(crate) fn endpoint(config: &MetranaConfig, connect: Duration) -> Result<Endpoint, ExportError> {
    let url = config.endpoint.trim_end_matches('/').to_string();
    let mut endpoint = Endpoint::from_shared(url.clone())
        .map_err(|e| ExportError::failed(format!("endpoint {url}: {e}")))?
        .connect_timeout(connect)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .tcp_keepalive(Some(Duration::from_secs(60)));
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = &config.ca_file {
            tls = tls.ca_certificate(Certificate::from_pem(read(ca, "ca_file")?));
        }
        match (&config.client_cert_file, &config.client_key_file) {
            (Some(cert), Some(key)) => {
                tls = tls.identity(Identity::from_pem(
                    read(cert, "client_cert_file")?,
                    read(key, "client_key_file")?,
                ));
            }
            (None, None) => {}
            _ => {
                return Err(ExportError::failed(
                    "client_cert_file and client_key_file go together",
                ))
            }
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| ExportError::failed(format!("TLS for {url}: {e}")))?;
    } else if config.ca_file.is_some() || config.client_cert_file.is_some() {
        return Err(ExportError::failed(format!(
            "TLS files are set but the endpoint {url} is not https://"
        )));
    }
    Ok(endpoint)
}

fn read(path: &std::path::Path, what: &str) -> Result<Vec<u8>, ExportError> {
    std::fs::read(path).map_err(|e| ExportError::failed(format!("{what} {}: {e}", path.display())))
}

/// `message` with `authorization: Bearer <token>` when there is a token.
pub(crate) fn authorize<T>(
    message: T,
    token: Option<&str>,
) -> Result<tonic::Request<T>, ExportError> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        let value = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| ExportError::failed("the api_key is not a valid header value"))?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(request)
}

/// Transient statuses are retried; the rest (invalid, unauthenticated, ...) are final.
pub(crate) fn status_error(rpc: &str, status: &tonic::Status) -> ExportError {
    use tonic::Code;
    // A transport failure (TLS, connection) says only "transport error" without its causes.
    let message = with_causes(
        format!("Metrana {rpc}: {:?}: {}", status.code(), status.message()),
        std::error::Error::source(status),
    );
    match status.code() {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Cancelled
        | Code::Unknown => ExportError::retryable(message),
        _ => ExportError::failed(message),
    }
}
