//! Runtime-wide settings: the run identity, the ingest queue, exporter batching, health limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::spool::{DeliveryPolicy, RunMode, SpoolCompression, SpoolFsync};

/// What to do when the ingest queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backpressure {
    /// Wait up to `enqueue_timeout_secs` for room, then drop the record and count it (default;
    /// with the default timeout of 0 the caller never waits).
    #[default]
    #[serde(alias = "DropNew", alias = "drop-new")]
    DropNew,
    /// Wait for room, however long: loses nothing, may stall the caller.
    #[serde(alias = "Block")]
    Block,
    /// Wait up to `enqueue_timeout_secs`, then return `EnqueueError::QueueFull` (counted dropped).
    #[serde(alias = "Raise")]
    Raise,
    /// Like `block` while the exporters keep up; when the queue stays full for
    /// `enqueue_timeout_secs`, every spooled exporter fails over to its disk spool (which takes
    /// the backlog at disk speed), the caller waits `disk_spool_retry_timeout_secs` more, and
    /// only then gets `EnqueueError::QueueFull`.
    #[serde(alias = "SpoolThenRaise", alias = "spool-then-raise")]
    SpoolThenRaise,
}

impl Backpressure {
    /// Whether nothing is dropped for a full queue: the Recorder waits for exporter room.
    pub fn waits_for_room(self) -> bool {
        matches!(self, Backpressure::Block | Backpressure::SpoolThenRaise)
    }
}

/// What to do with errors that happen in the background (export failures, drops, misuse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ErrorStrategy {
    /// Count them; say nothing.
    #[serde(alias = "Silent")]
    Silent,
    /// Count them and log a warning (default).
    #[default]
    #[serde(alias = "Warn")]
    Warn,
    /// The next recording call returns the error instead of recording.
    #[serde(alias = "RaiseOnLog")]
    RaiseOnLog,
    /// `close` returns an error listing them.
    #[serde(alias = "RaiseOnClose")]
    RaiseOnClose,
}

/// Which run the telemetry belongs to; every exporter may use it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// Workspace (organisation or team).
    pub workspace: Option<String>,
    /// Project.
    pub project: Option<String>,
    /// Run name; the config layer generates one when none is given.
    pub run_name: String,
    /// Experiment (a group of runs).
    pub experiment: Option<String>,
    /// Identifies the job all processes of one distributed run share (resolved by the config
    /// layer: the setting, then the launcher's environment, else random).
    pub orchestration_id: String,
    /// This writer (rank); pinned by the setting, else random. Never 0.
    pub logger_id: u64,
}

/// Scalar settings of a runtime. Every field has a default; config files and `TELEMETRON_*`
/// environment variables use these names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeSettings {
    /// Workspace of the run.
    pub workspace: Option<String>,
    /// Project of the run.
    pub project: Option<String>,
    /// Run name (generated when absent: `run-<UTC date>-<time>-<pid>`).
    pub run_name: Option<String>,
    /// Experiment the run belongs to.
    pub experiment: Option<String>,
    /// The job's orchestration id (default: `TELEMETRON_ORCHESTRATION_ID`,
    /// `METRANA_ORCHESTRATION_ID`, `TORCHELASTIC_RUN_ID`, `SLURM_JOB_ID`, `RAY_JOB_ID`, else
    /// random). Child processes join the job through `TELEMETRON_ORCHESTRATION_ID` (the Python
    /// package sets it; a Rust launcher passes `runtime.run().orchestration_id`).
    pub orchestration_id: Option<String>,
    /// This writer's id, e.g. `rank + 1` to pin one per rank (default: random). Positive.
    pub logger_id: Option<u64>,
    /// Capacity of the ingest queue, in records.
    pub queue_capacity: usize,
    /// What a full ingest queue does to the caller.
    pub backpressure: Backpressure,
    /// How long `drop_new` and `raise` wait for room.
    pub enqueue_timeout_secs: f64,
    /// What background errors do.
    pub error_strategy: ErrorStrategy,
    /// Default deadline of `close()` and of the close that runs when the last handle drops.
    pub close_timeout_secs: f64,
    /// Capacity of each exporter's own queue, in records; overflow is dropped and counted.
    pub exporter_queue_capacity: usize,
    /// An exporter gets a batch when this many records are waiting...
    pub batch_max_size: usize,
    /// ...or when the oldest has waited this long.
    pub batch_max_age_secs: f64,
    /// Retries of one batch after retryable errors.
    pub max_retries: u32,
    /// First retry delay; doubles on each retry.
    pub retry_initial_backoff_secs: f64,
    /// Cap of the retry delay.
    pub retry_max_backoff_secs: f64,
    /// An exporter is disabled after this many failures in a row...
    pub max_consecutive_failures: u32,
    /// ...or this many failures in all.
    pub max_total_failures: u32,
    /// Where videos go: `<rendering_output_dir>/<run_name>/<env_id>/episode_<n>.mp4`.
    pub rendering_output_dir: String,
    /// Frames per second of rendered videos.
    pub rendering_fps: u32,
    /// libx264 constant rate factor (0 = lossless ... 51 = worst; 23 is x264's default).
    pub rendering_crf: u32,
    /// libx264 preset (`ultrafast` ... `veryslow`).
    pub rendering_preset: String,
    /// Encoder threads; each owns the open videos of the environments hashed to it.
    pub rendering_max_concurrent_encoders: usize,
    /// Frames waiting to be encoded, across all environments; a full queue applies
    /// `backpressure` (and `enqueue_timeout_secs`) to `log_rendering`.
    pub rendering_queue_max_size: usize,
    /// Encoded frames' buffers kept for reuse by `log_rendering`, in MiB (0: none): a copy into
    /// fresh memory costs the caller ~7× a copy into a reused buffer.
    pub rendering_buffer_pool_mb: usize,
    /// At close, drop queued frames instead of encoding them (they are reported).
    pub skip_drain_render_on_close: bool,
    /// At most this long for the renderer to drain at close (default: the close deadline).
    pub rendering_close_timeout_secs: Option<f64>,
    /// Values one metric call may copy (an array, or all environments × steps of an RL call);
    /// a larger call is refused with a `ValidationError` instead of a multi-GB allocation.
    pub max_values_per_call: usize,
    /// `online` (default), or `offline`: spooled exporters write their spool and connect
    /// nowhere; `telemetron sync` delivers it later.
    pub mode: RunMode,
    /// Where spools go (default `$TELEMETRON_SPOOL_DIR`, else `~/.cache/telemetron/spool`).
    /// Set explicitly, an unusable directory fails the start; the default one only warns.
    pub spool_dir: Option<String>,
    /// What all spools of the run may hold on disk, in bytes (8 GiB).
    pub spool_max_bytes: u64,
    /// A spool starts a new segment file past this many bytes.
    pub spool_segment_bytes: u64,
    /// When spooled frames are made durable: `always`, `batch` (default), `never`.
    pub spool_fsync: SpoolFsync,
    /// `zstd` (default) or `none`, per frame.
    pub spool_compression: SpoolCompression,
    /// What happens to a batch neither the backend nor the spool can take: `tolerate_loss`
    /// (default: counted) or `all_or_crash` (the next call raises).
    pub delivery_policy: DeliveryPolicy,
    /// The tail of `close(timeout)` kept to write what is undelivered to the spool (at most
    /// half the timeout).
    pub close_spool_reserve_secs: f64,
    /// `spool_then_raise`: how long a caller waits for room after the failover to disk.
    pub disk_spool_retry_timeout_secs: f64,
    /// First wait before a spooling exporter tries its backend again; doubles up to...
    pub spool_recovery_initial_backoff_secs: f64,
    /// ...this cap.
    pub spool_recovery_max_backoff_secs: f64,
}

/// x264's presets, fastest first.
pub const X264_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            workspace: None,
            project: None,
            run_name: None,
            experiment: None,
            orchestration_id: None,
            logger_id: None,
            queue_capacity: 65_536,
            backpressure: Backpressure::DropNew,
            enqueue_timeout_secs: 0.0,
            error_strategy: ErrorStrategy::Warn,
            close_timeout_secs: 10.0,
            exporter_queue_capacity: 262_144,
            batch_max_size: 1024,
            batch_max_age_secs: 0.2,
            max_retries: 5,
            retry_initial_backoff_secs: 0.05,
            retry_max_backoff_secs: 5.0,
            max_consecutive_failures: 5,
            max_total_failures: 50,
            rendering_output_dir: "telemetron-renderings".into(),
            rendering_fps: 30,
            rendering_crf: 23,
            rendering_preset: "medium".into(),
            rendering_max_concurrent_encoders: 4,
            rendering_queue_max_size: 512,
            rendering_buffer_pool_mb: 64,
            skip_drain_render_on_close: false,
            rendering_close_timeout_secs: None,
            max_values_per_call: Self::DEFAULT_MAX_VALUES_PER_CALL,
            mode: RunMode::Online,
            spool_dir: None,
            spool_max_bytes: 8 << 30,
            spool_segment_bytes: 64 << 20,
            spool_fsync: SpoolFsync::Batch,
            spool_compression: SpoolCompression::Zstd,
            delivery_policy: DeliveryPolicy::TolerateLoss,
            close_spool_reserve_secs: 5.0,
            disk_spool_retry_timeout_secs: 5.0,
            spool_recovery_initial_backoff_secs: 1.0,
            spool_recovery_max_backoff_secs: 60.0,
        }
    }
}

impl RuntimeSettings {
    /// Default of `max_values_per_call`: 2**25 values (256 MB as f64), 20× the largest
    /// vectorized RL call we have seen (1,024 environments × 1,600 steps).
    pub const DEFAULT_MAX_VALUES_PER_CALL: usize = 1 << 25;

    /// Names of every setting, as they appear in files and (upper-cased, `TELEMETRON_` prefix)
    /// in the environment.
    pub const KEYS: &'static [&'static str] = &[
        "workspace",
        "project",
        "run_name",
        "experiment",
        "orchestration_id",
        "logger_id",
        "queue_capacity",
        "backpressure",
        "enqueue_timeout_secs",
        "error_strategy",
        "close_timeout_secs",
        "exporter_queue_capacity",
        "batch_max_size",
        "batch_max_age_secs",
        "max_retries",
        "retry_initial_backoff_secs",
        "retry_max_backoff_secs",
        "max_consecutive_failures",
        "max_total_failures",
        "rendering_output_dir",
        "rendering_fps",
        "rendering_crf",
        "rendering_preset",
        "rendering_max_concurrent_encoders",
        "rendering_queue_max_size",
        "rendering_buffer_pool_mb",
        "skip_drain_render_on_close",
        "rendering_close_timeout_secs",
        "max_values_per_call",
        "mode",
        "spool_dir",
        "spool_max_bytes",
        "spool_segment_bytes",
        "spool_fsync",
        "spool_compression",
        "delivery_policy",
        "close_spool_reserve_secs",
        "disk_spool_retry_timeout_secs",
        "spool_recovery_initial_backoff_secs",
        "spool_recovery_max_backoff_secs",
    ];

    /// The run identity, with `fallback_run_name` when no run name was set, and the
    /// orchestration and logger ids resolved by the caller.
    pub fn run_identity(
        &self,
        fallback_run_name: &str,
        orchestration_id: String,
        logger_id: u64,
    ) -> RunIdentity {
        RunIdentity {
            workspace: self.workspace.clone(),
            project: self.project.clone(),
            run_name: self
                .run_name
                .clone()
                .unwrap_or_else(|| fallback_run_name.to_string()),
            experiment: self.experiment.clone(),
            orchestration_id,
            logger_id,
        }
    }

    /// Checks ranges; the message names the setting and the value.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("queue_capacity", self.queue_capacity),
            ("exporter_queue_capacity", self.exporter_queue_capacity),
            ("batch_max_size", self.batch_max_size),
            (
                "max_consecutive_failures",
                self.max_consecutive_failures as usize,
            ),
            ("max_total_failures", self.max_total_failures as usize),
            ("rendering_fps", self.rendering_fps as usize),
            (
                "rendering_max_concurrent_encoders",
                self.rendering_max_concurrent_encoders,
            ),
            ("rendering_queue_max_size", self.rendering_queue_max_size),
            ("max_values_per_call", self.max_values_per_call),
            ("spool_max_bytes", self.spool_max_bytes as usize),
            ("spool_segment_bytes", self.spool_segment_bytes as usize),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be at least 1 (got 0)"));
            }
        }
        let seconds = [
            ("enqueue_timeout_secs", self.enqueue_timeout_secs),
            ("close_timeout_secs", self.close_timeout_secs),
            ("batch_max_age_secs", self.batch_max_age_secs),
            (
                "retry_initial_backoff_secs",
                self.retry_initial_backoff_secs,
            ),
            ("retry_max_backoff_secs", self.retry_max_backoff_secs),
            (
                "rendering_close_timeout_secs",
                self.rendering_close_timeout_secs.unwrap_or(0.0),
            ),
            ("close_spool_reserve_secs", self.close_spool_reserve_secs),
            (
                "disk_spool_retry_timeout_secs",
                self.disk_spool_retry_timeout_secs,
            ),
            (
                "spool_recovery_initial_backoff_secs",
                self.spool_recovery_initial_backoff_secs,
            ),
            (
                "spool_recovery_max_backoff_secs",
                self.spool_recovery_max_backoff_secs,
            ),
        ];
        for (name, value) in seconds {
            if !value.is_finite() || value < 0.0 {
                return Err(format!(
                    "{name} must be a finite number of seconds >= 0 (got {value})"
                ));
            }
        }
        if self.logger_id == Some(0) {
            return Err("logger_id must be a positive number (got 0)".into());
        }
        if self
            .orchestration_id
            .as_deref()
            .is_some_and(|id| id.trim().is_empty())
        {
            return Err("orchestration_id must not be empty".into());
        }
        if self.rendering_crf > 51 {
            return Err(format!(
                "rendering_crf must be between 0 and 51 (got {})",
                self.rendering_crf
            ));
        }
        if !X264_PRESETS.contains(&self.rendering_preset.as_str()) {
            return Err(format!(
                "rendering_preset must be one of {} (got {:?})",
                X264_PRESETS.join(", "),
                self.rendering_preset
            ));
        }
        if self
            .spool_dir
            .as_deref()
            .is_some_and(|d| d.trim().is_empty())
        {
            return Err("spool_dir must not be empty".into());
        }
        if self.rendering_output_dir.is_empty() {
            return Err("rendering_output_dir must not be empty".into());
        }
        Ok(())
    }

    /// Converts seconds from a setting to a `Duration` (negative → zero).
    pub fn secs(value: f64) -> Duration {
        Duration::from_secs_f64(value.max(0.0))
    }
}
