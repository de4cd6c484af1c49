//! What an exporter sees of the spool: the identity a spooled frame is delivered under, and
//! the records it hands back when a spool takes over.

use crate::model::Record;

/// The identity a spooled frame is delivered under: its writer's logger id, a session and a
/// sequence number within it. The same frame always goes out under the same identity, however
/// often and by whichever process it is re-sent, so a backend that de-duplicates by (logger,
/// session, sequence) — Metrana — applies it once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId {
    /// The writer (rank) that recorded the frame.
    pub logger_id: u64,
    /// A session of that writer (its spool's own, or the live session a request first went
    /// out under).
    pub session: u64,
    /// The frame's place in the session.
    pub sequence: u64,
}

/// Records an exporter accepted and its backend did not acknowledge, handed back to the spool
/// ([`Exporter::take_unacknowledged`](super::Exporter::take_unacknowledged)).
#[derive(Clone, Debug, PartialEq)]
pub struct Unacknowledged {
    /// The records, in the order they were recorded.
    pub records: Vec<Record>,
    /// The (session, sequence) they already went out under, if the backend de-duplicates by it:
    /// the spool keeps it, so the re-send cannot be applied twice.
    pub sent_as: Option<(u64, u64)>,
}
