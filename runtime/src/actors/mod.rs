//! The actors: the Recorder, the exporter actor wrapper and its blocking worker.

pub(crate) mod exporter_actor;
pub(crate) mod exporter_worker;
pub(crate) mod recorder;
mod shared;
mod span_table;
pub(crate) mod spool_worker;
pub(crate) mod supervision;

pub(crate) use shared::Shared;
