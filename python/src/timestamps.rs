//! Explicit times from Python: seconds since the Unix epoch as a float (`time.time()`), the
//! unit OneLogger's `TracingTimestamp.seconds_since_epoch` uses.

use pyo3::prelude::*;
use telemetron::model::Timestamp;

use crate::errors::ValidationError;

/// Later than this is almost certainly milliseconds passed as seconds (year 5138).
const MAX_PLAUSIBLE_SECS: f64 = 1e11;

/// `None` is now; otherwise a finite, non-negative number of seconds since the epoch.
pub(crate) fn timestamp_arg(secs: Option<f64>, what: &str) -> PyResult<Timestamp> {
    let Some(secs) = secs else {
        return Ok(Timestamp::now());
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(ValidationError::new_err(format!(
            "{what} must be a finite number of seconds since the Unix epoch, >= 0; got {secs}"
        )));
    }
    if secs >= MAX_PLAUSIBLE_SECS {
        return Err(ValidationError::new_err(format!(
            "{what} = {secs} is more than 1e11 seconds since the Unix epoch: pass seconds \
             (time.time()), not milliseconds or nanoseconds"
        )));
    }
    Ok(Timestamp((secs * 1e9).round() as u64))
}
