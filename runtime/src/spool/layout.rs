//! Where spools live: `<spool_dir>/<workspace>/<project>/<run_name>/<exporter>/w-<created
//! ms>-<pid>-<token>/`, and what a writer directory says about itself (`writer.json`).

use std::path::{Path, PathBuf};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use super::SpoolError;
use crate::settings::RunIdentity;

/// Bytes kept as they are in a path component; everything else is percent-encoded, so a run
/// name never leaves its directory (`../x`, `a/b`) and two names never share one.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The directory name of a workspace / project that is not set.
pub const UNSET: &str = "_";

/// `value` as one safe path component.
pub(crate) fn component(value: &str) -> String {
    match value {
        "" => "%00".into(),
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        v => utf8_percent_encode(v, ENCODED).to_string(),
    }
}

/// A path component back to its value (the inverse of [`component`]).
#[cfg(test)]
fn decode_component(name: &str) -> String {
    if name == "%00" {
        return String::new();
    }
    percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .into_owned()
}

/// `<spool_dir>/<workspace>/<project>/<run_name>`.
pub fn run_dir(spool_dir: &Path, run: &RunIdentity) -> PathBuf {
    spool_dir
        .join(run.workspace.as_deref().map_or(UNSET.into(), component))
        .join(run.project.as_deref().map_or(UNSET.into(), component))
        .join(component(&run.run_name))
}

/// `<run dir>/<exporter>`: the writer directories of one exporter of a run.
pub fn exporter_dir(spool_dir: &Path, run: &RunIdentity, exporter: &str) -> PathBuf {
    run_dir(spool_dir, run).join(component(exporter))
}

/// What a writer directory holds about its writer, in `writer.json`: enough to deliver its
/// frames later without the process that wrote them (the run and exporter, the identity the
/// frames go out under).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterMeta {
    /// Format of the directory (segments and this file).
    pub format: u8,
    /// When the writer started (Unix ms): leftovers are delivered oldest first.
    pub created_ms: u64,
    /// The writing process.
    pub pid: u32,
    /// Its host name.
    pub host: String,
    /// The run the records belong to (with the writer's orchestration and logger ids).
    pub run: RunIdentity,
    /// The exporter instance whose records these are.
    pub exporter: String,
    /// Its type (`metrana`, `otlp`, ...).
    pub exporter_type: String,
    /// The session the writer's own frames are delivered under.
    pub session: u64,
    /// Whether it was an offline run (no connection was ever made).
    pub offline: bool,
}

impl WriterMeta {
    /// The directory name: `w-<created ms>-<pid>-<token>`.
    pub(crate) fn dir_name(&self, token: &str) -> String {
        format!("w-{:013}-{}-{token}", self.created_ms, self.pid)
    }

    pub(crate) fn read(dir: &Path) -> Result<Self, SpoolError> {
        let path = dir.join(META_FILE);
        let text = std::fs::read(&path).map_err(|e| SpoolError::io(&path, e))?;
        let meta: WriterMeta =
            serde_json::from_slice(&text).map_err(|e| SpoolError::corrupt(&path, e.to_string()))?;
        if meta.format > super::segment::FORMAT_VERSION {
            return Err(SpoolError::corrupt(
                &path,
                format!(
                    "spool format {} is newer than this reader's {}: upgrade telemetron",
                    meta.format,
                    super::segment::FORMAT_VERSION
                ),
            ));
        }
        Ok(meta)
    }
}

/// The writer's description.
pub(crate) const META_FILE: &str = "writer.json";
/// The advisory lock every writer (and whoever delivers its frames) holds.
pub(crate) const LOCK_FILE: &str = "lock";
/// Where the delivered prefix of the log ends.
pub(crate) const TRIM_FILE: &str = "trim.json";

/// The writer directories under `exporter_dir` (`w-*`), oldest first by name (the creation
/// time leads the name).
pub(crate) fn writer_dirs(exporter_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(exporter_dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with("w-")))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// This machine's host name.
pub(crate) fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into the buffer we own.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_their_directory_and_come_back() {
        for name in ["ppo-7", "a/b", "..", ".", "", "run 1 ü", "%41"] {
            let c = component(name);
            assert!(
                !c.contains('/') && c != "." && c != ".." && !c.is_empty(),
                "{c}"
            );
            assert_eq!(decode_component(&c), name);
        }
        assert_eq!(component("ppo-7.v2_x"), "ppo-7.v2_x");
        let run = RunIdentity {
            run_name: "../../etc".into(),
            ..Default::default()
        };
        let dir = exporter_dir(Path::new("/spool"), &run, "metrana");
        assert!(dir.starts_with("/spool/_/_/"), "{}", dir.display());
        assert_eq!(dir.components().count(), 6);
    }
}
