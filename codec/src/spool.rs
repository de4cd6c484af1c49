//! The encoding of the disk spool's frames: this crate's batches, given to the runtime (which
//! knows no encoding of its own) as a [`RecordCodec`].

use telemetron_runtime::model::Record;
use telemetron_runtime::spool::RecordCodec;
use telemetron_runtime::RunIdentity;

/// The lossless record encoding as the spool's codec: `telemetron::start` hands it to every
/// runtime, so spooled frames are `RecordBatch`es any reader of `records.proto` can read.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpoolCodec;

impl RecordCodec for SpoolCodec {
    fn encode(
        &self,
        run: &RunIdentity,
        records: &mut dyn Iterator<Item = &Record>,
    ) -> Result<Vec<u8>, String> {
        crate::encode(run, records).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<(RunIdentity, Vec<Record>), String> {
        let batch = crate::decode(bytes).map_err(|e| e.to_string())?;
        Ok((batch.run, batch.records))
    }
}
