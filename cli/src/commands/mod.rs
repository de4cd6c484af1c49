//! One module per subcommand; shared naming and formatting in `format.rs`.

mod config;
mod format;
mod inspect;
mod plot;
mod plot_font;
#[cfg(feature = "kafka")]
mod relay;
mod replay;
pub(crate) mod sync;
mod tail;
mod timeline;

use telemetron::{ConfigLoader, RunIdentity};

use crate::args::{Cli, Command, ConfigCommand};
use crate::error::CliError;
use crate::Host;

pub(crate) fn run(cli: Cli, host: &Host) -> Result<(), CliError> {
    match cli.command {
        Command::Inspect {
            file,
            json,
            no_rotated,
        } => inspect::run(&file, json, !no_rotated, host),
        Command::Tail {
            file,
            follow,
            lines,
            kinds,
            name,
        } => tail::run(&file, follow, lines, &kinds, name.as_deref(), host),
        Command::Timeline {
            file,
            output,
            logs,
            no_rotated,
        } => timeline::run(&file, &output, logs, !no_rotated, host),
        Command::Plot {
            file,
            metrics,
            output,
            x,
            smooth,
            rl,
            width,
            height,
        } => plot::run(
            &file,
            &plot::PlotRequest {
                metrics,
                output,
                x,
                smooth: smooth as usize,
                rl,
                size: (width, height),
            },
            host,
        ),
        Command::Replay {
            file,
            config,
            exporter,
            timeout,
            no_rotated,
        } => replay::run(
            &file,
            config.as_deref(),
            &exporter,
            timeout,
            !no_rotated,
            host,
        ),
        Command::Sync {
            spool_dir,
            config,
            exporter,
            workspace,
            project,
            run_name,
            timeout,
        } => sync::run(
            &sync::SyncRequest {
                spool_dir,
                workspace,
                project,
                run_name,
                config,
                exporters: exporter
                    .iter()
                    .map(|e| replay::exporter_entry(e))
                    .collect::<Result<_, _>>()?,
                timeout,
                progress: true,
            },
            host,
        ),
        #[cfg(feature = "kafka")]
        Command::Relay {
            config,
            check,
            log_level,
        } => relay::run(&config, check, log_level, host),
        Command::Config {
            command: ConfigCommand::Show { file },
        } => config::show(file.as_deref(), host),
        Command::Exporters => config::exporters(),
    }
}

/// `loader` set to deliver under a recorded run's identity (`replay` and `sync`): its run name,
/// orchestration id, and workspace, project and experiment where it has them.
fn with_run(loader: ConfigLoader, run: &RunIdentity) -> ConfigLoader {
    let mut loader = loader
        .set("run_name", run.run_name.clone())
        .set("orchestration_id", run.orchestration_id.clone());
    for (key, value) in [
        ("workspace", &run.workspace),
        ("project", &run.project),
        ("experiment", &run.experiment),
    ] {
        if let Some(v) = value {
            loader = loader.set(key, v.clone());
        }
    }
    loader
}
