//! Finding spools to deliver under a directory (`telemetron sync`, `replay_spool`): every
//! writer directory, grouped by run and exporter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::layout::{WriterMeta, META_FILE};
use crate::settings::RunIdentity;

/// Writer directories sit five levels below the spool directory; a deeper walk finds nothing.
const MAX_DEPTH: usize = 6;

/// The spools of one exporter of one run found under a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundSpool {
    /// The run, as its oldest writer recorded it (orchestration id included).
    pub run: RunIdentity,
    /// The exporter instance name the records were for.
    pub exporter: String,
    /// Its type.
    pub exporter_type: String,
    /// The spool directory they sit under (`<spool_dir>` of the layout).
    pub spool_dir: PathBuf,
    /// The writer directories, oldest first.
    pub writers: Vec<PathBuf>,
    /// Their bytes on disk.
    pub bytes: u64,
    /// Whether any of them was written by an offline run.
    pub offline: bool,
}

/// Every spool under `dir` (a spool directory, or any directory inside one), grouped by
/// (workspace, project, run name, exporter), oldest run first.
pub fn find_spools(dir: &Path) -> Vec<FoundSpool> {
    let mut writers = Vec::new();
    walk(dir, 0, &mut writers);
    let mut groups: BTreeMap<(Option<String>, Option<String>, String, String), FoundSpool> =
        BTreeMap::new();
    writers.sort_by_key(|(meta, path)| (meta.created_ms, path.clone()));
    for (meta, path) in writers {
        let key = (
            meta.run.workspace.clone(),
            meta.run.project.clone(),
            meta.run.run_name.clone(),
            meta.exporter.clone(),
        );
        // <spool_dir>/<ws>/<project>/<run>/<exporter>/<writer>
        let spool_dir = path
            .ancestors()
            .nth(5)
            .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
        let bytes = dir_bytes(&path);
        let group = groups.entry(key).or_insert_with(|| FoundSpool {
            run: meta.run.clone(),
            exporter: meta.exporter.clone(),
            exporter_type: meta.exporter_type.clone(),
            spool_dir,
            writers: Vec::new(),
            bytes: 0,
            offline: false,
        });
        group.writers.push(path);
        group.bytes += bytes;
        group.offline |= meta.offline;
    }
    let mut found: Vec<FoundSpool> = groups.into_values().collect();
    found.sort_by(|a, b| a.writers.first().cmp(&b.writers.first()));
    found
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<(WriterMeta, PathBuf)>) {
    if dir.join(META_FILE).is_file() {
        if let Ok(meta) = WriterMeta::read(dir) {
            out.push((meta, dir.to_path_buf()));
        }
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        walk(&sub, depth + 1, out);
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
