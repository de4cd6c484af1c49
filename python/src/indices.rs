//! One range check for every step, episode, `rl_step` and timestamp a call takes, so that a
//! negative value is a `ValidationError` (not pyo3's `OverflowError`) and one at or past
//! 2**63 is refused everywhere (an OTLP backend would read it as negative).

use pyo3::prelude::*;

use crate::errors::invalid;

/// Timestamps are Unix milliseconds; from here on a value can only be nanoseconds or
/// microseconds (1e14 ms is the year 5138; Metrana 0.2.1 took nanoseconds).
const MAX_TIMESTAMP_MS: i128 = 100_000_000_000_000;

/// A step, episode or `rl_step`: an integer in `[0, 2**63)`.
pub(crate) fn index(what: &str, value: i128) -> PyResult<u64> {
    if value < 0 {
        return Err(invalid(what, format!("{value} is negative")));
    }
    if value > i128::from(i64::MAX) {
        return Err(invalid(what, format!("{value} is not below 2**63")));
    }
    Ok(value as u64)
}

/// [`index`] for every value.
pub(crate) fn indices(what: &str, values: Vec<i128>) -> PyResult<Vec<u64>> {
    values.into_iter().map(|v| index(what, v)).collect()
}

/// A Unix timestamp in milliseconds: `[0, 1e14)`.
pub(crate) fn timestamp_ms(value: i128) -> PyResult<i64> {
    if value < 0 {
        return Err(invalid(
            "timestamp",
            format!("{value} is negative; timestamps are Unix milliseconds"),
        ));
    }
    if value >= MAX_TIMESTAMP_MS {
        return Err(invalid(
            "timestamp",
            format!(
                "{value} is not a Unix time in milliseconds (it looks like micro- or \
                 nanoseconds: divide by 1_000 or 1_000_000)"
            ),
        ));
    }
    Ok(value as i64)
}
