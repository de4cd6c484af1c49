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

    /// The records, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.parts
            .iter()
            .flat_map(|(chunk, range)| chunk[range.clone()].iter())
    }
}
