//! One runtime per producer run: the relay's exporters with that run's identity, started on
//! the run's first message, checked for delivery before a commit, closed when idle.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use telemetron_runtime::{RunIdentity, Runtime};

/// Builds the runtime the records of a producer run are forwarded into (the relay's
/// exporters with that run's identity). An error is a message for the log.
pub type RuntimeFactory = dyn Fn(&RunIdentity) -> Result<Runtime, String> + Send + Sync;

/// A producer run, as a key: every field of its identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RunKey {
    workspace: Option<String>,
    project: Option<String>,
    run_name: String,
    experiment: Option<String>,
    orchestration_id: String,
    logger_id: u64,
}

impl RunKey {
    pub(crate) fn of(run: &RunIdentity) -> RunKey {
        RunKey {
            workspace: run.workspace.clone(),
            project: run.project.clone(),
            run_name: run.run_name.clone(),
            experiment: run.experiment.clone(),
            orchestration_id: run.orchestration_id.clone(),
            logger_id: run.logger_id,
        }
    }
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} (logger {})", self.run_name, self.logger_id)
    }
}

/// Runtimes flushed or closed at the same time.
const PARALLEL: usize = 16;

/// Records an exporter lost so far (failed after retries, dropped), summed over exporters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Losses {
    failed: u64,
    dropped: u64,
}

struct RunEntry {
    runtime: Runtime,
    last_record: Instant,
    /// Losses at the last delivery check.
    checked: Losses,
}

/// Whether a run's exporters delivered what was forwarded since the last check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Delivered, except `rejected` records the backends refused as invalid (reading them
    /// again would not help: counted, logged, and committed).
    Delivered { rejected: u64 },
    /// Not delivered (a flush that failed or timed out, records failed after retries, an
    /// exporter disabled): read again.
    Undelivered(String),
}

/// The runtimes of the producer runs seen.
pub(crate) struct Runs {
    factory: Box<RuntimeFactory>,
    runs: HashMap<RunKey, RunEntry>,
    /// Runtimes started so far.
    pub(crate) started: u64,
}

impl Runs {
    pub(crate) fn new(factory: Box<RuntimeFactory>) -> Self {
        Runs {
            factory,
            runs: HashMap::new(),
            started: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.runs.len()
    }

    /// The run's runtime, started now if needed.
    pub(crate) fn get_or_start(&mut self, run: &RunIdentity) -> Result<(RunKey, &Runtime), String> {
        let key = RunKey::of(run);
        let entry = match self.runs.entry(key.clone()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(vacant) => {
                let runtime = (self.factory)(run)?;
                tracing::info!(target: "telemetron::relay", "run {key}: runtime started");
                self.started += 1;
                vacant.insert(RunEntry {
                    runtime,
                    last_record: Instant::now(),
                    checked: Losses::default(),
                })
            }
        };
        entry.last_record = Instant::now();
        Ok((key, &entry.runtime))
    }

    /// Flushes the runtimes of `keys` together, all within `timeout`, and tells for each
    /// whether everything forwarded to it since its last check was delivered. A run without a
    /// runtime (closed since) delivered nothing.
    pub(crate) fn check(&mut self, keys: &[RunKey], timeout: Duration) -> Vec<(RunKey, Delivery)> {
        let deadline = Instant::now() + timeout;
        let runtimes: Vec<Option<Runtime>> = keys
            .iter()
            .map(|key| self.runs.get(key).map(|e| e.runtime.clone()))
            .collect();
        let flushed = in_parallel(&runtimes, |runtime| match runtime {
            Some(runtime) => runtime
                .flush(deadline.saturating_duration_since(Instant::now()))
                .map_err(|e| e.to_string()),
            None => Err("it has no runtime".into()),
        });
        keys.iter()
            .zip(flushed)
            .map(|(key, flushed)| {
                let delivery = match (flushed, self.runs.get_mut(key)) {
                    (Ok(()), Some(entry)) => delivery(entry),
                    (Err(why), _) => Delivery::Undelivered(why),
                    (Ok(()), None) => Delivery::Undelivered("it has no runtime".into()),
                };
                (key.clone(), delivery)
            })
            .collect()
    }

    /// Closes the runtimes of `keys` together, all within `timeout` (their exporters close:
    /// Metrana gets `CloseRun`); a run's next record starts a fresh one.
    pub(crate) fn close(&mut self, keys: &[RunKey], timeout: Duration, why: &str) {
        let closing: Vec<(RunKey, Runtime)> = keys
            .iter()
            .filter_map(|key| self.runs.remove(key).map(|e| (key.clone(), e.runtime)))
            .collect();
        in_parallel(&closing, |(key, runtime)| {
            close_runtime(key, runtime, timeout, why)
        });
    }

    /// Runs without records for `idle` and with nothing pending (`busy` says which are).
    pub(crate) fn idle(&self, idle: Duration, busy: &dyn Fn(&RunKey) -> bool) -> Vec<RunKey> {
        self.runs
            .iter()
            .filter(|(key, entry)| entry.last_record.elapsed() >= idle && !busy(key))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Closes every runtime.
    pub(crate) fn close_all(&mut self, timeout: Duration) {
        let keys: Vec<RunKey> = self.runs.keys().cloned().collect();
        self.close(&keys, timeout, "the relay stops");
    }
}

/// After a successful flush: delivered unless an exporter is disabled or records failed since
/// the last check; records dropped since then were refused by the backends.
fn delivery(entry: &mut RunEntry) -> Delivery {
    if let Some(h) = entry
        .runtime
        .exporter_health()
        .into_iter()
        .find(|h| h.disabled.is_some())
    {
        return Delivery::Undelivered(format!(
            "exporter {} is disabled: {}",
            h.name,
            h.disabled.unwrap_or_default()
        ));
    }
    let now = losses(&entry.runtime);
    let before = std::mem::replace(&mut entry.checked, now);
    if now.failed > before.failed {
        return Delivery::Undelivered(format!(
            "{} record(s) failed after retries",
            now.failed - before.failed
        ));
    }
    Delivery::Delivered {
        rejected: now.dropped.saturating_sub(before.dropped),
    }
}

/// `f` over `items` on up to [`PARALLEL`] threads at a time (flushes and closes wait on
/// backends; one slow run must not hold up the others' turn).
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(PARALLEL) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|item| scope.spawn(move || f(item)))
                .collect();
            for handle in handles {
                match handle.join() {
                    Ok(result) => out.push(result),
                    // A panic inside a runtime call: the caller's own bug surfaces there.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    out
}

fn losses(runtime: &Runtime) -> Losses {
    let metrics = runtime.metrics();
    let mut losses = Losses {
        failed: 0,
        dropped: metrics.runtime_total().dropped,
    };
    for name in metrics.exporters.keys() {
        let total = metrics.exporter_total(name);
        losses.failed += total.failed;
        losses.dropped += total.dropped;
    }
    losses
}

fn close_runtime(key: &RunKey, runtime: &Runtime, timeout: Duration, why: &str) {
    match runtime.close(timeout) {
        Ok(report) if report.undelivered.is_empty() => {
            tracing::info!(target: "telemetron::relay", "run {key}: runtime closed ({why})");
        }
        Ok(report) => {
            for u in &report.undelivered {
                tracing::warn!(
                    target: "telemetron::relay",
                    "run {key}: runtime closed ({why}); exporter {}: {} record(s) undelivered: {}",
                    u.exporter, u.records, u.reason
                );
            }
        }
        Err(e) => {
            tracing::warn!(target: "telemetron::relay", "run {key}: closing its runtime ({why}): {e}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_parallel_keeps_the_order_and_runs_up_to_16_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let items: Vec<u64> = (0..40).collect();
        let out = in_parallel(&items, |&i| {
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(running, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            now.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let most = most.into_inner();
        assert!(most > 1 && most <= PARALLEL, "{most} at once");
    }
}
