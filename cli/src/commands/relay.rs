//! `telemetron relay --config relay.yaml`: a Kafka consumer-group member that sends every
//! record of the `telemetron`-encoded topics through the exporters of the config file, each
//! producer run into a runtime of its own identity. SIGTERM or Ctrl-C delivers, commits and
//! leaves the group (a second Ctrl-C stops at once, exit code 130).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::Value;
use telemetron::kafka::{run_relay, RelayOptions, RelayReport};
use telemetron::{ConfigLoader, LoadedConfig, RunIdentity};

use crate::args::LogLevel;
use crate::error::CliError;
use crate::Host;

/// The config file's own section.
const SECTION: &str = "relay";

pub(super) fn run(
    config: &Path,
    check: bool,
    log_level: LogLevel,
    host: &Host,
) -> Result<(), CliError> {
    let (loaded, options) = load(config, host)?;
    for warning in &loaded.warnings {
        eprintln!("telemetron: warning: {warning}");
    }
    if check {
        let out = format!(
            "{}relay reads {:?} from {} as group {:?}; each producer run's records go through these exporters under that run's identity (run_name, project, ... of this file are not used)\n",
            loaded.describe(),
            options.topics,
            options.brokers,
            options.group
        );
        return std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())
            .map_err(CliError::stdout);
    }
    crate::logging::init(log_level);
    let stop = stop_on_signals()?;
    let factory = move |run: &RunIdentity| {
        let mut producer = loaded.clone();
        producer.run = run.clone();
        telemetron::start_loaded(&producer).map_err(|e| e.to_string())
    };
    let report = run_relay(&options, Box::new(factory), &|| {
        // Both asked each time: the host's check also takes a pending Ctrl-C off Python's
        // books, which would otherwise raise KeyboardInterrupt once the command returns.
        let interrupted = (host.interrupted)();
        stop.load(Ordering::Relaxed) || interrupted
    });
    // A signal that arrived during the last drain: taken here for the same reason.
    (host.interrupted)();
    let report = report.map_err(|e| CliError::Runtime(e.to_string()))?;
    print_report(&report)?;
    if report.left_uncommitted > 0 {
        return Err(CliError::Runtime(format!(
            "{} partition(s) were not delivered before stopping; their records stay uncommitted and the group reads them again",
            report.left_uncommitted
        )));
    }
    Ok(())
}

/// The config with its `relay:` section; every exporter entry is built (validated) here, so a
/// mistake stops the relay before it joins the group.
fn load(config: &Path, host: &Host) -> Result<(LoadedConfig, RelayOptions), CliError> {
    let mut loader = ConfigLoader::new()
        .config_file(config)
        .section(SECTION)
        // Nothing is dropped on the way: a full exporter queue slows reading instead.
        .set("backpressure", "block");
    loader = host.registries(loader);
    let mut loaded = loader.load()?;
    // Kafka's retention is the relay's buffer: a batch its exporters cannot deliver is read
    // again from the topic (uncommitted), not spooled to this machine's disk, unless an entry
    // asks for a spool itself.
    for entry in &mut loaded.exporters {
        entry.spec.spool.get_or_insert(false);
    }
    let shown = config.display();
    let options: RelayOptions = loaded.section(SECTION)?.ok_or_else(|| {
        CliError::Usage(format!(
            "{shown}: no `relay:` section: name the brokers, group and topics to read (see `telemetron relay --help`)"
        ))
    })?;
    let at = loaded
        .sections
        .iter()
        .find(|s| s.name == SECTION)
        .and_then(|s| s.location.clone())
        .unwrap_or_else(|| shown.to_string());
    options
        .validate()
        .map_err(|e| CliError::Usage(format!("{at}: {e}")))?;
    if loaded.exporters.iter().all(|e| e.source == "default") {
        return Err(CliError::Usage(format!(
            "{shown}: no `exporters:` list: name where the relayed records go"
        )));
    }
    loaded.runtime_config()?;
    refuse_loop(&loaded, &options)?;
    Ok((loaded, options))
}

/// A `kafka` exporter with `encoding: telemetron` writing to a topic the relay reads, on the
/// same brokers, would feed the relay its own output forever.
fn refuse_loop(loaded: &LoadedConfig, options: &RelayOptions) -> Result<(), CliError> {
    for entry in loaded.exporters.iter().filter(|e| e.spec.enabled) {
        let spec = &entry.spec;
        let text = |key: &str| spec.options.get(key).and_then(Value::as_str);
        if spec.type_name != "kafka" || text("encoding") != Some("telemetron") {
            continue;
        }
        let topic = spec
            .options
            .get("topics")
            .and_then(|t| t.get("records"))
            .and_then(Value::as_str)
            .unwrap_or("telemetron_records");
        let brokers = text("brokers").unwrap_or("localhost:9092");
        if brokers == options.brokers && options.topics.iter().any(|t| t == topic) {
            return Err(CliError::Usage(format!(
                "{}exporter #{} writes topic {topic:?} on {brokers}, which this relay reads: it would relay its own output forever",
                entry.location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default(),
                entry.position
            )));
        }
    }
    Ok(())
}

/// SIGTERM and SIGINT ask the relay to stop; a second one while it drains stops at once.
fn stop_on_signals() -> Result<Arc<AtomicBool>, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(signal, stop.clone()))
            .map_err(|e| CliError::Runtime(format!("installing the signal handlers: {e}")))?;
    }
    Ok(stop)
}

fn print_report(report: &RelayReport) -> Result<(), CliError> {
    let line = serde_json::to_string(report).unwrap_or_default();
    std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes())
        .map_err(CliError::stdout)
}
