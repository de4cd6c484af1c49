//! What `close` and `flush` report.

use serde::Serialize;

use crate::actors::exporter_actor::ExporterCloseReport;
use crate::metrics::MetricsSnapshot;
use crate::redact::redact_text;

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

/// What one exporter left in its disk spool at close: kept, not lost (a later process of the
/// run, or `telemetron sync`, delivers it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spooled {
    /// Exporter instance name.
    pub exporter: String,
    /// This runtime's records on disk, not delivered.
    pub records: u64,
    /// Bytes on disk (this runtime's, plus earlier processes' spools it did not finish).
    pub bytes: u64,
    /// This runtime's writer directory.
    pub path: String,
    /// Damaged regions skipped while delivering (each at least one lost frame).
    pub bad_frames: u64,
}

/// The outcome of `close(timeout)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CloseReport {
    /// What was not delivered, per exporter (empty when everything arrived).
    pub undelivered: Vec<Undelivered>,
    /// Whether close gave up on anything at its deadline: an exporter that had not finished (or
    /// stopped waiting for its backend), records left in the ingest queue, or a component
    /// (the renderer) that used up the time.
    pub timed_out: bool,
    /// What stayed in disk spools (undelivered, not lost), per exporter with a spool.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spooled: Vec<Spooled>,
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

    /// One entry per exporter that lost anything: queued or in flight at close, failed after
    /// retries, dropped (by reason), with every cause in `reason`.
    pub(crate) fn from_exporters(
        reports: Vec<ExporterCloseReport>,
        metrics: &MetricsSnapshot,
        causes: &dyn Fn(&str) -> ExporterLosses,
    ) -> Vec<Undelivered> {
        reports
            .into_iter()
            .filter_map(|r| {
                // Records an exporter dropped or failed during the run are undelivered too.
                let total = metrics.exporter_total(&r.name);
                let lost = r.undelivered + total.dropped + total.failed;
                if lost == 0 && r.error.is_none() {
                    return None;
                }
                let losses = causes(&r.name);
                let mut parts = Vec::new();
                match (&r.error, r.undelivered) {
                    (Some(error), 0) => parts.push(error.clone()),
                    (Some(error), n) => parts.push(format!("{n} not delivered at close: {error}")),
                    (None, 0) => {}
                    (None, n) => parts.push(format!("{n} not delivered at close")),
                }
                if total.failed > 0 {
                    parts.push(match &losses.last_error {
                        Some(e) => {
                            format!("{} failed after retries (last error: {e})", total.failed)
                        }
                        None => format!("{} failed after retries", total.failed),
                    });
                }
                let mut explained = 0;
                for (reason, n) in &losses.drop_reasons {
                    parts.push(format!("{n} dropped: {reason}"));
                    explained += n;
                }
                if total.dropped > explained {
                    parts.push(format!("{} dropped", total.dropped - explained));
                }
                Some(Undelivered {
                    exporter: r.name,
                    records: lost,
                    reason: redact_text(&parts.join("; ")),
                })
            })
            .collect()
    }
}

/// Why one exporter lost records, besides its counters.
#[derive(Default)]
pub(crate) struct ExporterLosses {
    /// Its most recent failure.
    pub last_error: Option<String>,
    /// Records it dropped, by reason.
    pub drop_reasons: Vec<(String, u64)>,
}
