//! `config show` and `exporters`: what the configuration resolves to, without starting
//! anything (no exporter is initialized, so nothing connects).

use std::io::Write;
use std::path::Path;

use telemetron::ConfigLoader;

use crate::error::CliError;
use crate::Host;

pub(super) fn show(file: Option<&Path>, host: &Host) -> Result<(), CliError> {
    let mut loader = ConfigLoader::new();
    if let Some(path) = file {
        loader = loader.config_file(path);
    }
    loader = host.registries(loader);
    let loaded = loader.load()?;
    // Building the exporter list validates every entry; building is not starting.
    loaded.runtime_config()?;
    for warning in &loaded.warnings {
        eprintln!("telemetron: warning: {warning}");
    }
    std::io::stdout()
        .write_all(loaded.describe().as_bytes())
        .map_err(CliError::stdout)
}

pub(super) fn exporters() -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "exporters: {}",
        telemetron::plugins::exporter_types().join(", ")
    )
    .and_then(|_| {
        writeln!(
            out,
            "plugins: {}",
            telemetron::plugins::plugin_types().join(", ")
        )
    })
    .map_err(CliError::stdout)
}
