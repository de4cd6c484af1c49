//! RL series on the caller's thread: per-(series, env) cursors give each environment its
//! episode and environment-step axis; one record carries every environment of a call.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::env_list::EnvList;
use super::Runtime;
use crate::error::EnqueueError;
use crate::model::{
    MinorSteps, Record, RecordKind, RlPoints, Scale, SeriesKey, SeriesOrdering, Timestamp,
    TimestampsMs, Values,
};

/// How a `log_rl_environment_step` call gives environment steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvSteps {
    /// Continue each environment's axis; a new episode restarts it at 0 (or 1).
    Auto {
        /// Number an episode's steps from 1 (episodic series only).
        start_from_one: bool,
    },
    /// Each environment's first step of this call (one per environment).
    Start(Vec<u64>),
    /// Every value's step (environments × values per environment, row-major).
    Each(Vec<u64>),
}

/// One `log_rl_environment_step` call: `envs.len()` environments × `per_env` values.
#[derive(Clone, Debug, PartialEq)]
pub struct RlStepCall {
    /// The series (its scale is `ENVIRONMENT_STEP`).
    pub key: SeriesKey,
    /// The major step.
    pub rl_step: u64,
    /// The environments ([`Runtime::env_list`]).
    pub envs: EnvList,
    /// Each environment's episode, or all `None` for a non-episodic series.
    pub episodes: Vec<Option<u64>>,
    /// Values per environment.
    pub per_env: usize,
    /// Row-major values.
    pub values: Values,
    /// Environment steps.
    pub env_steps: EnvSteps,
    /// Timestamps: none, one, or one per value.
    pub timestamps_ms: TimestampsMs,
}

#[derive(Clone, Copy)]
struct EnvCursor {
    rl_step: u64,
    episode: Option<u64>,
    /// The next environment step (ENVIRONMENT_STEP) or episode (EPISODE) when automatic.
    next: u64,
}

pub(crate) struct RlCursors {
    /// Which runtime these are (an [`EnvList`]'s ids are only valid here).
    owner: u64,
    /// Environment ids, interned: one allocation per environment, not per (series, env).
    env_ids: HashMap<String, u32>,
    /// Per environment (by interned id): the last rl_step and episode across series, once it
    /// logged or was seeded.
    env_last: Vec<Option<(u64, Option<u64>)>>,
    /// Per series, per environment id.
    series: HashMap<Arc<SeriesKey>, HashMap<u32, EnvCursor>>,
    /// Whether each ENVIRONMENT_STEP series is episodic (pinned by its first call).
    episodic: HashMap<Arc<SeriesKey>, bool>,
}

impl Default for RlCursors {
    fn default() -> Self {
        static RUNTIMES: AtomicU64 = AtomicU64::new(0);
        RlCursors {
            owner: RUNTIMES.fetch_add(1, Ordering::Relaxed),
            env_ids: HashMap::default(),
            env_last: Vec::new(),
            series: HashMap::default(),
            episodic: HashMap::default(),
        }
    }
}

impl RlCursors {
    pub(super) fn owner(&self) -> u64 {
        self.owner
    }

    pub(super) fn intern(&mut self, env: &str) -> u32 {
        if let Some(&id) = self.env_ids.get(env) {
            return id;
        }
        let id = self.env_last.len() as u32;
        self.env_ids.insert(env.to_string(), id);
        self.env_last.push(None);
        id
    }
}

pub(crate) type SharedRlCursors = Mutex<RlCursors>;

impl Runtime {
    /// Logs values of several environments at one `rl_step` (Metrana's vectorized
    /// `log_rl_environment_step`). Refused, with nothing recorded, when: the shapes disagree,
    /// an environment repeats, a value is not finite, `rl_step` goes back for an environment,
    /// the series switches between episodic and not, or explicit steps do not move forward
    /// within an episode.
    pub fn log_rl_environment_step(&self, call: RlStepCall) -> Result<(), EnqueueError> {
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Rl);
            e
        };
        let RlStepCall {
            key,
            rl_step,
            envs,
            episodes,
            per_env,
            values,
            env_steps,
            timestamps_ms,
        } = call;
        let m = envs.len();
        check_shapes(
            &key,
            Scale::EnvironmentStep,
            m,
            &episodes,
            per_env,
            &values,
            &timestamps_ms,
        )
        .map_err(refuse)?;
        let episodic = episodes[0].is_some();
        if episodes.iter().any(|e| e.is_some() != episodic) {
            return Err(refuse(EnqueueError::invalid(
                "episode",
                "give an episode for every environment, or None for all (non-episodic)",
            )));
        }
        match &env_steps {
            EnvSteps::Auto {
                start_from_one: true,
            } if !episodic => {
                return Err(refuse(EnqueueError::invalid(
                    "auto_start_from_one",
                    "needs an episodic series (give episode=)",
                )))
            }
            EnvSteps::Start(s) if s.len() != m => {
                return Err(refuse(EnqueueError::invalid(
                    "env_step",
                    format!("{} starts for {m} environments", s.len()),
                )))
            }
            EnvSteps::Each(s) if s.len() != m * per_env => {
                return Err(refuse(EnqueueError::invalid(
                    "env_step",
                    format!("{} steps for {} values", s.len(), m * per_env),
                )))
            }
            _ => {}
        }
        self.pin_kind(key.name(), crate::model::ValueKind::Float)
            .map_err(refuse)?;
        let mut cursors = self.inner.rl.lock();
        let key = Arc::new(key);
        if let Some(&pinned) = cursors.episodic.get(&key) {
            if pinned != episodic {
                let was = if pinned { "episodic" } else { "non-episodic" };
                return Err(refuse(EnqueueError::invalid(
                    "episode",
                    format!("{key:?} is {was}; the first call pins it"),
                )));
            }
        }
        // Automatic steps and given starts are one run per environment: nothing per value.
        let mut starts = Vec::with_capacity(m);
        let mut next_cursors = Vec::with_capacity(m);
        let ids = envs.ids_in(&mut cursors);
        let known = cursors.series.get(&key);
        for (i, (env, id)) in envs.names().iter().zip(ids.iter()).enumerate() {
            let cursor = known.and_then(|k| k.get(id)).copied();
            check_rl_step(&key, env, rl_step, cursor).map_err(refuse)?;
            let same_episode = cursor.is_some_and(|c| c.episode == episodes[i]);
            let floor = same_episode.then(|| cursor.map_or(0, |c| c.next));
            let (first, last, increasing) = match &env_steps {
                EnvSteps::Auto { start_from_one } => {
                    let start = floor.unwrap_or(u64::from(*start_from_one));
                    (start, start + per_env as u64 - 1, true)
                }
                EnvSteps::Start(given) => (given[i], given[i] + per_env as u64 - 1, true),
                EnvSteps::Each(all) => {
                    let row = &all[i * per_env..(i + 1) * per_env];
                    let increasing = row.windows(2).all(|w| w[0] < w[1]);
                    (row[0], row[row.len() - 1], increasing)
                }
            };
            if !increasing || floor.is_some_and(|f| first < f) {
                return Err(refuse(EnqueueError::invalid(
                    "env_step",
                    format!(
                        "environment steps of {key:?} in env {env} must increase within episode {:?} (next is {})",
                        episodes[i],
                        floor.unwrap_or(0)
                    ),
                )));
            }
            starts.push(first);
            next_cursors.push(EnvCursor {
                rl_step,
                episode: episodes[i],
                next: last + 1,
            });
        }
        let minor_steps = match env_steps {
            EnvSteps::Each(all) => MinorSteps::Each(all),
            _ => MinorSteps::Runs(starts),
        };
        let record = Record::Rl(Box::new(RlPoints {
            series: key.clone(),
            ordering: SeriesOrdering::Ordered,
            rl_step,
            envs: envs.shared_names(),
            episodes,
            per_env,
            minor_steps,
            values,
            timestamps_ms,
            time: Timestamp::now(),
        }));
        self.enqueue(record)?;
        cursors.episodic.insert(key.clone(), episodic);
        commit(&mut cursors, &key, &ids, next_cursors);
        Ok(())
    }

    /// Logs one value per environment at `rl_step` on a per-episode series (Metrana's
    /// `log_rl_episode`): `episodes: None` continues each environment's episode count
    /// (ordered); explicit episodes make the series unordered (many writers).
    pub fn log_rl_episode(
        &self,
        key: SeriesKey,
        rl_step: u64,
        envs: EnvList,
        episodes: Option<Vec<u64>>,
        values: Values,
        timestamps_ms: TimestampsMs,
    ) -> Result<(), EnqueueError> {
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Rl);
            e
        };
        let m = envs.len();
        let given: Vec<Option<u64>> = match &episodes {
            Some(e) => e.iter().copied().map(Some).collect(),
            None => vec![None; m],
        };
        check_shapes(&key, Scale::Episode, m, &given, 1, &values, &timestamps_ms)
            .map_err(refuse)?;
        self.pin_kind(key.name(), crate::model::ValueKind::Float)
            .map_err(refuse)?;
        let mut cursors = self.inner.rl.lock();
        let key = Arc::new(key);
        let mut resolved = Vec::with_capacity(m);
        let mut next_cursors = Vec::with_capacity(m);
        let ids = envs.ids_in(&mut cursors);
        let known = cursors.series.get(&key);
        for (i, (env, id)) in envs.names().iter().zip(ids.iter()).enumerate() {
            let cursor = known.and_then(|k| k.get(id)).copied();
            check_rl_step(&key, env, rl_step, cursor).map_err(refuse)?;
            let episode = given[i].unwrap_or_else(|| cursor.map_or(0, |c| c.next));
            resolved.push(episode);
            next_cursors.push(EnvCursor {
                rl_step,
                episode: Some(episode),
                next: cursor.map_or(episode + 1, |c| c.next.max(episode + 1)),
            });
        }
        let ordering = if episodes.is_some() {
            SeriesOrdering::Unordered
        } else {
            SeriesOrdering::Ordered
        };
        self.enqueue(Record::Rl(Box::new(RlPoints {
            series: key.clone(),
            ordering,
            rl_step,
            envs: envs.shared_names(),
            episodes: resolved.iter().copied().map(Some).collect(),
            per_env: 1,
            minor_steps: MinorSteps::Runs(resolved),
            values,
            timestamps_ms,
            time: Timestamp::now(),
        })))?;
        commit(&mut cursors, &key, &ids, next_cursors);
        Ok(())
    }

    /// `(last rl_step, last episode)` of an environment across its series, if it logged.
    pub fn env_last_rl_step_and_episode(&self, env: &str) -> Option<(u64, Option<u64>)> {
        let cursors = self.inner.rl.lock();
        let id = *cursors.env_ids.get(env)?;
        cursors.env_last[id as usize]
    }

    /// For a call that gives no episode: `None` when the `ENVIRONMENT_STEP` series is pinned
    /// non-episodic, else each environment's current episode (its last one, 0 before any).
    pub fn current_episodes(&self, key: &SeriesKey, envs: &[String]) -> Option<Vec<u64>> {
        let cursors = self.inner.rl.lock();
        if cursors.episodic.get(key) == Some(&false) {
            return None;
        }
        Some(
            envs.iter()
                .map(|env| {
                    cursors
                        .env_ids
                        .get(env.as_str())
                        .and_then(|&id| cursors.env_last[id as usize])
                        .and_then(|(_, episode)| episode)
                        .unwrap_or(0)
                })
                .collect(),
        )
    }

    /// Seeds an environment's cursor from a backend (a resumed run).
    pub fn seed_env(&self, env: &str, last_rl_step: u64, last_episode: Option<u64>) {
        let mut cursors = self.inner.rl.lock();
        let id = cursors.intern(env);
        let entry = cursors.env_last[id as usize].get_or_insert((0, None));
        entry.0 = entry.0.max(last_rl_step);
        entry.1 = entry.1.max(last_episode);
    }
}

fn check_shapes(
    key: &SeriesKey,
    scale: Scale,
    m: usize,
    episodes: &[Option<u64>],
    per_env: usize,
    values: &Values,
    timestamps: &TimestampsMs,
) -> Result<(), EnqueueError> {
    if key.scale() != scale {
        return Err(EnqueueError::invalid(
            "scale",
            format!("{key:?} must have scale {}", scale.as_str()),
        ));
    }
    if m == 0 || per_env == 0 {
        return Err(EnqueueError::invalid("value", "no values"));
    }
    if episodes.len() != m {
        return Err(EnqueueError::invalid(
            "episode",
            format!("{} episodes for {m} environments", episodes.len()),
        ));
    }
    if values.len() != m * per_env {
        return Err(EnqueueError::invalid(
            "value",
            format!("{} values for {m} environments × {per_env}", values.len()),
        ));
    }
    super::series::check_columns(key, values, timestamps)
}

fn check_rl_step(
    key: &SeriesKey,
    env: &str,
    rl_step: u64,
    cursor: Option<EnvCursor>,
) -> Result<(), EnqueueError> {
    match cursor {
        Some(c) if rl_step < c.rl_step => Err(EnqueueError::invalid(
            "rl_step",
            format!(
                "rl_step {rl_step} of {key:?} in env {env} is before its last rl_step {}",
                c.rl_step
            ),
        )),
        _ => Ok(()),
    }
}

fn commit(cursors: &mut RlCursors, key: &Arc<SeriesKey>, ids: &[u32], next: Vec<EnvCursor>) {
    let per_env = cursors
        .series
        .entry(key.clone())
        .or_insert_with(|| HashMap::with_capacity_and_hasher(ids.len(), Default::default()));
    for (id, cursor) in ids.iter().zip(&next) {
        per_env.insert(*id, *cursor);
    }
    for (id, cursor) in ids.iter().zip(next) {
        let last = &mut cursors.env_last[*id as usize];
        *last = Some(match *last {
            Some((rl_step, episode)) => (rl_step.max(cursor.rl_step), episode.max(cursor.episode)),
            None => (cursor.rl_step, cursor.episode),
        });
    }
}
