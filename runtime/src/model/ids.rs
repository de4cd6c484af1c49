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

    /// Parses a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`; later versions are read by
    /// their first four fields, as the spec asks). All-zero ids are invalid.
    pub fn from_traceparent(value: &str) -> Result<SpanContext, TraceparentError> {
        let invalid = |why: &str| TraceparentError(format!("{value:?}: {why}"));
        let value_trimmed = value.trim();
        let mut fields = value_trimmed.split('-');
        let (Some(version), Some(trace), Some(span), Some(flags)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid("expected version-traceid-spanid-flags"));
        };
        let hex = |field: &str, len: usize, name: &str| -> Result<u128, TraceparentError> {
            let lower_hex = field
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if field.len() != len || !lower_hex {
                return Err(invalid(&format!(
                    "{name} must be {len} lowercase hex digits"
                )));
            }
            u128::from_str_radix(field, 16).map_err(|e| invalid(&e.to_string()))
        };
        let version_number = hex(version, 2, "version")?;
        if version_number == 0xff {
            return Err(invalid("version ff is forbidden"));
        }
        if version_number == 0 && fields.next().is_some() {
            return Err(invalid("version 00 has exactly four fields"));
        }
        hex(flags, 2, "flags")?;
        let trace_id = hex(trace, 32, "trace-id")?;
        let span_id = hex(span, 16, "parent-id")? as u64;
        if trace_id == 0 || span_id == 0 {
            return Err(invalid("all-zero ids are invalid"));
        }
        Ok(SpanContext {
            trace_id: TraceId(trace_id),
            span_id: SpanId(span_id),
        })
    }
}

/// A `traceparent` value that is not W3C Trace Context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid traceparent {0}")]
pub struct TraceparentError(String);

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
    fn traceparent_round_trips_and_bad_values_are_refused() {
        let ctx = SpanContext {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
        };
        assert_eq!(SpanContext::from_traceparent(&ctx.traceparent()), Ok(ctx));
        let later = format!("01-{}-{}-00-extra", ctx.trace_id, ctx.span_id);
        assert_eq!(SpanContext::from_traceparent(&later), Ok(ctx));
        for bad in [
            "",
            "00-abc-def-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        ] {
            assert!(
                SpanContext::from_traceparent(bad).is_err(),
                "{bad:?} accepted"
            );
        }
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
