//! Recorder plugins that ship with Telemetron.

mod span_stats;

pub use span_stats::{SpanStats, SpanStatsConfig, SPAN_STATS_EVENT};
