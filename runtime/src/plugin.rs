//! Recorder plugins: observers that see every record before the exporters do.

use std::sync::Arc;

use crate::model::Record;
use crate::RecordSink;

/// What a plugin decides about one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginVerdict {
    /// Pass it on (possibly modified).
    Keep,
    /// Drop it: no exporter sees it (counted as dropped).
    Drop,
}

/// A plugin of the Recorder actor. It sees every record in order, may modify it (enrich),
/// drop it, or add records of its own through `emit`. Records it emits go straight to the
/// exporters, not through other plugins, so plugins cannot loop.
///
/// Called only from the Recorder actor, never concurrently. A panic is caught at the Recorder's
/// handler boundary: the batch is delivered without plugin changes, and every plugin is rebuilt
/// from its factory when the supervisor restarts the Recorder.
pub trait RecorderPlugin: Send + 'static {
    /// The plugin's name, for logs.
    fn name(&self) -> &str;

    /// Sees one record.
    fn on_record(&mut self, record: &mut Record, emit: &mut Vec<Record>) -> PluginVerdict;

    /// The runtime is closing: a last chance to emit summaries. A plugin with threads of its
    /// own stops them here (and in `Drop`, for an instance replaced by a Recorder restart).
    fn on_close(&mut self, _emit: &mut Vec<Record>) {}

    /// Called once after the plugin is built (at start, and for each fresh instance after a
    /// Recorder restart) with a sink for records it produces on threads of its own, such as a
    /// sampler: they enter the ingest queue like any caller's record (counted, under the
    /// runtime's backpressure). The default ignores it.
    fn attach(&mut self, _sink: RecordSink) {}
}

/// Builds a fresh plugin instance: at start and after a Recorder restart.
pub type PluginFactory = Arc<dyn Fn() -> Box<dyn RecorderPlugin> + Send + Sync>;
