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
        let Record::Metric(m) = record else {
            return Stored::Nothing;
        };
        if m.ordering != SeriesOrdering::Ordered {
            return Stored::Nothing;
        }
        let Some(&last) = self.0.get(&*m.series) else {
            return Stored::Nothing;
        };
        // An ordered series' steps increase: the stored ones are a prefix.
        match m.steps.partition_point(|&step| step <= last) {
            0 => Stored::Nothing,
            n if n == m.steps.len() => Stored::All,
            n => Stored::Part(m.slice(n..m.steps.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use telemetron_runtime::model::{Scale, Timestamp, TimestampsMs, Values};

    use super::*;

    fn metric(name: &str, ordering: SeriesOrdering, steps: &[u64]) -> Record {
        Record::Metric(MetricPoints {
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
        // Unordered series take any step, and other series are unknown to the server.
        let unordered = SeriesOrdering::Unordered;
        assert_eq!(stored.of(&metric("loss", unordered, &[1])), Stored::Nothing);
        assert_eq!(stored.of(&metric("acc", ordered, &[1])), Stored::Nothing);
    }
}
