//! The cursor journal: the run's step cursors (each series' last step, each environment's
//! last rl_step and episode) on disk, so a process killed with `SIGKILL` and started again on
//! the same run continues its steps even when no backend can tell it where they were.
//!
//! `<spool_dir>/<workspace>/<project>/<run>/cursors/w-<ms>-<pid>-<token>.journal` is one JSON
//! line per change, appended by the pump thread as records pass (off the caller's thread), and
//! `....snapshot` the whole state, rewritten about once a minute (the journal then starts
//! over). The journal file is locked while its writer lives; a process starting on the run
//! merges the journals of writers that are gone (greatest step wins), keeps the result in its
//! own snapshot and deletes theirs.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use super::layout::run_dir;
use super::SpoolError;
use crate::exporter::CursorSeed;
use crate::model::{Record, Scale, SeriesKey, SeriesOrdering};
use crate::settings::RunIdentity;

/// How often the snapshot is rewritten (and the journal restarted).
const SNAPSHOT_EVERY: Duration = Duration::from_secs(60);
/// ...or after this many journal lines.
const SNAPSHOT_LINES: usize = 100_000;

/// One journal line: a series' last step, or an environment's last rl_step and episode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Entry {
    Series {
        name: String,
        scale: String,
        labels: Vec<(String, String)>,
        ordered: bool,
        last_step: u64,
    },
    Env {
        env: String,
        rl_step: u64,
        episode: Option<u64>,
    },
}

/// A series key's place in the pump's map: the address of its shared key (the handle interns
/// one `Arc` per series), kept alive by the entry so the address is not reused; its ordering,
/// last step, and whether the current `observe` call moved it.
type SeriesSlot = (Arc<SeriesKey>, SeriesOrdering, u64, bool);

/// The pump thread's journal.
pub struct CursorJournal {
    dir: PathBuf,
    stem: String,
    journal: File,
    series: HashMap<usize, SeriesSlot>,
    /// Series the dead writers knew: kept in every snapshot.
    inherited: Vec<Entry>,
    envs: HashMap<String, (u64, Option<u64>)>,
    lines: usize,
    last_snapshot: Instant,
    line: Vec<u8>,
    /// Series (addresses) and environments one `observe` call moved: each is written once,
    /// with its last value, however many of the batch's records moved it.
    moved_series: Vec<usize>,
    moved_envs: Vec<String>,
    broken: bool,
}

impl CursorJournal {
    /// Opens this process's journal for `run` under `spool_dir`, after merging the journals of
    /// writers that are gone. Returns the journal and the cursors they held.
    pub fn open(
        spool_dir: &Path,
        run: &RunIdentity,
    ) -> Result<(CursorJournal, Vec<CursorSeed>), SpoolError> {
        let dir = run_dir(spool_dir, run).join("cursors");
        crate::files::create_private_dir(&dir).map_err(|e| SpoolError::io(&dir, e))?;
        let mut merged = Merged::default();
        let mut dead = Vec::new();
        for path in journals(&dir) {
            let Ok(file) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
            else {
                continue;
            };
            if !matches!(file.try_lock_exclusive(), Ok(true)) {
                continue; // its writer is alive
            }
            merged.read(&path.with_extension("snapshot"));
            merged.read(&path);
            dead.push((path, file));
        }
        let created_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let stem = format!(
            "w-{created_ms:013}-{}-{:08x}",
            std::process::id(),
            crate::model::SpanId::random().0 as u32
        );
        let path = dir.join(format!("{stem}.journal"));
        let journal =
            crate::files::create_new_private_file(&path).map_err(|e| SpoolError::io(&path, e))?;
        if !matches!(journal.try_lock_exclusive(), Ok(true)) {
            return Err(SpoolError::Locked(path));
        }
        let seeds = merged.seeds();
        let mut this = CursorJournal {
            dir,
            stem,
            journal,
            series: HashMap::new(),
            inherited: merged.series_entries(),
            envs: merged.envs.clone(),
            lines: 0,
            last_snapshot: Instant::now(),
            line: Vec::new(),
            moved_series: Vec::new(),
            moved_envs: Vec::new(),
            broken: false,
        };
        // What the dead writers knew stays on disk in this writer's snapshot before theirs go.
        this.write_snapshot()?;
        for (path, _lock) in dead {
            let _ = std::fs::remove_file(path.with_extension("snapshot"));
            let _ = std::fs::remove_file(&path);
        }
        Ok((this, seeds))
    }

    /// Its files (journal and snapshot): the runtime deletes them after a close that left
    /// nothing in any spool (the backends then know every cursor).
    pub fn files(&self) -> Vec<PathBuf> {
        vec![
            self.dir.join(format!("{}.journal", self.stem)),
            self.dir.join(format!("{}.snapshot", self.stem)),
        ]
    }

    /// Notes the cursors `records` move (local records only: forwarded ones move none).
    pub fn observe(&mut self, records: &[Record]) {
        if self.broken {
            return;
        }
        for record in records {
            match record {
                Record::Metric(m) => {
                    if let Some(last) = m.steps.iter().copied().max() {
                        self.observe_step(&m.series, m.ordering, last);
                    }
                }
                Record::Scalar(p) => self.observe_step(&p.series, p.ordering, p.step),
                Record::Rl(rl) => {
                    for (env, episode) in rl.envs.iter().zip(&rl.episodes) {
                        let current = self.envs.get(env.as_str()).copied();
                        let next = current.map_or((rl.rl_step, *episode), |(s, e)| {
                            (s.max(rl.rl_step), e.max(*episode))
                        });
                        if current != Some(next) {
                            self.envs.insert(env.clone(), next);
                            self.moved_envs.push(env.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        if self.moved_series.is_empty() && self.moved_envs.is_empty() {
            return;
        }
        self.line.clear();
        for address in self.moved_series.drain(..) {
            if let Some(slot) = self.series.get_mut(&address) {
                slot.3 = false;
                push_line(&mut self.line, &series_entry(&slot.0, slot.1, slot.2));
            }
        }
        self.moved_envs.sort_unstable();
        self.moved_envs.dedup();
        for env in self.moved_envs.drain(..) {
            if let Some(&(rl_step, episode)) = self.envs.get(&env) {
                let entry = Entry::Env {
                    env,
                    rl_step,
                    episode,
                };
                push_line(&mut self.line, &entry);
            }
        }
        self.lines += self.line.iter().filter(|b| **b == b'\n').count();
        // One write per batch: a killed process leaves at most one torn line.
        if let Err(e) = self.journal.write_all(&self.line) {
            self.fail(&e.to_string());
            return;
        }
        if self.lines >= SNAPSHOT_LINES || self.last_snapshot.elapsed() >= SNAPSHOT_EVERY {
            if let Err(e) = self.write_snapshot() {
                self.fail(&e.to_string());
            }
        }
    }

    /// Notes that `series` reached step `last` (a cursor moves forward only).
    fn observe_step(&mut self, series: &Arc<SeriesKey>, ordering: SeriesOrdering, last: u64) {
        let address = Arc::as_ptr(series) as usize;
        let first_move = match self.series.get_mut(&address) {
            Some(slot) if last <= slot.2 => return,
            Some(slot) => {
                let first = !slot.3;
                slot.2 = last;
                slot.3 = true;
                first
            }
            None => {
                let slot = (series.clone(), ordering, last, true);
                self.series.insert(address, slot);
                true
            }
        };
        if first_move {
            self.moved_series.push(address);
        }
    }

    fn fail(&mut self, why: &str) {
        self.broken = true;
        tracing::warn!(target: "telemetron", "cursor journal in {}: {why}; no longer written", self.dir.display());
    }

    /// Writes every known cursor to the snapshot, then starts the journal over.
    fn write_snapshot(&mut self) -> Result<(), SpoolError> {
        let mut text = Vec::new();
        for entry in &self.inherited {
            push_line(&mut text, entry);
        }
        for (key, ordering, last, _) in self.series.values() {
            push_line(&mut text, &series_entry(key, *ordering, *last));
        }
        for (env, (rl_step, episode)) in &self.envs {
            let entry = Entry::Env {
                env: env.clone(),
                rl_step: *rl_step,
                episode: *episode,
            };
            push_line(&mut text, &entry);
        }
        let path = self.dir.join(format!("{}.snapshot", self.stem));
        let tmp = self.dir.join(format!("{}.snapshot.tmp", self.stem));
        let _ = std::fs::remove_file(&tmp);
        let mut file =
            crate::files::create_new_private_file(&tmp).map_err(|e| SpoolError::io(&tmp, e))?;
        file.write_all(&text).map_err(|e| SpoolError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| SpoolError::io(&path, e))?;
        self.journal
            .set_len(0)
            .map_err(|e| SpoolError::io(&path, e))?;
        self.lines = 0;
        self.last_snapshot = Instant::now();
        Ok(())
    }
}

fn series_entry(key: &SeriesKey, ordering: SeriesOrdering, last_step: u64) -> Entry {
    Entry::Series {
        name: key.name().to_string(),
        scale: key.scale().as_str().to_string(),
        labels: key.labels().to_vec(),
        ordered: ordering == SeriesOrdering::Ordered,
        last_step,
    }
}

fn push_line(out: &mut Vec<u8>, entry: &Entry) {
    if serde_json::to_writer(&mut *out, entry).is_ok() {
        out.push(b'\n');
    }
}

fn journals(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "journal"))
        .collect();
    found.sort();
    found
}

/// A series as the journal names it: metric name, scale, labels.
type SeriesName = (String, String, Vec<(String, String)>);

/// Cursors merged from dead writers' files: the greatest step of each.
#[derive(Default)]
struct Merged {
    series: HashMap<SeriesName, (bool, u64)>,
    envs: HashMap<String, (u64, Option<u64>)>,
}

impl Merged {
    /// Reads a snapshot or journal; a torn last line (a killed writer) is skipped.
    fn read(&mut self, path: &Path) {
        let Ok(text) = std::fs::read(path) else {
            return;
        };
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<Entry>(line) {
                Ok(Entry::Series {
                    name,
                    scale,
                    labels,
                    ordered,
                    last_step,
                }) => {
                    let slot = self
                        .series
                        .entry((name, scale, labels))
                        .or_insert((ordered, last_step));
                    slot.1 = slot.1.max(last_step);
                }
                Ok(Entry::Env {
                    env,
                    rl_step,
                    episode,
                }) => {
                    let slot = self.envs.entry(env).or_insert((rl_step, episode));
                    slot.0 = slot.0.max(rl_step);
                    slot.1 = slot.1.max(episode);
                }
                Err(_) => {}
            }
        }
    }

    fn series_entries(&self) -> Vec<Entry> {
        self.series
            .iter()
            .map(
                |((name, scale, labels), (ordered, last_step))| Entry::Series {
                    name: name.clone(),
                    scale: scale.clone(),
                    labels: labels.clone(),
                    ordered: *ordered,
                    last_step: *last_step,
                },
            )
            .collect()
    }

    fn seeds(&self) -> Vec<CursorSeed> {
        let mut seeds = Vec::new();
        for ((name, scale, labels), (ordered, last_step)) in &self.series {
            let Ok(scale) = Scale::parse(scale) else {
                continue;
            };
            let Ok(key) = SeriesKey::new(name, scale, labels.clone()) else {
                continue;
            };
            seeds.push(CursorSeed::LastStep {
                key,
                ordering: if *ordered {
                    SeriesOrdering::Ordered
                } else {
                    SeriesOrdering::Unordered
                },
                last_step: *last_step,
            });
        }
        for (env, (rl_step, episode)) in &self.envs {
            seeds.push(CursorSeed::Env {
                env: env.clone(),
                last_rl_step: *rl_step,
                last_episode: *episode,
            });
        }
        seeds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricPoints, Timestamp, TimestampsMs, Values};

    fn points(key: &Arc<SeriesKey>, steps: Vec<u64>) -> Record {
        Record::from(MetricPoints {
            series: key.clone(),
            ordering: SeriesOrdering::Ordered,
            values: Values::F32(vec![0.5; steps.len()].into()),
            steps: steps.into(),
            timestamps_ms: TimestampsMs::None,
            time: Timestamp(0),
        })
    }

    #[test]
    fn a_dead_writers_cursors_seed_the_next_one() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunIdentity {
            run_name: "r".into(),
            ..Default::default()
        };
        let key = Arc::new(SeriesKey::new("loss", Scale::MlStep, Vec::new()).unwrap());
        let (mut first, seeds) = CursorJournal::open(tmp.path(), &run).unwrap();
        assert!(seeds.is_empty());
        first.observe(&[points(&key, vec![0, 1, 2])]);
        first.observe(&[points(&key, vec![3])]);
        assert!(matches!(points(&key, vec![4]), Record::Scalar(_)));
        first.observe(&[points(&key, vec![4])]);
        // A second live writer of the run: its journal is not taken.
        let (_alive, seeds) = CursorJournal::open(tmp.path(), &run).unwrap();
        assert!(seeds.is_empty(), "{seeds:?}");
        drop(first); // killed: its lock goes
        let (_next, seeds) = CursorJournal::open(tmp.path(), &run).unwrap();
        let [CursorSeed::LastStep {
            key: k,
            last_step,
            ordering,
        }] = &seeds[..]
        else {
            panic!("{seeds:?}")
        };
        assert_eq!(
            (k.name(), *last_step, *ordering),
            ("loss", 4, SeriesOrdering::Ordered)
        );
        // Merged into the new writer's snapshot; the dead writer's files are gone.
        let files = std::fs::read_dir(run_dir(tmp.path(), &run).join("cursors"))
            .unwrap()
            .count();
        assert_eq!(files, 4, "two live writers: a journal and a snapshot each");
    }

    #[test]
    fn a_batch_writes_each_moved_cursor_once_with_its_last_value() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunIdentity {
            run_name: "r".into(),
            ..Default::default()
        };
        let loss = Arc::new(SeriesKey::new("loss", Scale::MlStep, Vec::new()).unwrap());
        let lr = Arc::new(SeriesKey::new("lr", Scale::MlStep, Vec::new()).unwrap());
        let (mut journal, _) = CursorJournal::open(tmp.path(), &run).unwrap();
        // 1,000 scalar calls in one pump batch: one line per series, not one per call.
        let batch: Vec<Record> = (0..1000)
            .flat_map(|step| [points(&loss, vec![step]), points(&lr, vec![step])])
            .collect();
        journal.observe(&batch);
        journal.observe(&[points(&loss, vec![3])]); // behind the cursor: nothing to write
        let text = std::fs::read_to_string(&journal.files()[0]).unwrap();
        let lines: Vec<Entry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for line in &lines {
            let Entry::Series { last_step, .. } = line else {
                panic!("{line:?}")
            };
            assert_eq!(*last_step, 999);
        }
        journal.observe(&[points(&loss, vec![1000])]);
        let text = std::fs::read_to_string(&journal.files()[0]).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
