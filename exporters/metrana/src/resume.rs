//! What a resumed run already has: the handshake's last step of each ordered series. Records
//! this process recorded itself are always past it (the runtime's cursors start there), but
//! forwarded ones — a Kafka relay reading again what another relay sent before it was killed,
//! a `telemetron replay` of a run partly uploaded — may not be, and the server refuses a whole
//! request over one point at or before an ordered series' last step. So those points are not
//! sent: each is stored exactly once, and the new points beside them are not refused with them.

use std::collections::HashMap;

use telemetron_runtime::model::{MetricPoints, Record, SeriesKey, SeriesOrdering};

/// The last stored step of each ordered series of the run, from the handshake.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoredSteps(HashMap<SeriesKey, u64>);

/// How much of a record the server has.
#[derive(Debug, PartialEq)]
pub(crate) enum Stored {
    /// None of it (or it is not an ordered metric).
    Nothing,
    /// All of it: nothing to send.
    All,
    /// Its first points: the rest, to send.
    Part(MetricPoints),
}

impl StoredSteps {
    pub(crate) fn insert(&mut self, key: SeriesKey, last_step: u64) {
        self.0.insert(key, last_step);
    }

    pub(crate) fn of(&self, record: &Record) -> Stored {
        let m = match record {
            Record::Metric(m) => m,
            Record::Scalar(p) => {
                return match self.last_step(&p.series, p.ordering) {
                    Some(last) if p.step <= last => Stored::All,
                    _ => Stored::Nothing,
                };
            }
            _ => return Stored::Nothing,
        };
        let Some(last) = self.last_step(&m.series, m.ordering) else {
            return Stored::Nothing;
        };
        // An ordered series' steps increase: the stored ones are a prefix.
        match m.steps.partition_point(|&step| step <= last) {
            0 => Stored::Nothing,
            n if n == m.steps.len() => Stored::All,
            n => Stored::Part(m.slice(n..m.steps.len())),
        }
    }

    /// The stored last step of `series` if it is ordered and the server has it.
    fn last_step(&self, series: &SeriesKey, ordering: SeriesOrdering) -> Option<u64> {
        (ordering == SeriesOrdering::Ordered)
            .then(|| self.0.get(series).copied())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use telemetron_runtime::model::{Scale, Timestamp, TimestampsMs, Values};

    use super::*;

    fn metric(name: &str, ordering: SeriesOrdering, steps: &[u64]) -> Record {
        Record::from(MetricPoints {
            series: Arc::new(SeriesKey::new(name, Scale::MlStep, Vec::new()).unwrap()),
            ordering,
            steps: steps.into(),
            values: Values::F64(steps.iter().map(|&s| s as f64).collect()),
            timestamps_ms: TimestampsMs::None,
            time: Timestamp(0),
        })
    }

    #[test]
    fn only_points_past_the_stored_step_of_an_ordered_series_are_sent() {
        let mut stored = StoredSteps::default();
        stored.insert(
            SeriesKey::new("loss", Scale::MlStep, Vec::new()).unwrap(),
            5,
        );
        let ordered = SeriesOrdering::Ordered;
        assert_eq!(stored.of(&metric("loss", ordered, &[3, 4, 5])), Stored::All);
        assert_eq!(
            stored.of(&metric("loss", ordered, &[6, 7])),
            Stored::Nothing
        );
        let Stored::Part(rest) = stored.of(&metric("loss", ordered, &[4, 5, 6, 7])) else {
            panic!("a part")
        };
        assert_eq!(
            (rest.steps.to_vec(), rest.values),
            (vec![6, 7], Values::F64(vec![6.0, 7.0].into()))
        );
        // A single point is in its compact form.
        assert!(matches!(metric("loss", ordered, &[5]), Record::Scalar(_)));
        assert_eq!(stored.of(&metric("loss", ordered, &[5])), Stored::All);
        assert_eq!(stored.of(&metric("loss", ordered, &[6])), Stored::Nothing);
        // Unordered series take any step, and other series are unknown to the server.
        let unordered = SeriesOrdering::Unordered;
        assert_eq!(stored.of(&metric("loss", unordered, &[1])), Stored::Nothing);
        assert_eq!(stored.of(&metric("acc", ordered, &[1])), Stored::Nothing);
    }
}
