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

    /// The UTC calendar date and time of day (no leap seconds, as Unix time).
    pub fn utc(self) -> UtcDateTime {
        let secs = self.0 / 1_000_000_000;
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        UtcDateTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
            millis: (self.0 / 1_000_000 % 1000) as u32,
        }
    }
}

/// A [`Timestamp`] as a UTC calendar date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcDateTime {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
    /// Milliseconds, 0–999.
    pub millis: u32,
}

impl std::fmt::Display for UtcDateTime {
    /// ISO 8601 with milliseconds: `2026-12-02T01:07:54.123Z`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_780), (2026, 11, 23));
        assert_eq!(Timestamp(0).utc().to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_700_000_000_123_000_000).utc().to_string(),
            "2023-11-14T22:13:20.123Z"
        );
        // 2000-02-29 (a leap day of a century leap year) 23:59:59.999
        assert_eq!(
            Timestamp(951_868_799_999_000_000).utc().to_string(),
            "2000-02-29T23:59:59.999Z"
        );
    }

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
