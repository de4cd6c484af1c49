//! Histogram and scatter points: one per step, logged with an explicit absolute step.

use std::sync::Arc;

use super::{SeriesKey, Timestamp};

/// Most bins in a histogram (Metrana's limit).
pub const MAX_BINS: usize = 512;
/// Most points in a scatter (Metrana's limit).
pub const MAX_SCATTER_POINTS: usize = 32_768;

/// What a metric holds; pinned by its first point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Float points (`log`, RL series).
    Float,
    /// Counting histograms.
    Histogram,
    /// Density histograms.
    DensityHistogram,
    /// 2-D scatters.
    Scatter,
    /// 3-D scatters.
    Scatter3d,
}

impl ValueKind {
    /// `float`, `histogram`, `density_histogram`, `scatter`, `scatter3d`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Float => "float",
            ValueKind::Histogram => "histogram",
            ValueKind::DensityHistogram => "density_histogram",
            ValueKind::Scatter => "scatter",
            ValueKind::Scatter3d => "scatter3d",
        }
    }
}

/// Bin heights.
#[derive(Clone, Debug, PartialEq)]
pub enum BinValues {
    /// Counts per bin.
    Counts(Vec<u64>),
    /// Densities per bin.
    Densities(Vec<f64>),
}

/// One histogram at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramPoint {
    /// The series.
    pub series: Arc<SeriesKey>,
    /// Its step (re-logging a step overwrites it in the backend).
    pub step: u64,
    /// `bins + 1` strictly increasing finite edges.
    pub bin_edges: Vec<f64>,
    /// The bins.
    pub bins: BinValues,
    /// `(min, max, sum, sum_of_squares)` of the underlying samples, when known.
    pub stats: Option<[f64; 4]>,
    /// Unix milliseconds (stamped when logged if not given).
    pub timestamp_ms: i64,
    /// When it was logged.
    pub time: Timestamp,
}

/// One scatter at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterPoint {
    /// The series.
    pub series: Arc<SeriesKey>,
    /// Its step.
    pub step: u64,
    /// X coordinates.
    pub xs: Vec<f64>,
    /// Y coordinates.
    pub ys: Vec<f64>,
    /// Z coordinates (3-D scatters).
    pub zs: Option<Vec<f64>>,
    /// Axis titles (display metadata).
    pub titles: [Option<String>; 3],
    /// Unix milliseconds (stamped when logged if not given).
    pub timestamp_ms: i64,
    /// When it was logged.
    pub time: Timestamp,
}
