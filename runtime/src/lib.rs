//! Telemetron's core: the data model, the supervised actor system (actix on tokio), the
//! Recorder actor with per-exporter health, the exporter trait and its actor wrapper, the
//! bounded ingest queue and self-metrics.
//!
//! This crate knows no exporter: exporters implement [`Exporter`] in their own crates, and
//! `telemetron-config` resolves configuration into a [`RuntimeConfig`].
#![warn(missing_docs)]

mod actors;
mod background;
mod drop_reasons;
mod error;
pub mod exporter;
pub mod files;
mod handle;
mod health;
mod ingest;
mod metrics;
pub mod model;
mod plugin;
mod priority;
pub mod redact;
mod report;
mod secret;
mod settings;
pub mod spool;

pub use actors::exporter_actor::ExporterCloseReport;
pub use error::{EnqueueError, ShutdownError, StartError};
pub use exporter::{
    Count, CursorSeed, CursorSeeds, Deliveries, DeliveryId, ExportError, Exporter, ExporterContext,
    ExporterFactory, KindCounts, RecordBatch, Unacknowledged,
};
pub use handle::FlushError;
pub use handle::{
    Component, EnvList, EnvSteps, ErrorInfo, ExporterSlot, Forwarded, MetricCall, PluginSlot,
    RecordSink, RlStepCall, Runtime, RuntimeConfig, SpanGuard, SpoolState, Steps,
};
pub use health::ExporterHealth;
pub use metrics::{CounterSnapshot, MetricsSnapshot};
pub use plugin::{PluginFactory, PluginVerdict, RecorderPlugin};
pub use priority::{lower_thread_priority, BACKGROUND_NICE};
pub use report::{CloseReport, Spooled, Undelivered};
pub use secret::Secret;
pub use settings::{
    Backpressure, DeliveryPolicy, ErrorStrategy, RunIdentity, RunMode, RuntimeSettings,
    SpoolCompression, SpoolFsync, X264_PRESETS,
};
