//! `{type: metrana, endpoint: ..., api_key: ..., resume_strategy: never | allow, ...}`

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
        }
    }
}
