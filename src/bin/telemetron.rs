//! `telemetron config show [--file PATH]`: the effective configuration and where each value
//! came from. `telemetron exporters`: the registered exporter and plugin types.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["config", "show", rest @ ..] => {
            let mut loader = telemetron::ConfigLoader::new();
            match rest {
                [] => {}
                ["--file", path] => loader = loader.config_file(*path),
                _ => return usage(),
            }
            match loader.load().and_then(|l| l.runtime_config().map(|_| l)) {
                Ok(loaded) => {
                    for warning in &loaded.warnings {
                        eprintln!("telemetron: warning: {warning}");
                    }
                    print!("{}", loaded.describe());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("telemetron: {e}");
                    ExitCode::from(2)
                }
            }
        }
        ["exporters"] => {
            println!(
                "exporters: {}",
                telemetron::plugins::exporter_types().join(", ")
            );
            println!(
                "plugins: {}",
                telemetron::plugins::plugin_types().join(", ")
            );
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: telemetron config show [--file PATH] | telemetron exporters");
    ExitCode::from(2)
}
