//! Timestamps: wall-clock nanoseconds since the Unix epoch, advanced by the monotonic clock.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

struct Anchor {
    wall_ns: u64,
    // TSC-based where the CPU has an invariant TSC (≈ 8 ns a read against ≈ 26 ns for the
    // vDSO clock here), the OS monotonic clock otherwise.
    clock: quanta::Clock,
    start_raw: u64,
}

static ANCHOR: OnceLock<Anchor> = OnceLock::new();

impl Timestamp {
    /// Now. Successive calls never go backwards (monotonic clock from one wall-clock anchor), so
    /// durations computed from two timestamps are immune to wall-clock steps.
    pub fn now() -> Self {
        let anchor = ANCHOR.get_or_init(|| {
            let clock = quanta::Clock::new();
            let start_raw = clock.raw();
            Anchor {
                wall_ns: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0),
                clock,
                start_raw,
            }
        });
        let raw = anchor.clock.raw();
        Timestamp(anchor.wall_ns + anchor.clock.delta_as_nanos(anchor.start_raw, raw))
    }

    /// Whole milliseconds since the epoch (truncated, as OneLogger's `timestamp_msec`).
    pub fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }

    /// Nanoseconds from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_monotonic_and_near_wall_clock() {
        let a = Timestamp::now();
        let b = Timestamp::now();
        assert!(b >= a);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        assert!(wall.abs_diff(b.0) < 5_000_000_000);
    }
}
