//! One request as it travels: encoded once, kept as bytes until acknowledged (re-sent as they
//! are after a reconnect), with what it declares and the records it carries.

use bytes::Bytes;
use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunRequest;
use telemetron_proto::metrana::ingestion::v1::types::SeriesDeclaration;
use telemetron_runtime::model::RecordKind;
use telemetron_runtime::Count;

/// An encoded request, the declarations it introduces, the records it carries by kind
/// (acknowledged together), and the batch it was built from.
pub(crate) struct Outgoing {
    pub encoded: Bytes,
    pub declarations: Vec<SeriesDeclaration>,
    pub records: Vec<(RecordKind, Count)>,
    pub batch: u64,
}

impl Outgoing {
    /// Encodes `request` once, after `encoded` (fields encoded already, e.g. RL points; field
    /// order does not matter in protobuf, and appending there copies nothing else).
    pub(crate) fn new(
        request: &UpdateRunRequest,
        mut encoded: Vec<u8>,
        records: Vec<(RecordKind, Count)>,
        batch: u64,
    ) -> Self {
        encoded.reserve(request.encoded_len());
        request.encode_raw(&mut encoded);
        Outgoing {
            encoded: Bytes::from(encoded),
            declarations: request.series_declarations.clone(),
            records,
            batch,
        }
    }
}
