//! Metric logging: steps resolved from per-series cursors on the caller's thread, validated,
//! then one enqueue of the columns.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Runtime;
use crate::error::EnqueueError;
use crate::model::{
    MetricPoints, Record, RecordKind, RunAttributeValue, RunAttributes, SeriesKey, SeriesOrdering,
    Timestamp, TimestampsMs, Values,
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
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Metric);
            e
        };
        let n = values.len();
        if n == 0 {
            return Err(refuse(EnqueueError::invalid("value", "no values")));
        }
        check_columns(&key, &values, &timestamps_ms).map_err(refuse)?;
        self.pin_kind(key.name(), crate::model::ValueKind::Float)
            .map_err(refuse)?;
        let mut cursors = self.inner.series.map.lock();
        // A known series' key is shared with its records: no allocation per call.
        let (key, cursor) = match cursors.get_key_value(&key) {
            Some((known, cursor)) => (known.clone(), Some(*cursor)),
            None => (Arc::new(key), None),
        };
        if let Some(c) = cursor.filter(|c| c.ordering != ordering) {
            return Err(refuse(EnqueueError::invalid(
                "metric name",
                format!(
                    "{key:?} is {}; ordered and distributed logging cannot be mixed for one series",
                    c.ordering.as_str()
                ),
            )));
        }
        let last = cursor.and_then(|c| c.last_step);
        let steps = match steps {
            Steps::Auto if ordering == SeriesOrdering::Unordered => {
                return Err(refuse(EnqueueError::invalid(
                    "step",
                    "distributed logging needs explicit steps",
                )))
            }
            Steps::Auto => {
                let first = last.map_or(0, |l| l + 1);
                (first..first + n as u64).collect()
            }
            Steps::From(first) => (first..first + n as u64).collect(),
            Steps::Each(steps) if steps.len() != n => {
                return Err(refuse(EnqueueError::invalid(
                    "step",
                    format!("{} steps for {n} values", steps.len()),
                )))
            }
            Steps::Each(steps) => steps,
        };
        if ordering == SeriesOrdering::Ordered {
            let mut previous = last;
            for &step in &steps {
                if previous.is_some_and(|p| step <= p) {
                    return Err(refuse(EnqueueError::invalid(
                        "step",
                        format!(
                            "step {step} of ordered series {key:?} is not after step {}",
                            previous.unwrap_or_default()
                        ),
                    )));
                }
                previous = Some(step);
            }
        }
        let max_step = steps.iter().copied().max();
        let record = Record::Metric(MetricPoints {
            series: key.clone(),
            ordering,
            steps,
            values,
            timestamps_ms,
            time: Timestamp::now(),
        });
        // Under the cursor lock: a concurrent call on the same series gets the next steps.
        self.enqueue(record)?;
        let last_step = match (last, max_step) {
            (Some(l), Some(m)) => Some(l.max(m)),
            (l, m) => l.or(m),
        };
        cursors.insert(
            key,
            Cursor {
                ordering,
                last_step,
            },
        );
        Ok(())
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
        for (path, value) in &updates {
            if path.is_empty() || path.split('/').any(str::is_empty) || path.len() > 1024 {
                return Err(refuse(EnqueueError::invalid(
                    "attribute path",
                    format!("{path:?} must be non-empty '/'-separated segments"),
                )));
            }
            if let RunAttributeValue::Float(f) = value {
                if !f.is_finite() {
                    return Err(refuse(EnqueueError::invalid(
                        "attribute value",
                        format!("{path} is {f}; values must be finite"),
                    )));
                }
            }
        }
        self.enqueue(Record::Attributes(RunAttributes {
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
