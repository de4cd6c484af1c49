//! `{type: tensorboard, logdir: runs/{run_name}, max_file_bytes: ...}`

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Options of the TensorBoard exporter.
///
/// ```yaml
/// exporters:
///   - type: tensorboard
///     logdir: runs/{run_name}     # default telemetron-tb/{run_name}; `tensorboard --logdir runs`
///     max_file_bytes: 268435456   # start a new event file past this size (default 256 MiB)
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorBoardConfig {
    /// The directory the event files go in (TensorBoard's run directory); `{run_name}` is
    /// replaced by the run's name. Default `telemetron-tb/{run_name}`.
    pub logdir: Option<String>,
    /// Start a new event file once the current one holds this many bytes. Default 256 MiB.
    pub max_file_bytes: Option<u64>,
}

/// Default size at which a new event file starts.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 << 20;

impl TensorBoardConfig {
    /// The directory this config writes for run `run_name`.
    pub fn resolved_logdir(&self, run_name: &str) -> PathBuf {
        let safe: String = run_name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let template = self.logdir.as_deref().unwrap_or("telemetron-tb/{run_name}");
        PathBuf::from(template.replace("{run_name}", &safe))
    }

    /// Rotation size.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes.unwrap_or(DEFAULT_MAX_FILE_BYTES).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logdir_defaults_per_run_and_takes_the_run_name() {
        let c = TensorBoardConfig::default();
        assert_eq!(c.resolved_logdir("a/b"), PathBuf::from("telemetron-tb/a_b"));
        let c = TensorBoardConfig {
            logdir: Some("runs".into()),
            ..Default::default()
        };
        assert_eq!(c.resolved_logdir("x"), PathBuf::from("runs"));
    }
}
