//! What `close` and `flush` report.

use serde::Serialize;

use crate::actors::exporter_actor::ExporterCloseReport;
use crate::metrics::MetricsSnapshot;

/// Records one exporter did not deliver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Undelivered {
    /// Exporter instance name, `ingest` for records still in the ingest queue, or a
    /// component's name (`renderer`) for work it did not finish.
    pub exporter: String,
    /// How many records.
    pub records: u64,
    /// Why.
    pub reason: String,
}

/// The outcome of `close(timeout)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CloseReport {
    /// What was not delivered, per exporter (empty when everything arrived).
    pub undelivered: Vec<Undelivered>,
    /// Whether the deadline passed before every exporter finished.
    pub timed_out: bool,
    /// Background errors seen during the run (the first 100).
    pub background_errors: Vec<String>,
    /// Final self-metrics.
    pub metrics: MetricsSnapshot,
}

impl CloseReport {
    /// Total records not delivered.
    pub fn undelivered_records(&self) -> u64 {
        self.undelivered.iter().map(|u| u.records).sum()
    }

    pub(crate) fn from_exporters(
        reports: Vec<ExporterCloseReport>,
        metrics: &MetricsSnapshot,
    ) -> Vec<Undelivered> {
        reports
            .into_iter()
            .filter_map(|r| {
                // Records an exporter dropped or failed during the run are undelivered too.
                let total = metrics.exporter_total(&r.name);
                let lost = r.undelivered + total.dropped + total.failed;
                (lost > 0 || r.error.is_some()).then(|| Undelivered {
                    exporter: r.name,
                    records: lost,
                    reason: r
                        .error
                        .unwrap_or_else(|| "dropped or failed during the run (see metrics)".into()),
                })
            })
            .collect()
    }
}
