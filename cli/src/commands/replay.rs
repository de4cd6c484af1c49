//! `telemetron replay`: implemented in a later commit (needs `Runtime::forward`).

use std::path::Path;

use crate::error::CliError;
use crate::Host;

pub(super) fn run(
    _path: &Path,
    _config: Option<&Path>,
    _exporters: &[String],
    _timeout: f64,
    _rotated: bool,
    _host: &Host,
) -> Result<(), CliError> {
    Err(CliError::Usage("replay is not available yet".into()))
}
