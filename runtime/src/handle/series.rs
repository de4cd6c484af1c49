//! Metric logging: steps resolved from per-series cursors on the caller's thread, validated,
//! then one enqueue of the columns.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Runtime;
use crate::error::EnqueueError;
use crate::model::{
    MetricPoints, Record, RecordKind, RunAttributeValue, RunAttributes, SeriesKey, SeriesOrdering,
    StepColumn, Timestamp, TimestampsMs, Values,
};

/// How a call gives its steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Steps {
    /// Continue after the series' last step (from 0 for a new series).
    Auto,
    /// A contiguous range starting here.
    From(u64),
    /// One step per value.
    Each(Vec<u64>),
}

#[derive(Clone, Copy)]
struct Cursor {
    ordering: SeriesOrdering,
    last_step: Option<u64>,
}

/// Each series' ordering and last step, as this process knows them.
#[derive(Default)]
pub(crate) struct SeriesCursors {
    map: Mutex<HashMap<Arc<SeriesKey>, Cursor>>,
}

/// Values must be finite; per-point timestamps must match the values in number.
pub(super) fn check_columns(
    key: &SeriesKey,
    values: &Values,
    timestamps: &TimestampsMs,
) -> Result<(), EnqueueError> {
    if let Some(i) = values.first_non_finite() {
        return Err(EnqueueError::invalid(
            "value",
            format!(
                "value #{i} of {key:?} is {}; values must be finite",
                values.to_f64()[i]
            ),
        ));
    }
    if let TimestampsMs::Each(ts) = timestamps {
        if ts.len() != values.len() {
            return Err(EnqueueError::invalid(
                "timestamp",
                format!("{} timestamps for {} values", ts.len(), values.len()),
            ));
        }
    }
    Ok(())
}

/// Resolves a call's steps against its series' cursor and validates them.
fn prepare(
    cursors: &HashMap<Arc<SeriesKey>, Cursor>,
    call: MetricCall,
) -> Result<Prepared, EnqueueError> {
    let MetricCall {
        key,
        ordering,
        steps,
        values,
        timestamps_ms,
    } = call;
    let n = values.len();
    // A known series' key is shared with its records: no allocation per call.
    let (key, cursor) = match cursors.get_key_value(&key) {
        Some((known, cursor)) => (known.clone(), Some(*cursor)),
        None => (Arc::new(key), None),
    };
    if let Some(c) = cursor.filter(|c| c.ordering != ordering) {
        return Err(EnqueueError::invalid(
            "metric name",
            format!(
                "{key:?} is {}; ordered and distributed logging cannot be mixed for one series",
                c.ordering.as_str()
            ),
        ));
    }
    let last = cursor.and_then(|c| c.last_step);
    let steps: StepColumn = match steps {
        Steps::Auto if ordering == SeriesOrdering::Unordered => {
            return Err(EnqueueError::invalid(
                "step",
                "distributed logging needs explicit steps",
            ))
        }
        Steps::Auto => {
            let first = last.map_or(0, |l| l + 1);
            (first..first + n as u64).collect()
        }
        Steps::From(first) => (first..first + n as u64).collect(),
        Steps::Each(steps) if steps.len() != n => {
            return Err(EnqueueError::invalid(
                "step",
                format!("{} steps for {n} values", steps.len()),
            ))
        }
        Steps::Each(steps) => steps.into(),
    };
    if ordering == SeriesOrdering::Ordered {
        let mut previous = last;
        for &step in &steps {
            if previous.is_some_and(|p| step <= p) {
                return Err(EnqueueError::invalid(
                    "step",
                    format!(
                        "step {step} of ordered series {key:?} is not after step {}",
                        previous.unwrap_or_default()
                    ),
                ));
            }
            previous = Some(step);
        }
    }
    let max_step = steps.iter().copied().max();
    let last_step = match (last, max_step) {
        (Some(l), Some(m)) => Some(l.max(m)),
        (l, m) => l.or(m),
    };
    Ok(Prepared {
        record: Record::from(MetricPoints {
            series: key.clone(),
            ordering,
            steps,
            values,
            timestamps_ms,
            time: Timestamp::now(),
        }),
        key,
        cursor: Cursor {
            ordering,
            last_step,
        },
    })
}

/// One series' part of a [`Runtime::log_metrics`] call.
#[derive(Clone, Debug)]
pub struct MetricCall {
    /// The series.
    pub key: SeriesKey,
    /// Single-writer (`log`) or many-writer (`log_distributed`).
    pub ordering: SeriesOrdering,
    /// How the points' steps are given.
    pub steps: Steps,
    /// The values.
    pub values: Values,
    /// Unix-millisecond timestamps (none, one, or one per value).
    pub timestamps_ms: TimestampsMs,
}

/// A validated call: its record and the series cursor after it.
struct Prepared {
    record: Record,
    key: Arc<SeriesKey>,
    cursor: Cursor,
}

impl Runtime {
    /// Logs points of one series. Steps and timestamps must match the values in length; values
    /// must be finite; an ordered series only moves forward (strictly increasing steps after
    /// its last one) and may not be written as unordered, nor the reverse. Nothing is recorded
    /// when the call fails.
    pub fn log_metric(
        &self,
        key: SeriesKey,
        ordering: SeriesOrdering,
        steps: Steps,
        values: Values,
        timestamps_ms: TimestampsMs,
    ) -> Result<(), EnqueueError> {
        let call = MetricCall {
            key,
            ordering,
            steps,
            values,
            timestamps_ms,
        };
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Metric);
            e
        };
        self.check_call(&call).map_err(refuse)?;
        let mut cursors = self.inner.series.map.lock();
        let prepared = prepare(&cursors, call).map_err(refuse)?;
        // Under the cursor lock: a concurrent call on the same series gets the next steps.
        self.enqueue(prepared.record)?;
        cursors.insert(prepared.key, prepared.cursor);
        Ok(())
    }

    /// Logs points of several series at once (Metrana's `log({"loss": l, "acc": a})`): every
    /// call is validated first and one invalid call refuses them all, so nothing is recorded
    /// unless everything is valid. (Backpressure still applies per record: under `drop_new` a
    /// full queue drops, and counts, the records that do not fit.)
    pub fn log_metrics(&self, calls: Vec<MetricCall>) -> Result<(), EnqueueError> {
        let count = calls.len();
        let refuse = |e: EnqueueError| {
            for _ in 0..count {
                self.refused(RecordKind::Metric);
            }
            e
        };
        for call in &calls {
            self.check_call(call).map_err(refuse)?;
        }
        let mut cursors = self.inner.series.map.lock();
        let mut prepared = Vec::with_capacity(count);
        for call in calls {
            let p = prepare(&cursors, call).map_err(refuse)?;
            if prepared.iter().any(|q: &Prepared| q.key == p.key) {
                return Err(refuse(EnqueueError::invalid(
                    "metric name",
                    format!("{:?} appears twice in one call", p.key),
                )));
            }
            prepared.push(p);
        }
        for p in prepared {
            self.enqueue(p.record)?;
            cursors.insert(p.key, p.cursor);
        }
        Ok(())
    }

    /// What can be checked without the series' cursor; pins the metric name's value kind.
    fn check_call(&self, call: &MetricCall) -> Result<(), EnqueueError> {
        if call.values.is_empty() {
            return Err(EnqueueError::invalid("value", "no values"));
        }
        check_columns(&call.key, &call.values, &call.timestamps_ms)?;
        self.pin_kind(call.key.name(), crate::model::ValueKind::Float)
    }

    /// Updates run attributes (`env_id: None`) or an environment's (and episode's). Paths are
    /// `/`-separated non-empty segments; floats must be finite.
    pub fn log_run_attributes(
        &self,
        env_id: Option<String>,
        episode: Option<u64>,
        updates: Vec<(String, RunAttributeValue)>,
    ) -> Result<(), EnqueueError> {
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Attributes);
            e
        };
        if episode.is_some() && env_id.is_none() {
            return Err(refuse(EnqueueError::invalid(
                "episode",
                "an episode needs an env_id",
            )));
        }
        if let Some(env) = &env_id {
            crate::model::check_env_id(env)
                .map_err(|reason| refuse(EnqueueError::invalid("env_id", reason)))?;
        }
        for (path, value) in &updates {
            crate::model::check_path(path, 1024)
                .map_err(|reason| refuse(EnqueueError::invalid("attribute path", reason)))?;
            if let RunAttributeValue::Float(f) = value {
                if !f.is_finite() {
                    return Err(refuse(EnqueueError::invalid(
                        "attribute value",
                        format!(
                            "{} is {f}; values must be finite",
                            crate::model::shown(path)
                        ),
                    )));
                }
            }
        }
        self.enqueue(Record::from(RunAttributes {
            env_id,
            episode,
            updates,
            time: Timestamp::now(),
        }))
        .map(drop)
    }

    /// The last step logged to `key` by this process, or seeded by a backend.
    pub fn last_step(&self, key: &SeriesKey) -> Option<u64> {
        self.inner
            .series
            .map
            .lock()
            .get(key)
            .and_then(|c| c.last_step)
    }

    /// Sets a series' cursor from a backend's record of it (a resumed run): the next
    /// auto-incremented step follows `last_step`. Never moves a cursor backwards.
    pub fn seed_last_step(&self, key: SeriesKey, ordering: SeriesOrdering, last_step: u64) {
        let mut cursors = self.inner.series.map.lock();
        let cursor = cursors.entry(Arc::new(key)).or_insert(Cursor {
            ordering,
            last_step: None,
        });
        cursor.last_step = Some(cursor.last_step.map_or(last_step, |l| l.max(last_step)));
    }
}
