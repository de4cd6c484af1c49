//! Why bytes could not be read as a record batch.

use thiserror::Error;

/// A batch that could not be decoded. Nothing of it is returned: a consumer decides whether to
/// skip the message (and count it) or stop.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CodecError {
    /// Written by a newer, incompatible schema.
    #[error(
        "telemetron records schema {found} is newer than this reader's {supported}: upgrade the consumer"
    )]
    NewerMajor {
        /// The batch's major version.
        found: u32,
        /// The newest major this reader knows.
        supported: u32,
    },
    /// Not a protobuf `RecordBatch`, or truncated.
    #[error("not a telemetron record batch ({len} bytes): {reason}")]
    Malformed {
        /// Size of the input.
        len: usize,
        /// prost's reason.
        reason: String,
    },
    /// A record whose content the data model refuses (a missing span context, a severity out
    /// of range, a bad series key, columns of different lengths, ...).
    #[error("record {index} ({kind}): {reason}")]
    InvalidRecord {
        /// Its position in the batch.
        index: usize,
        /// Its kind (`span_start`, `metric`, ...), `unknown` when it has none.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A record kind this schema does not carry yet (encoding).
    #[error("record kind {0} is not in telemetron records schema 1")]
    UnsupportedKind(&'static str),
    /// A content type that is not this encoding.
    #[error("content type {0:?} is not application/x-telemetron-records")]
    ContentType(String),
}
