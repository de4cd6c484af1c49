//! The `Runtime` handle: `Send + Sync + Clone`, cheap to clone; the last one to drop closes.

mod close;
mod component;
mod distribution;
mod env_list;
mod forward;
mod recording;
mod rl;
mod series;
mod span_guard;
mod start;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

pub use close::FlushError;
pub use component::{Component, RecordSink};
pub use env_list::EnvList;
pub use forward::Forwarded;
pub use recording::ErrorInfo;
pub use rl::{EnvSteps, RlStepCall};
pub use series::{MetricCall, Steps};
pub use span_guard::SpanGuard;
pub use start::{ExporterSlot, PluginSlot, RuntimeConfig};

use crate::actors::Shared;
use crate::health::{ExporterHealth, HealthCell};
use crate::ingest::IngestQueue;
use crate::metrics::{ExporterCounters, MetricsSnapshot};
use crate::settings::{RunIdentity, RuntimeSettings};

/// One exporter's disk spool, as [`Runtime::spool_status`] reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SpoolState {
    /// The exporter instance.
    pub exporter: String,
    /// This runtime's records on disk, not delivered yet.
    pub records: u64,
    /// Bytes of this runtime's spool.
    pub own_bytes: u64,
    /// Bytes of earlier processes' spools still to deliver (leftovers first).
    pub leftover_bytes: u64,
    /// Their writer directories.
    pub leftover_dirs: usize,
    /// Damaged regions skipped so far (each at least one lost frame) and their bytes.
    pub bad_frames: u64,
    /// Bytes skipped with them.
    pub skipped_bytes: u64,
    /// This runtime's writer directory.
    pub path: std::path::PathBuf,
}

/// A running Telemetron runtime. Recording calls copy the record and enqueue it; everything else
/// happens on the runtime's own threads.
///
/// ```
/// use telemetron_runtime::{Runtime, RuntimeConfig, model::Attributes};
/// let runtime = Runtime::start(RuntimeConfig::default()).unwrap();
/// let span = runtime.start_span("train", None, Attributes::new()).unwrap();
/// runtime.event(Some(span), "checkpoint", Attributes::new()).unwrap();
/// runtime.stop_span(span, Attributes::new()).unwrap();
/// let report = runtime.close(std::time::Duration::from_secs(5)).unwrap();
/// assert_eq!(report.undelivered_records(), 0);
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct ExporterView {
    name: String,
    health: Arc<HealthCell>,
    counters: Arc<ExporterCounters>,
    /// Its spool's latest status, when it has a spool.
    spool: Mutex<Option<Arc<Mutex<crate::spool::SpoolStatus>>>>,
}

struct Inner {
    queue: IngestQueue,
    shared: Arc<Shared>,
    exporters: Vec<ExporterView>,
    settings: RuntimeSettings,
    run: RunIdentity,
    closed: AtomicBool,
    system: actix::System,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The value kind each metric name is pinned to.
    kinds: distribution::ValueKinds,
    /// RL cursors: per (series, env) and per env.
    rl: rl::SharedRlCursors,
    /// Metric series cursors (ordering and last step).
    series: series::SeriesCursors,
    /// Closed before the exporters, in the order they were attached.
    components: Mutex<Vec<Arc<dyn Component>>>,
    /// The cursor journal's files: removed by a close that leaves nothing in any spool.
    journal_files: Vec<std::path::PathBuf>,
    /// Keeps the Recorder alive after the pump exits: actix stops an actor whose last address
    /// is gone, which would cancel a close still in progress.
    _recorder: actix::Addr<crate::actors::recorder::Recorder>,
}

impl Runtime {
    /// The run identity every exporter sees.
    pub fn run(&self) -> &RunIdentity {
        &self.inner.run
    }

    /// The settings the runtime was started with.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.inner.settings
    }

    /// Health of every exporter, in configuration order.
    pub fn exporter_health(&self) -> Vec<ExporterHealth> {
        self.inner
            .exporters
            .iter()
            .map(|e| e.health.snapshot())
            .collect()
    }

    /// A snapshot of every self-metric.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics()
    }

    /// Whether the run is offline (`mode: offline`): spooled exporters write to disk only.
    pub fn is_offline(&self) -> bool {
        self.inner.settings.mode == crate::spool::RunMode::Offline
    }

    /// Each spooled exporter's spool: what is on disk (this runtime's, and earlier processes'
    /// leftovers still to deliver), in configuration order.
    pub fn spool_status(&self) -> Vec<SpoolState> {
        self.inner
            .exporters
            .iter()
            .filter_map(|e| {
                let status = e.spool.lock().as_ref()?.lock().clone();
                let records = e.counters.snapshot().values().map(|c| c.spooled).sum();
                Some(SpoolState {
                    exporter: e.name.clone(),
                    records,
                    own_bytes: status.own_bytes,
                    leftover_bytes: status.leftover_bytes,
                    leftover_dirs: status.leftover_dirs,
                    bad_frames: status.bad_frames,
                    skipped_bytes: status.skipped_bytes,
                    path: status.dir,
                })
            })
            .collect()
    }

    /// Under `error_strategy: warn`, the background errors not yet shown to the caller: each
    /// source (an exporter's failures, its disabling, a full queue, ...) at its first
    /// occurrence, then at most once a minute. Costs one relaxed load when there are none, so
    /// bindings call it after every recording call and show the result (Python: `warnings`).
    #[inline]
    pub fn take_notices(&self) -> Option<Vec<String>> {
        self.inner.shared.background.take_notices()
    }
}

impl Inner {
    fn metrics(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            runtime: self.shared.counters.snapshot(),
            points: self.shared.counters.points_snapshot(),
            exporters: self
                .exporters
                .iter()
                .map(|e| (e.name.clone(), e.counters.snapshot()))
                .collect(),
            exporter_points: self
                .exporters
                .iter()
                .map(|e| (e.name.clone(), e.counters.points_snapshot()))
                .collect(),
            panics: self
                .shared
                .counters
                .panics
                .load(std::sync::atomic::Ordering::Relaxed),
            background_errors: self
                .shared
                .counters
                .background_errors
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let timeout = RuntimeSettings::secs(self.settings.close_timeout_secs);
        if let Some(report) = self.close_inner(timeout) {
            if report.undelivered_records() > 0 {
                tracing::warn!(target: "telemetron", "runtime dropped: {} records undelivered", report.undelivered_records());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_handle_is_send_sync_and_clone() {
        fn assert_handle<T: Send + Sync + Clone + 'static>() {}
        assert_handle::<super::Runtime>();
    }
}
