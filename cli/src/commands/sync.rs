//! `telemetron sync [SPOOL_DIR]`: delivers spools (an offline run's, or leftovers of processes
//! that died) to the configured exporters. One runtime per run, on the run's identity, with
//! the spool directory they sit in: its spooled exporters deliver earlier writers' spools first
//! (leftovers first, each frame under its writer's identity, so Metrana applies a re-sent frame
//! once) and remove what was delivered. Then the close report.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use telemetron::spool::{find_spools, FoundSpool};
use telemetron::ConfigLoader;

use crate::error::CliError;
use crate::Host;

/// How often the progress is looked at.
const POLL: Duration = Duration::from_millis(50);

/// What to deliver, and where to.
#[derive(Clone, Debug, Default)]
pub struct SyncRequest {
    /// The spool directory (default: `TELEMETRON_SPOOL_DIR`, else `~/.cache/telemetron/spool`).
    pub spool_dir: Option<PathBuf>,
    /// Only this workspace / project / run.
    pub workspace: Option<String>,
    /// Only this project.
    pub project: Option<String>,
    /// Only this run.
    pub run_name: Option<String>,
    /// A config file naming the exporters (else the usual sources).
    pub config: Option<PathBuf>,
    /// Exporter entries (instead of a file's).
    pub exporters: Vec<Value>,
    /// Seconds to deliver each run.
    pub timeout: f64,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
}

/// What one exporter of one run delivered.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SyncedSpool {
    /// `workspace/project/run_name`.
    pub run: String,
    /// The exporter instance.
    pub exporter: String,
    /// Writer directories found.
    pub writers: usize,
    /// Bytes found.
    pub bytes: u64,
    /// Records delivered from them.
    pub delivered: u64,
    /// Bytes still on disk afterwards (not delivered: the backend did not answer in time).
    pub remaining_bytes: u64,
    /// Damaged regions skipped (each at least one lost frame).
    pub bad_frames: u64,
    /// Why nothing was delivered, when nothing could be.
    pub skipped: Option<String>,
}

/// What `sync` did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    /// One entry per (run, exporter) spool found.
    pub spools: Vec<SyncedSpool>,
    /// Records delivered in all.
    pub delivered: u64,
    /// Bytes left on disk in all.
    pub remaining_bytes: u64,
    /// Undelivered records the close reports listed, and background errors.
    pub errors: Vec<String>,
}

fn default_spool_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TELEMETRON_SPOOL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("telemetron").join("spool")
}

fn run_label(found: &FoundSpool) -> String {
    format!(
        "{}/{}/{}",
        found.run.workspace.as_deref().unwrap_or("-"),
        found.run.project.as_deref().unwrap_or("-"),
        found.run.run_name
    )
}

/// Delivers the spools under the request's directory; see the module documentation.
pub fn sync(request: &SyncRequest, host: &Host) -> Result<SyncReport, CliError> {
    if !(request.timeout.is_finite() && request.timeout >= 0.0) {
        return Err(CliError::Usage(format!(
            "timeout {} must be seconds >= 0",
            request.timeout
        )));
    }
    let dir = request.spool_dir.clone().unwrap_or_else(default_spool_dir);
    if !dir.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is not a directory (the spool directory: spool_dir, TELEMETRON_SPOOL_DIR)",
            dir.display()
        )));
    }
    let wanted = |f: &FoundSpool| {
        request
            .workspace
            .as_ref()
            .is_none_or(|w| f.run.workspace.as_ref() == Some(w))
            && request
                .project
                .as_ref()
                .is_none_or(|p| f.run.project.as_ref() == Some(p))
            && request
                .run_name
                .as_ref()
                .is_none_or(|r| &f.run.run_name == r)
    };
    // One runtime per run (and spool directory): all its exporters' spools at once.
    let mut runs: BTreeMap<(PathBuf, String), Vec<FoundSpool>> = BTreeMap::new();
    for found in find_spools(&dir).into_iter().filter(wanted) {
        runs.entry((found.spool_dir.clone(), run_label(&found)))
            .or_default()
            .push(found);
    }
    let mut report = SyncReport::default();
    for ((spool_dir, _), spools) in runs {
        if (host.interrupted)() {
            return Err(CliError::Interrupted);
        }
        sync_run(&spool_dir, &spools, request, host, &mut report)?;
    }
    report.delivered = report.spools.iter().map(|s| s.delivered).sum();
    report.remaining_bytes = report.spools.iter().map(|s| s.remaining_bytes).sum();
    Ok(report)
}

fn sync_run(
    spool_dir: &Path,
    spools: &[FoundSpool],
    request: &SyncRequest,
    host: &Host,
    report: &mut SyncReport,
) -> Result<(), CliError> {
    let first = &spools[0];
    let run = &first.run;
    let loader = ConfigLoader::new()
        .set("backpressure", "block")
        .set("mode", "online")
        .set("spool_dir", spool_dir.display().to_string());
    let mut loader = super::with_run(loader, run);
    if let Some(file) = &request.config {
        loader = loader.config_file(file);
    }
    if !request.exporters.is_empty() {
        loader = loader.exporters(request.exporters.clone());
    }
    loader = host.registries(loader);
    let mut loaded = loader.load()?;
    // Whatever the environment says (TELEMETRON_SPOOL_DIR, TELEMETRON_MODE): these spools, online.
    loaded.settings.spool_dir = Some(spool_dir.display().to_string());
    loaded.settings.mode = telemetron::RunMode::Online;
    let configured: Vec<String> = loaded
        .runtime_config()?
        .exporters
        .iter()
        .map(|e| e.name.clone())
        .collect();
    let label = run_label(first);
    let mut matched = Vec::new();
    for found in spools {
        if configured.contains(&found.exporter) {
            matched.push(found);
        } else {
            report.spools.push(SyncedSpool {
                run: label.clone(),
                exporter: found.exporter.clone(),
                writers: found.writers.len(),
                bytes: found.bytes,
                delivered: 0,
                remaining_bytes: found.bytes,
                bad_frames: 0,
                skipped: Some(format!(
                    "no exporter named {:?} is configured (configured: {}); pass --config or --exporter with `name: {}`",
                    found.exporter,
                    configured.join(", "),
                    found.exporter
                )),
            });
        }
    }
    if matched.is_empty() {
        return Ok(());
    }
    let runtime = telemetron::start_loaded(&loaded)
        .map_err(|e| CliError::Runtime(format!("run {label}: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs_f64(request.timeout);
    let total: u64 = matched.iter().map(|f| f.bytes).sum();
    let bar = request
        .progress
        .then(|| crate::progress::bytes_bar(total, "sync"));
    // Delivered when no spooled exporter has leftovers, or at the deadline.
    loop {
        let states = runtime.spool_status();
        let left: u64 = states
            .iter()
            .filter(|s| matched.iter().any(|m| m.exporter == s.exporter))
            .map(|s| s.leftover_bytes)
            .sum();
        let dirs: usize = states.iter().map(|s| s.leftover_dirs).sum();
        if let Some(bar) = &bar {
            bar.set_position(total.saturating_sub(left));
        }
        if dirs == 0 || Instant::now() >= deadline {
            break;
        }
        if (host.interrupted)() {
            let _ = runtime.close(Duration::from_secs(5));
            return Err(CliError::Interrupted);
        }
        std::thread::sleep(POLL);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let states = runtime.spool_status();
    let close_timeout = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(5));
    let closed = match runtime.close(close_timeout) {
        Ok(r) => r,
        Err(telemetron::ShutdownError::BackgroundErrors(r)) => *r,
        Err(telemetron::ShutdownError::Undeliverable(r, _)) => *r,
        Err(e) => return Err(CliError::Runtime(format!("closing run {label}: {e}"))),
    };
    for found in matched {
        let state = states.iter().find(|s| s.exporter == found.exporter);
        let delivered = closed
            .metrics
            .exporters
            .get(&found.exporter)
            .map(|kinds| kinds.values().map(|c| c.recovered).sum())
            .unwrap_or(0);
        report.spools.push(SyncedSpool {
            run: label.clone(),
            exporter: found.exporter.clone(),
            writers: found.writers.len(),
            bytes: found.bytes,
            delivered,
            remaining_bytes: state.map_or(0, |s| s.leftover_bytes),
            bad_frames: state.map_or(0, |s| s.bad_frames),
            skipped: None,
        });
    }
    for u in &closed.undelivered {
        report.errors.push(format!(
            "{label}: {}: {} undelivered ({})",
            u.exporter, u.records, u.reason
        ));
    }
    report.errors.extend(
        closed
            .background_errors
            .iter()
            .map(|e| format!("{label}: {e}")),
    );
    Ok(())
}

/// The command: sync, then print what happened; an error when something was left.
pub(super) fn run(request: &SyncRequest, host: &Host) -> Result<(), CliError> {
    let report = sync(request, host)?;
    let mut text = String::new();
    if report.spools.is_empty() {
        text.push_str("nothing to sync\n");
    }
    for s in &report.spools {
        match &s.skipped {
            Some(why) => text.push_str(&format!(
                "{} {}: skipped ({} writer dirs, {} bytes): {why}\n",
                s.run, s.exporter, s.writers, s.bytes
            )),
            None => text.push_str(&format!(
                "{} {}: {} records delivered from {} writer dirs ({} bytes); {} bytes left; {} bad frames skipped\n",
                s.run, s.exporter, s.delivered, s.writers, s.bytes, s.remaining_bytes, s.bad_frames
            )),
        }
    }
    for e in &report.errors {
        text.push_str(&format!("  error: {e}\n"));
    }
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(CliError::stdout)?;
    let skipped = report.spools.iter().filter(|s| s.skipped.is_some()).count();
    if report.remaining_bytes > 0 || skipped > 0 {
        return Err(CliError::Runtime(format!(
            "{} bytes of spool not delivered{}",
            report.remaining_bytes,
            if skipped > 0 {
                format!(" ({skipped} spools with no matching exporter)")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}
