//! `{type: metrana, endpoint: ..., api_key: ..., resume_strategy: never | allow, ...}`

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What to do when the run already exists and belongs to another job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResumeStrategy {
    /// Refuse a run this job cannot confirm it owns (default).
    #[default]
    Never,
    /// Continue into it anyway.
    Allow,
}

/// gRPC message compression. `zstd` works only against a server that accepts it (Metrana's
/// own note); others refuse the requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// No compression (default, as Metrana's run logger).
    #[default]
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Options of the Metrana exporter; the run (workspace, project, run name, orchestration and
/// logger ids) comes from the runtime settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetranaConfig {
    /// Ingestion endpoint.
    pub endpoint: String,
    /// API key (secret); sent as `authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Resume policy for an existing run.
    pub resume_strategy: ResumeStrategy,
    /// Create the project when it does not exist.
    pub create_project_if_missing: bool,
    /// Bound of the handshake, seconds.
    pub init_timeout_secs: f64,
    /// Requests in flight before the sender waits for acks.
    pub max_pending_requests: usize,
    /// A request is cut when its encoded size reaches this many bytes.
    pub max_msg_size: usize,
    /// With requests in flight and no ack for this long, the stream is treated as broken
    /// (reconnect, re-send). `null` disables the watchdog.
    pub ack_stall_timeout_secs: Option<f64>,
    /// gRPC message compression.
    pub compression: Compression,
    /// A PEM CA bundle trusted besides the system roots (`https://` endpoints).
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate (with `client_key_file`) for mutual TLS.
    pub client_cert_file: Option<PathBuf>,
    /// The client certificate's PEM key.
    pub client_key_file: Option<PathBuf>,
}

impl Default for MetranaConfig {
    fn default() -> Self {
        MetranaConfig {
            endpoint: "https://ingestion.metrana.ai".into(),
            api_key: None,
            resume_strategy: ResumeStrategy::Never,
            create_project_if_missing: true,
            init_timeout_secs: 120.0,
            max_pending_requests: 30,
            max_msg_size: 1 << 20,
            ack_stall_timeout_secs: Some(60.0),
            compression: Compression::None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
        }
    }
}
