//! The disk spool: a write-ahead segment log per (run, exporter instance, writer process) that
//! keeps what a network exporter could not deliver, and delivers it later in order: when the
//! backend answers again, from a later process of the same run (leftovers first), or with
//! `telemetron sync` after an offline run. See `ARCHITECTURE.md` (Spool) for how the exporter
//! actor wrapper uses it.
//!
//! - [`layout`] says where: `<spool_dir>/<workspace>/<project>/<run_name>/<exporter>/w-<ms>-<pid>-<token>/`
//!   holding `writer.json`, `lock` (an exclusive advisory lock while a process writes or
//!   delivers it), segments `seg-<first frame>.tsp` and `trim.json` (what was delivered).
//! - Frames: length-prefixed, CRC-32C-checked batches in the lossless record encoding
//!   (`telemetron-codec`, given to the runtime as a [`RecordCodec`]), zstd per frame when the
//!   segment says so.
//! - The cursor journal (`cursors/`): the run's step cursors, so a process killed with
//!   `SIGKILL` and restarted resumes its steps without the backend.

mod budget;
mod codec;
mod error;
mod exporter_spool;
mod frame;
pub mod journal;
pub mod layout;
mod leftovers;
mod segment;
mod settings;
mod writer_dir;

pub use budget::SpoolBudget;
pub use codec::RecordCodec;
pub use error::SpoolError;
pub(crate) use exporter_spool::{ExporterSpool, SettledQueue, SpoolStatus};
pub use layout::WriterMeta;
pub use leftovers::{find_spools, FoundSpool};
pub use segment::SpoolCompression;
pub(crate) use settings::SpoolSettings;
pub use settings::{DeliveryPolicy, RunMode, SpoolFsync};
