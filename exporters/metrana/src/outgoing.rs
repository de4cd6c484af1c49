//! One request as it travels: encoded once, kept as bytes until acknowledged (re-sent as they
//! are after a reconnect), with what it declares and the records it carries.

use bytes::Bytes;
use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunRequest;
use telemetron_proto::metrana::ingestion::v1::types::SeriesDeclaration;
use telemetron_runtime::{DeliveryId, KindCounts, RecordBatch};

/// An encoded request, the declarations it introduces, the records it carries by kind
/// (acknowledged together), and the batch it was built from.
pub(crate) struct Outgoing {
    pub encoded: Bytes,
    pub declarations: Vec<SeriesDeclaration>,
    pub records: KindCounts,
    pub batch: u64,
    /// Where it came from: a spooled frame (settled with the spool when acknowledged or
    /// refused), or the batch and the positions of the records it carries (handed back to the
    /// spool when the backend stops answering).
    pub origin: Origin,
    /// The (session, sequence) it goes out under.
    pub sent_as: (u64, u64),
}

/// What an [`Outgoing`] carries, for the spool.
pub(crate) enum Origin {
    /// Built from a batch of the runtime: the batch and the positions of its records here.
    Live(RecordBatch, Vec<u32>),
    /// A spooled frame, delivered under this identity.
    Spooled(DeliveryId),
    /// Carries no records (`CloseRun`).
    Nothing,
}

impl Outgoing {
    /// Encodes `request` once, after `encoded` (fields encoded already, e.g. RL points; field
    /// order does not matter in protobuf, and appending there copies nothing else).
    pub(crate) fn new(
        request: &UpdateRunRequest,
        mut encoded: Vec<u8>,
        records: KindCounts,
        batch: u64,
        origin: Origin,
    ) -> Self {
        encoded.reserve(request.encoded_len());
        request.encode_raw(&mut encoded);
        Outgoing {
            encoded: Bytes::from(encoded),
            declarations: request.series_declarations.clone(),
            records,
            batch,
            origin,
            sent_as: (request.logger_session_id, request.sequence_number),
        }
    }
}
