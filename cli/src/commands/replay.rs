//! `telemetron replay RUN.jsonl [--config FILE | --exporter YAML]`: the file's records go
//! through a runtime's exporters unchanged (`Runtime::forward`: ids, times, steps as the job
//! recorded them), under the run identity of the file's header, with `block` backpressure so
//! nothing is dropped on the way; then the close report.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use telemetron::model::Record;
use telemetron::reader::ReadItem;
use telemetron::{CloseReport, ConfigLoader};

use crate::error::CliError;
use crate::input::{report_skipped, RunInput};
use crate::Host;

/// Records handed to the runtime per `forward` call.
const CHUNK: usize = 1024;

pub(super) fn exporter_entry(text: &str) -> Result<Value, CliError> {
    let value: Value = serde_yaml::from_str(text)
        .map_err(|e| CliError::Usage(format!("--exporter {text:?} is not YAML/JSON: {e}")))?;
    if !value.is_object() {
        return Err(CliError::Usage(format!(
            "--exporter {text:?} must be a mapping such as '{{type: otlp, endpoint: http://localhost:4317}}'"
        )));
    }
    Ok(value)
}

pub(super) fn run(
    path: &Path,
    config: Option<&Path>,
    exporters: &[String],
    timeout: f64,
    rotated: bool,
    host: &Host,
) -> Result<(), CliError> {
    if !(timeout.is_finite() && timeout >= 0.0) {
        return Err(CliError::Usage(format!(
            "--timeout {timeout} must be seconds >= 0"
        )));
    }
    let entries = exporters
        .iter()
        .map(|e| exporter_entry(e))
        .collect::<Result<Vec<_>, _>>()?;
    let mut input = RunInput::open(path, rotated, "replay", host)?;
    // The first item: the header, whose run the records belong to.
    let first = input.next_item()?;

    let mut loader = ConfigLoader::new().set("backpressure", "block");
    if let Some(file) = config {
        loader = loader.config_file(file);
    }
    if !entries.is_empty() {
        loader = loader.exporters(entries);
    }
    loader = host.registries(loader);
    if let Some(ReadItem::Header(h)) = &first {
        loader = super::with_run(loader, &h.run).set("logger_id", h.run.logger_id);
    }
    let loaded = loader.load()?;
    let exporter_names: Vec<String> = loaded
        .runtime_config()?
        .exporters
        .iter()
        .map(|e| e.name.clone())
        .collect();
    let runtime =
        telemetron::start_loaded(&loaded).map_err(|e| CliError::Runtime(e.to_string()))?;

    let mut chunk: Vec<Record> = Vec::with_capacity(CHUNK);
    let mut forwarded = 0u64;
    let mut pending = first;
    let send = |chunk: &mut Vec<Record>, forwarded: &mut u64| -> Result<(), CliError> {
        let done = runtime
            .forward(chunk.drain(..))
            .map_err(|e| CliError::Runtime(format!("replay stopped: {e}")))?;
        *forwarded += done.enqueued as u64;
        Ok(())
    };
    loop {
        let item = match pending.take() {
            Some(item) => Some(item),
            None => input.next_item()?,
        };
        let Some(item) = item else { break };
        if let ReadItem::Record(record) = item {
            chunk.push(record);
            if chunk.len() == CHUNK {
                send(&mut chunk, &mut forwarded)?;
            }
        }
    }
    send(&mut chunk, &mut forwarded)?;
    let stats = input.stats();
    report_skipped(&stats);
    let report = runtime
        .close(Duration::from_secs_f64(timeout))
        .map_err(|e| CliError::Runtime(format!("closing the exporters: {e}")))?;
    print_report(&report, forwarded, &exporter_names)?;
    let undelivered = report.undelivered_records();
    if undelivered > 0 || report.timed_out {
        return Err(CliError::Runtime(format!(
            "{undelivered} record(s) not delivered{}",
            if report.timed_out { " (timed out)" } else { "" }
        )));
    }
    Ok(())
}

fn print_report(
    report: &CloseReport,
    forwarded: u64,
    exporters: &[String],
) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let mut text = format!("replayed {forwarded} records\n");
    for name in exporters {
        let sent: u64 = report
            .metrics
            .exporters
            .get(name)
            .map(|kinds| kinds.values().map(|c| c.sent).sum())
            .unwrap_or(0);
        text.push_str(&format!("  {name}: {sent} sent\n"));
    }
    for u in &report.undelivered {
        text.push_str(&format!(
            "  {}: {} undelivered ({})\n",
            u.exporter, u.records, u.reason
        ));
    }
    for e in &report.background_errors {
        text.push_str(&format!("  error: {e}\n"));
    }
    out.write_all(text.as_bytes()).map_err(CliError::stdout)
}
