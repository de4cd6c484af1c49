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
    pub minor_steps: MinorSteps,
    /// `envs.len() * per_env` values.
    pub values: Values,
    /// Timestamps (none, one, or one per value).
    pub timestamps_ms: TimestampsMs,
    /// When they were logged.
    pub time: Timestamp,
}

/// The minor steps of an [`RlPoints`]: one run per environment (automatic or given starts:
/// nothing per value to write or to send), or one step per value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MinorSteps {
    /// Environment `i`'s steps are `starts[i] .. starts[i] + per_env`.
    Runs(Vec<u64>),
    /// Every value's step, row-major.
    Each(Vec<u64>),
}

impl MinorSteps {
    /// The step of value `i` (row-major) with `per_env` values per environment.
    pub fn get(&self, i: usize, per_env: usize) -> u64 {
        match self {
            MinorSteps::Runs(starts) => starts[i / per_env.max(1)] + (i % per_env.max(1)) as u64,
            MinorSteps::Each(steps) => steps[i],
        }
    }

    /// Environment `env`'s steps: its first step when they run contiguously, else all of them.
    pub fn row(&self, env: usize, per_env: usize) -> MinorRow<'_> {
        match self {
            MinorSteps::Runs(starts) => MinorRow::From(starts[env]),
            MinorSteps::Each(steps) => {
                let row = &steps[env * per_env..(env + 1) * per_env];
                if row.windows(2).all(|w| w[1] == w[0] + 1) {
                    MinorRow::From(row[0])
                } else {
                    MinorRow::Each(row)
                }
            }
        }
    }

    /// Every value's step, row-major.
    pub fn to_vec(&self, per_env: usize) -> Vec<u64> {
        match self {
            MinorSteps::Runs(starts) => {
                starts.iter().flat_map(|&s| s..s + per_env as u64).collect()
            }
            MinorSteps::Each(steps) => steps.clone(),
        }
    }
}

/// One environment's minor steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinorRow<'a> {
    /// Contiguous from this step.
    From(u64),
    /// These steps.
    Each(&'a [u64]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_each_agree() {
        let runs = MinorSteps::Runs(vec![5, 0]);
        let each = MinorSteps::Each(vec![5, 6, 7, 0, 1, 2]);
        assert_eq!(runs.to_vec(3), each.to_vec(3));
        assert_eq!((runs.get(4, 3), each.get(4, 3)), (1, 1));
        assert_eq!(runs.row(1, 3), MinorRow::From(0));
        assert_eq!(each.row(1, 3), MinorRow::From(0));
        let gaps = MinorSteps::Each(vec![1, 3]);
        assert_eq!(gaps.row(0, 2), MinorRow::Each(&[1, 3]));
    }
}
