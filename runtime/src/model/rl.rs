//! RL series: values of several environments at one major `rl_step`, each environment with
//! its episode and its minor steps (environment steps, or the episode for per-episode series).

use std::sync::Arc;

use super::{SeriesKey, SeriesOrdering, Timestamp, TimestampsMs, Values};

/// One call's points of an RL series: `envs.len()` environments × `per_env` values each,
/// row-major (environment by environment).
#[derive(Clone, Debug, PartialEq)]
pub struct RlPoints {
    /// The series (scale `EPISODE` or `ENVIRONMENT_STEP`).
    pub series: Arc<SeriesKey>,
    /// Ordered (auto steps) or unordered (explicit episodes from many writers).
    pub ordering: SeriesOrdering,
    /// The major step.
    pub rl_step: u64,
    /// Environment ids (shared with the handle's cursor update: no copy per call).
    pub envs: Arc<[String]>,
    /// Each environment's episode (`None`: a non-episodic series).
    pub episodes: Vec<Option<u64>>,
    /// Values per environment.
    pub per_env: usize,
    /// Each value's minor step: the environment step (scale `ENVIRONMENT_STEP`) or the episode
    /// (scale `EPISODE`), resolved from the handle's cursors.
    pub minor_steps: Vec<u64>,
    /// `envs.len() * per_env` values.
    pub values: Values,
    /// Timestamps (none, one, or one per value).
    pub timestamps_ms: TimestampsMs,
    /// When they were logged.
    pub time: Timestamp,
}
