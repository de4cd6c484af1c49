//! Records a backend accepted a request for but rejected (OTLP partial success).

use std::fmt;
use std::sync::Arc;

use crate::actors::Shared;
use crate::metrics::{ExporterCounter, ExporterCounters};
use crate::model::RecordKind;

/// Given to every exporter in its [`ExporterContext`](super::ExporterContext): counts records
/// the backend rejected inside an accepted request as dropped by this exporter, and reports
/// the backend's reason through the runtime's `error_strategy`.
#[derive(Clone)]
pub struct Rejections {
    inner: Option<(String, Arc<ExporterCounters>, Arc<Shared>)>,
}

impl Rejections {
    pub(crate) fn new(
        exporter: String,
        counters: Arc<ExporterCounters>,
        shared: Arc<Shared>,
    ) -> Self {
        Rejections {
            inner: Some((exporter, counters, shared)),
        }
    }

    /// A sink that goes nowhere (an exporter used outside a runtime).
    pub fn detached() -> Self {
        Rejections { inner: None }
    }

    /// `count` records of `kind` were rejected, for `reason`.
    pub fn rejected(&self, kind: RecordKind, count: u64, reason: &str) {
        if count == 0 {
            return;
        }
        if let Some((exporter, counters, shared)) = &self.inner {
            counters.add(ExporterCounter::Dropped, kind, count);
            shared.report(format!(
                "exporter {exporter}: the backend rejected {count} {} record(s): {reason}",
                kind.as_str()
            ));
        }
    }
}

impl fmt::Debug for Rejections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rejections")
    }
}
