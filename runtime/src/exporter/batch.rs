//! A batch of records handed to an exporter: slices of shared chunks, never copies.

use std::ops::Range;
use std::sync::Arc;

use crate::model::Record;

/// Records in order, as ranges of chunks the Recorder shares between all exporters.
#[derive(Clone, Debug, Default)]
pub struct RecordBatch {
    parts: Vec<(Arc<Vec<Record>>, Range<usize>)>,
    len: usize,
}

impl RecordBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A batch holding all of `records` (handy in tests and for direct calls).
    pub fn from_records(records: Vec<Record>) -> Self {
        let chunk = Arc::new(records);
        let mut batch = Self::new();
        let len = chunk.len();
        batch.push(chunk, 0..len);
        batch
    }

    /// Appends `chunk[range]`.
    pub fn push(&mut self, chunk: Arc<Vec<Record>>, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.len += range.len();
        self.parts.push((chunk, range));
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `other` holds the very same records (the same shared chunks and ranges): how an
    /// exporter recognizes a retry of a batch it already prepared. Holding a clone of the batch
    /// keeps its chunks alive, so their addresses cannot be reused meanwhile.
    pub fn is_same(&self, other: &RecordBatch) -> bool {
        self.len == other.len
            && self.parts.len() == other.parts.len()
            && self
                .parts
                .iter()
                .zip(&other.parts)
                .all(|((a, ra), (b, rb))| Arc::ptr_eq(a, b) && ra == rb)
    }

    /// The records, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.parts
            .iter()
            .flat_map(|(chunk, range)| chunk[range.clone()].iter())
    }
}
