//! The spool's settings: how a run starts (`mode`), where spools go, how much they may hold,
//! when frames are made durable, and what happens when neither backend nor disk takes a batch.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{RecordCodec, SpoolBudget, SpoolCompression};

/// How a run starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Exporters connect as usual (default).
    #[default]
    #[serde(alias = "Online", alias = "online_only", alias = "OnlineOnly")]
    Online,
    /// Every spooled exporter writes to its spool and makes no connection (Metrana's
    /// handshake is deferred); `telemetron sync` delivers it later.
    #[serde(alias = "Offline")]
    Offline,
}

/// When spooled frames are made durable (`fdatasync`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoolFsync {
    /// After every frame.
    #[serde(alias = "Always")]
    Always,
    /// After every write of one or more frames (one batch, or a whole backlog at failover),
    /// and at flush and close (default).
    #[default]
    #[serde(alias = "Batch")]
    Batch,
    /// Never: frames reach the page cache (they survive the process, not the machine).
    #[serde(alias = "Never")]
    Never,
}

/// What happens to a batch that neither the backend nor the spool can take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryPolicy {
    /// Count it (`failed`, or `dropped` when the spool refused it) and go on (default: telemetry
    /// never stops a job unless asked to).
    #[default]
    #[serde(alias = "TolerateLoss", alias = "tolerate-loss")]
    TolerateLoss,
    /// Stop: the next `log`, `flush` or `shutdown` raises `ExporterError` with the reason.
    #[serde(alias = "AllOrCrash", alias = "all-or-crash")]
    AllOrCrash,
}

/// The spool settings one runtime resolved at start.
#[derive(Clone)]
pub(crate) struct SpoolSettings {
    pub dir: PathBuf,
    /// `spool_dir` was set: an unusable directory fails the start instead of a warning.
    pub explicit: bool,
    pub segment_bytes: u64,
    pub fsync: SpoolFsync,
    pub compression: SpoolCompression,
    pub offline: bool,
    pub codec: Arc<dyn RecordCodec>,
    pub budget: Arc<SpoolBudget>,
    pub recovery_initial: Duration,
    pub recovery_max: Duration,
}

impl SpoolSettings {
    /// The default directory: `$TELEMETRON_SPOOL_DIR` (the `spool_dir` setting), else
    /// `~/.cache/telemetron/spool`.
    pub(crate) fn default_dir() -> PathBuf {
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        home.join(".cache").join("telemetron").join("spool")
    }
}
