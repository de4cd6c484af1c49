//! `{type: file, path: ..., max_bytes: ..., max_files: ..., append: ..., follow_symlinks: ...}`

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Options of the file exporter.
///
/// ```yaml
/// exporters:
///   - type: file
///     path: telemetron-out/run-42.jsonl   # default: telemetron-out/<run_name>.jsonl
///     max_bytes: 104857600                # rotate past 100 MiB (default: never)
///     max_files: 5                        # rotated files kept: .1 (newest) .. .5
///     append: false                       # an existing file: write run-42.1.jsonl beside it
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileExporterConfig {
    /// The .jsonl file to write. Default `telemetron-out/<run_name>.jsonl`.
    pub path: Option<PathBuf>,
    /// Rotate when the file would grow past this many bytes. Default: never.
    pub max_bytes: Option<u64>,
    /// How many rotated files to keep (`<path>.1` newest .. `<path>.N`). Default 5.
    pub max_files: Option<usize>,
    /// What to do when the file exists already (this exporter never truncates one): `false`
    /// (default) writes to a fresh name beside it (`run.jsonl` → `run.1.jsonl`, then
    /// `run.2.jsonl`, ...); `true` appends to it, after a header line of its own.
    #[serde(default)]
    pub append: bool,
    /// Write through a symbolic link at `path` (with `append: true`). Default false: a link
    /// there is refused, so a link planted at a predictable path cannot redirect the writes.
    #[serde(default)]
    pub follow_symlinks: bool,
}

impl FileExporterConfig {
    /// The file this config writes for run `run_name`.
    pub fn resolved_path(&self, run_name: &str) -> PathBuf {
        self.path.clone().unwrap_or_else(|| {
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
            PathBuf::from("telemetron-out").join(format!("{safe}.jsonl"))
        })
    }

    /// Rotated files kept.
    pub fn max_files(&self) -> usize {
        self.max_files.unwrap_or(5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_uses_a_file_safe_run_name() {
        let c = FileExporterConfig::default();
        assert_eq!(
            c.resolved_path("a/b c"),
            PathBuf::from("telemetron-out/a_b_c.jsonl")
        );
    }
}
