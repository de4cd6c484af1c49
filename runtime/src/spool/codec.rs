//! How spooled records become bytes: the runtime knows no encoding (the lossless one lives in
//! `telemetron-codec`, which depends on this crate), so the facade hands one in.

use crate::model::Record;
use crate::settings::RunIdentity;

/// Encodes a batch of records with their run, and decodes it back exactly. The facade gives
/// `telemetron-codec`'s (`RuntimeConfig::codec`); a runtime without one has no spool.
pub trait RecordCodec: Send + Sync + 'static {
    /// The records, in order, as one batch.
    fn encode(
        &self,
        run: &RunIdentity,
        records: &mut dyn Iterator<Item = &Record>,
    ) -> Result<Vec<u8>, String>;

    /// A batch back: its run and records.
    fn decode(&self, bytes: &[u8]) -> Result<(RunIdentity, Vec<Record>), String>;
}
