//! The `telemetron` command line: look at a run recorded by the file exporter (`inspect`,
//! `tail`, `timeline`, `plot`), send it on (`replay`), deliver disk spools (`sync`), relay
//! records from Kafka to exporters (`relay`, feature `kafka`), and show the configuration
//! (`config show`, `exporters`).
//!
//! The same code runs as the `telemetron` binary and, through the Python package's native
//! module, as the `telemetron` console script and `python -m telemetron`: [`run`] takes the
//! arguments and a [`Host`] (how to notice Ctrl-C, which config layers the host contributes)
//! and returns the exit code: 0 success, 2 bad input or usage (one line on stderr), 130
//! interrupted.
//!
//! ```no_run
//! let code = telemetron_cli::run(["telemetron", "inspect", "run.jsonl"], &telemetron_cli::Host::default());
//! std::process::exit(code);
//! ```

mod args;
pub(crate) mod commands;
mod error;
mod input;
#[cfg(feature = "kafka")]
mod logging;
mod progress;

use std::ffi::OsString;

use clap::Parser;

pub use commands::sync::{sync, SyncReport, SyncRequest, SyncedSpool};
pub use error::CliError;

/// What the program embedding the CLI provides.
pub struct Host {
    /// True once the user asked to stop (Ctrl-C). The binary leaves SIGINT to the OS; the
    /// Python entry point checks Python's signal handlers here.
    pub interrupted: Box<dyn Fn() -> bool + Send + Sync>,
    /// Config layers the host contributes (Python packages' entry points), lowest first.
    pub registry_layers: Vec<(String, serde_json::Map<String, serde_json::Value>)>,
}

impl Host {
    /// `loader` with this host's registry layers (Python packages' entry points) below it.
    pub(crate) fn registries(
        &self,
        mut loader: telemetron::ConfigLoader,
    ) -> telemetron::ConfigLoader {
        for (name, layer) in &self.registry_layers {
            loader = loader.registry_layer(name.clone(), layer.clone());
        }
        loader
    }
}

impl Default for Host {
    fn default() -> Self {
        Host {
            interrupted: Box::new(|| false),
            registry_layers: Vec::new(),
        }
    }
}

/// Parses `args` (the first is the program name) and runs the command. Returns the exit code.
pub fn run<I, T>(args: I, host: &Host) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match commands::run(cli, host) {
        Ok(()) => 0,
        Err(CliError::Interrupted) => 130,
        Err(CliError::BrokenPipe) => 0,
        Err(e) => {
            eprintln!("telemetron: {e}");
            2
        }
    }
}
