//! Histograms and scatters, validated on the caller's thread, and the value-kind pin every
//! metric gets from its first point.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Runtime;
use crate::error::EnqueueError;
use crate::model::{
    BinValues, HistogramPoint, Record, RecordKind, ScatterPoint, SeriesKey, Timestamp, ValueKind,
    MAX_BINS, MAX_SCATTER_POINTS,
};

/// The value kind of every metric name seen.
#[derive(Default)]
pub(crate) struct ValueKinds(Mutex<HashMap<String, ValueKind>>);

fn finite(what: &'static str, values: &[f64]) -> Result<(), EnqueueError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(EnqueueError::invalid(
            what,
            format!("item #{i} is {}; values must be finite", values[i]),
        )),
        None => Ok(()),
    }
}

fn now_ms() -> i64 {
    (Timestamp::now().0 / 1_000_000) as i64
}

impl Runtime {
    /// A metric holds one kind of value for life (float, counting or density histogram, 2-D or
    /// 3-D scatter): the first point pins it.
    pub(crate) fn pin_kind(&self, name: &str, kind: ValueKind) -> Result<(), EnqueueError> {
        let mut kinds = self.inner.kinds.0.lock();
        match kinds.get(name) {
            Some(&pinned) if pinned != kind => Err(EnqueueError::invalid(
                "metric name",
                format!(
                    "{name} holds {} values; it cannot take {}",
                    pinned.as_str(),
                    kind.as_str()
                ),
            )),
            Some(_) => Ok(()),
            None => {
                kinds.insert(name.to_string(), kind);
                Ok(())
            }
        }
    }

    /// Logs a histogram at `step`: `bins + 1` strictly increasing finite edges, at most 512
    /// bins, counts or finite non-negative densities.
    pub fn log_histogram(
        &self,
        key: SeriesKey,
        step: u64,
        bin_edges: Vec<f64>,
        bins: BinValues,
        stats: Option<[f64; 4]>,
        timestamp_ms: Option<i64>,
    ) -> Result<(), EnqueueError> {
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Histogram);
            e
        };
        let n = match &bins {
            BinValues::Counts(c) => c.len(),
            BinValues::Densities(d) => d.len(),
        };
        if n == 0 || n > MAX_BINS {
            return Err(refuse(EnqueueError::invalid(
                "histogram",
                format!("{n} bins; 1 to {MAX_BINS} allowed"),
            )));
        }
        if bin_edges.len() != n + 1 {
            return Err(refuse(EnqueueError::invalid(
                "histogram",
                format!(
                    "{} bin edges for {n} bins (need {})",
                    bin_edges.len(),
                    n + 1
                ),
            )));
        }
        finite("bin edges", &bin_edges).map_err(refuse)?;
        if bin_edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(refuse(EnqueueError::invalid(
                "bin edges",
                "must strictly increase",
            )));
        }
        if let BinValues::Densities(d) = &bins {
            finite("densities", d).map_err(refuse)?;
            if d.iter().any(|v| *v < 0.0) {
                return Err(refuse(EnqueueError::invalid(
                    "densities",
                    "must not be negative",
                )));
            }
        }
        if let Some(stats) = &stats {
            finite("stats", stats).map_err(refuse)?;
        }
        let kind = match bins {
            BinValues::Counts(_) => ValueKind::Histogram,
            BinValues::Densities(_) => ValueKind::DensityHistogram,
        };
        self.pin_kind(key.name(), kind).map_err(refuse)?;
        self.enqueue(Record::Histogram(Box::new(HistogramPoint {
            series: Arc::new(key),
            step,
            bin_edges,
            bins,
            stats,
            timestamp_ms: timestamp_ms.unwrap_or_else(now_ms),
            time: Timestamp::now(),
        })))
        .map(drop)
    }

    /// Logs a 2-D (`zs: None`) or 3-D scatter at `step`: equal-length finite coordinates, at
    /// most 32,768 points (an empty scatter is valid).
    #[allow(clippy::too_many_arguments)]
    pub fn log_scatter(
        &self,
        key: SeriesKey,
        step: u64,
        xs: Vec<f64>,
        ys: Vec<f64>,
        zs: Option<Vec<f64>>,
        titles: [Option<String>; 3],
        timestamp_ms: Option<i64>,
    ) -> Result<(), EnqueueError> {
        let refuse = |e: EnqueueError| {
            self.refused(RecordKind::Scatter);
            e
        };
        let n = xs.len();
        if ys.len() != n || zs.as_ref().is_some_and(|z| z.len() != n) {
            let z = zs
                .as_ref()
                .map_or(String::new(), |z| format!(", {} zs", z.len()));
            return Err(refuse(EnqueueError::invalid(
                "scatter",
                format!(
                    "{n} xs, {} ys{z}: the coordinates must have one length",
                    ys.len()
                ),
            )));
        }
        if n > MAX_SCATTER_POINTS {
            return Err(refuse(EnqueueError::invalid(
                "scatter",
                format!("{n} points; at most {MAX_SCATTER_POINTS}"),
            )));
        }
        finite("xs", &xs).map_err(refuse)?;
        finite("ys", &ys).map_err(refuse)?;
        if let Some(z) = &zs {
            finite("zs", z).map_err(refuse)?;
        }
        if zs.is_none() && titles[2].is_some() {
            return Err(refuse(EnqueueError::invalid(
                "z_title",
                "needs a 3-D scatter (zs)",
            )));
        }
        let kind = if zs.is_some() {
            ValueKind::Scatter3d
        } else {
            ValueKind::Scatter
        };
        self.pin_kind(key.name(), kind).map_err(refuse)?;
        self.enqueue(Record::Scatter(Box::new(ScatterPoint {
            series: Arc::new(key),
            step,
            xs,
            ys,
            zs,
            titles,
            timestamp_ms: timestamp_ms.unwrap_or_else(now_ms),
            time: Timestamp::now(),
        })))
        .map(drop)
    }
}
