//! Recorder plugins that ship with Telemetron.

mod span_stats;
mod system_metrics;

pub use span_stats::{SpanStats, SpanStatsConfig, SPAN_STATS_EVENT};
pub use system_metrics::{SystemMetrics, SystemMetricsConfig, SYSTEM_METRICS_THREAD};
