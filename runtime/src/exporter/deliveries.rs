//! What an exporter learns about its records after `export_batch` returned: records a backend
//! rejected inside an accepted request (OTLP partial success, a refused Metrana request), and
//! records a backend acknowledged later (Metrana's acks).

use std::fmt;
use std::sync::Arc;

use crate::actors::Shared;
use crate::background::Source;
use crate::metrics::{ExporterCounter, ExporterCounters};
use crate::model::{Record, RecordKind};
use crate::spool::SettledQueue;

use super::DeliveryId;

/// A number of records, and of the data points they carry (0 when the caller does not know;
/// a plain `u64` converts to records only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Records.
    pub records: u64,
    /// Their data points ([`Record::data_points`](crate::model::Record::data_points)).
    pub points: u64,
}

impl From<u64> for Count {
    fn from(records: u64) -> Self {
        Count { records, points: 0 }
    }
}

impl Count {
    /// One record, with its data points.
    pub fn of(record: &Record) -> Count {
        Count {
            records: 1,
            points: record.data_points(),
        }
    }
}

impl std::ops::AddAssign for Count {
    fn add_assign(&mut self, other: Count) {
        self.records += other.records;
        self.points += other.points;
    }
}

/// Counts by record kind, in the order the kinds first came: what one request or message of an
/// exporter carries, to acknowledge or refuse together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindCounts(Vec<(RecordKind, Count)>);

impl KindCounts {
    /// Adds `n` records (or a [`Count`]) of `kind`.
    pub fn add(&mut self, kind: RecordKind, n: impl Into<Count>) {
        let n = n.into();
        match self.0.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, c)) => *c += n,
            None => self.0.push((kind, n)),
        }
    }

    /// Adds one record with its data points.
    pub fn add_record(&mut self, record: &Record) {
        self.add(record.kind(), Count::of(record));
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: KindCounts) {
        for (kind, n) in other.0 {
            self.add(kind, n);
        }
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each kind with its count.
    pub fn iter(&self) -> impl Iterator<Item = (RecordKind, Count)> + '_ {
        self.0.iter().copied()
    }
}

impl IntoIterator for KindCounts {
    type Item = (RecordKind, Count);
    type IntoIter = std::vec::IntoIter<(RecordKind, Count)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Given to every exporter in its [`ExporterContext`](super::ExporterContext): counts records
/// the backend rejected inside an accepted request as dropped by this exporter (reporting the
/// backend's reason through the runtime's `error_strategy`), and, for an exporter whose
/// [`Exporter::acknowledges_later`](super::Exporter::acknowledges_later) is true, records the
/// backend acknowledged as sent.
#[derive(Clone)]
pub struct Deliveries {
    inner: Option<(String, Arc<ExporterCounters>, Arc<Shared>)>,
    /// Where settled spool frames go (when a spool backs the exporter).
    settled: Option<Arc<SettledQueue>>,
}

impl Deliveries {
    pub(crate) fn new(
        exporter: String,
        counters: Arc<ExporterCounters>,
        shared: Arc<Shared>,
    ) -> Self {
        Deliveries {
            inner: Some((exporter, counters, shared)),
            settled: None,
        }
    }

    /// The same, reporting settled spool frames to `queue`.
    pub(crate) fn with_settled(mut self, queue: Arc<SettledQueue>) -> Self {
        self.settled = Some(queue);
        self
    }

    /// A sink that goes nowhere (an exporter used outside a runtime).
    pub fn detached() -> Self {
        Deliveries {
            inner: None,
            settled: None,
        }
    }

    /// `count` records of `kind` were rejected, for `reason`.
    pub fn rejected(&self, kind: RecordKind, count: impl Into<Count>, reason: &str) {
        let Count {
            records: count,
            points,
        } = count.into();
        if count == 0 {
            return;
        }
        if let Some((exporter, counters, shared)) = &self.inner {
            counters.add(ExporterCounter::Dropped, kind, count);
            counters.add_points(ExporterCounter::Dropped, kind, points);
            counters.drop_reasons.add(reason, count);
            shared.report(
                Source::Rejected(exporter.clone()),
                format!(
                    "exporter {exporter}: the backend rejected {count} {} record(s): {reason}",
                    kind.as_str()
                ),
            );
        }
    }
}

impl Deliveries {
    /// `count` records of `kind` could not be delivered after `export_batch` returned (the
    /// client library gave up on them: a timeout, a purge at close), for `reason`: counted as
    /// failed by this exporter and reported through the runtime's `error_strategy`.
    pub fn failed(&self, kind: RecordKind, count: impl Into<Count>, reason: &str) {
        let Count {
            records: count,
            points,
        } = count.into();
        if count == 0 {
            return;
        }
        if let Some((exporter, counters, shared)) = &self.inner {
            counters.add(ExporterCounter::Failed, kind, count);
            counters.add_points(ExporterCounter::Failed, kind, points);
            shared.report(
                Source::ExportFailed(exporter.clone()),
                format!(
                    "exporter {exporter}: {count} {} record(s) not delivered: {reason}",
                    kind.as_str()
                ),
            );
        }
    }

    /// The spooled frame sent under `id` ([`Exporter::export_spooled`](super::Exporter::export_spooled))
    /// was acknowledged, or refused for good: the spool may trim it. Its records are counted
    /// through [`acknowledged`](Self::acknowledged) or [`rejected`](Self::rejected) as usual.
    pub fn settled(&self, id: DeliveryId) {
        if let Some(queue) = &self.settled {
            queue.lock().push(id);
        }
    }

    /// `count` records of `kind` were acknowledged by the backend.
    pub fn acknowledged(&self, kind: RecordKind, count: impl Into<Count>) {
        let count = count.into();
        if let Some((_, counters, _)) = &self.inner {
            counters.add(ExporterCounter::Sent, kind, count.records);
            counters.add_points(ExporterCounter::Sent, kind, count.points);
        }
    }
}

impl fmt::Debug for Deliveries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deliveries")
    }
}
