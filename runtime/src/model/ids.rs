//! Span and trace identity in W3C Trace Context form.

use std::cell::Cell;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A 128-bit trace id; displayed as 32 lowercase hex digits (W3C `trace-id`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub u128);

/// A 64-bit span id; displayed as 16 lowercase hex digits (W3C `parent-id`). Never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub u64);

/// What a caller holds to refer to a span: its trace and its own id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SpanContext {
    /// The trace the span belongs to (inherited from its parent).
    pub trace_id: TraceId,
    /// The span's own id.
    pub span_id: SpanId,
}

impl TraceId {
    /// A fresh random, non-zero trace id.
    pub fn random() -> Self {
        let hi = u128::from(next_random());
        let lo = u128::from(next_random());
        TraceId((hi << 64) | lo | 1)
    }
}

impl SpanId {
    /// A fresh random, non-zero span id.
    pub fn random() -> Self {
        SpanId(next_random() | 1)
    }
}

impl SpanContext {
    /// The W3C `traceparent` header value for this span (sampled flag set).
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

thread_local! {
    // Per-thread generator state: no shared atomic on the hot path.
    static RNG_STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    let addr = &local as *const u8 as u64;
    let tid = std::thread::current().id();
    let tid_hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        tid.hash(&mut h);
        std::process::id().hash(&mut h);
        h.finish()
    };
    splitmix(nanos ^ addr.rotate_left(32) ^ tid_hash)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// wyrand: fast, good enough for ids (not for secrets).
fn next_random() -> u64 {
    RNG_STATE.with(|state| {
        let s = state.get().wrapping_add(0xA076_1D64_78BD_642F);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xE703_7ED1_A0B4_28DB);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_render_in_w3c_form() {
        let ctx = SpanContext {
            trace_id: TraceId(0x0af7651916cd43dd8448eb211c80319c),
            span_id: SpanId(0xb7ad6b7169203331),
        };
        assert_eq!(
            ctx.traceparent(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        );
    }

    #[test]
    fn random_ids_are_nonzero_and_distinct() {
        let a = SpanId::random();
        let b = SpanId::random();
        assert_ne!(a.0, 0);
        assert_ne!(a, b);
        assert_ne!(TraceId::random(), TraceId::random());
    }
}
