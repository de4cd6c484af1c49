//! The Recorder's table of active spans: identity, parentage and start order. Stops are filled
//! in from it (name, parent, start, duration, error status).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::model::{
    Attributes, Name, SpanContext, SpanId, SpanStart, SpanStatus, SpanStop, Timestamp, TraceId,
};

/// Span ids are random, so they are their own hash: no SipHash on every start and stop.
#[derive(Default)]
struct SpanIdHasher(u64);

impl Hasher for SpanIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct ActiveSpan {
    name: Name,
    parent: Option<SpanId>,
    trace_id: TraceId,
    start: Timestamp,
    seq: u64,
    error: Option<String>,
    /// Live attribute updates, merged into the stop's `span_attributes`.
    updated: Attributes,
}

#[derive(Default)]
pub(crate) struct SpanTable {
    active: HashMap<SpanId, ActiveSpan, BuildHasherDefault<SpanIdHasher>>,
    next_seq: u64,
}

impl SpanTable {
    /// Registers a started span; false when a span with its id is already active.
    pub(crate) fn start(&mut self, start: &SpanStart) -> bool {
        let id = start.context.span_id;
        if self.active.contains_key(&id) {
            return false;
        }
        self.next_seq += 1;
        self.active.insert(
            id,
            ActiveSpan {
                name: start.name.clone(),
                parent: start.parent,
                trace_id: start.context.trace_id,
                start: start.time,
                seq: self.next_seq,
                error: None,
                updated: Attributes::new(),
            },
        );
        true
    }

    /// Removes the span and fills its stop; false when it is not active.
    pub(crate) fn stop(&mut self, stop: &mut SpanStop) -> bool {
        match self.active.remove(&stop.context.span_id) {
            Some(span) => {
                fill_stop(stop, span);
                true
            }
            None => false,
        }
    }

    /// Remembers an error on the span (its stop gets status `error`); false when not active.
    pub(crate) fn record_error(&mut self, span: SpanId, message: &str) -> bool {
        match self.active.get_mut(&span) {
            Some(active) => {
                active.error = Some(message.to_string());
                true
            }
            None => false,
        }
    }

    /// Adds attributes to a running span (later values win); false when it is not active.
    pub(crate) fn update(&mut self, span: SpanId, attributes: Attributes) -> bool {
        match self.active.get_mut(&span) {
            Some(active) => {
                active.updated.merge(attributes);
                true
            }
            None => false,
        }
    }

    pub(crate) fn is_active(&self, span: SpanId) -> bool {
        self.active.contains_key(&span)
    }

    /// Stops every active span at `now`, newest first (as OneLogger's `close` does), marked
    /// `stopped_at_close`.
    pub(crate) fn stop_all(&mut self, now: Timestamp) -> Vec<SpanStop> {
        let mut spans: Vec<(SpanId, ActiveSpan)> = self.active.drain().collect();
        spans.sort_by_key(|s| std::cmp::Reverse(s.1.seq));
        spans
            .into_iter()
            .map(|(id, span)| {
                let mut attributes = Attributes::new();
                let _ = attributes.insert("stopped_at_close", true);
                let mut stop = SpanStop {
                    context: SpanContext {
                        trace_id: span.trace_id,
                        span_id: id,
                    },
                    parent: None,
                    name: Name::Borrowed(""),
                    start_time: Timestamp(0),
                    time: now,
                    duration_ns: 0,
                    status: SpanStatus::Ok,
                    attributes,
                    span_attributes: Attributes::new(),
                };
                fill_stop(&mut stop, span);
                stop
            })
            .collect()
    }
}

fn fill_stop(stop: &mut SpanStop, span: ActiveSpan) {
    stop.name = span.name;
    stop.parent = span.parent;
    stop.start_time = span.start;
    stop.duration_ns = stop.time.saturating_since(span.start);
    if !span.updated.is_empty() {
        let mut attributes = span.updated;
        attributes.merge(std::mem::take(&mut stop.span_attributes));
        stop.span_attributes = attributes;
    }
    if stop.status != SpanStatus::Cancelled {
        if let Some(message) = span.error {
            stop.status = SpanStatus::Error(message);
        }
    }
}
