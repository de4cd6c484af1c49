//! `system_metrics`: samples the host, this process and NVIDIA GPUs on a thread of its own and
//! emits metric series under `system/...` with wall-clock steps (Unix milliseconds).
//!
//! ```yaml
//! plugins:
//!   - {type: system_metrics, interval_secs: 10}   # gpu: false skips NVML
//! ```
//!
//! Series: `system/cpu_percent` (host, 0–100), `system/memory_used_bytes`,
//! `system/memory_percent`, `system/disk_read_bytes_per_sec`, `system/disk_write_bytes_per_sec`,
//! `system/network_rx_bytes_per_sec`, `system/network_tx_bytes_per_sec`;
//! `system/process/cpu_percent` (100 = one core busy), `system/process/rss_bytes`,
//! `system/process/disk_read_bytes_per_sec`, `system/process/disk_write_bytes_per_sec`; per GPU
//! (label `gpu`: its NVML index) `system/gpu/utilization_percent`,
//! `system/gpu/memory_used_bytes`, `system/gpu/memory_percent`,
//! `system/gpu/temperature_celsius`, `system/gpu/power_watts`. NVML is loaded at run time:
//! without a driver or a GPU the GPU series are absent and one info line says why.

mod gpu;
mod host;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use serde::Deserialize;
use telemetron_plugins::{parse_options, BuildContext, RecorderPluginRegistration, RegistryError};
use telemetron_runtime::model::{
    F64Column, MetricPoints, Record, Scale, SeriesError, SeriesKey, SeriesOrdering, StepColumn,
    Timestamp, TimestampsMs, Values,
};
use telemetron_runtime::{EnqueueError, PluginFactory, PluginVerdict, RecordSink, RecorderPlugin};

use gpu::GpuSampler;
use host::HostSampler;

/// The name the sampler thread carries (Linux shows 15 characters of a thread name).
pub const SYSTEM_METRICS_THREAD: &str = "telemetron-sys";

/// How long `close` waits for a sample in progress to finish.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// Options: `{type: system_metrics, interval_secs: 10, gpu: true}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SystemMetricsConfig {
    /// Seconds between samples (default 10, at least 0.1).
    #[serde(default = "default_interval")]
    pub interval_secs: f64,
    /// Whether to look for NVIDIA GPUs through NVML (default true).
    #[serde(default = "default_gpu")]
    pub gpu: bool,
}

fn default_interval() -> f64 {
    10.0
}

fn default_gpu() -> bool {
    true
}

/// One value read from the system.
pub(crate) struct Reading {
    name: &'static str,
    gpu: Option<String>,
    value: f64,
}

impl Reading {
    fn host(name: &'static str, value: f64) -> Self {
        Reading {
            name,
            gpu: None,
            value,
        }
    }

    fn gpu(name: &'static str, gpu: &str, value: f64) -> Self {
        Reading {
            name,
            gpu: Some(gpu.to_string()),
            value,
        }
    }
}

/// The plugin: owns the sampler thread (started when the runtime attaches it).
pub struct SystemMetrics {
    config: SystemMetricsConfig,
    stop: Option<Sender<()>>,
    done: Option<Receiver<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SystemMetrics {
    /// A plugin that samples every `config.interval_secs` once attached.
    pub fn new(config: SystemMetricsConfig) -> Self {
        SystemMetrics {
            config,
            stop: None,
            done: None,
            thread: None,
        }
    }

    /// Stops the sampler and waits (briefly) for it to finish a sample in progress.
    fn stop(&mut self) {
        drop(self.stop.take());
        let finished = self
            .done
            .take()
            .is_some_and(|done| done.recv_timeout(STOP_WAIT).is_ok());
        if let Some(thread) = self.thread.take() {
            if finished {
                let _ = thread.join();
            }
        }
    }
}

impl RecorderPlugin for SystemMetrics {
    fn name(&self) -> &str {
        "system_metrics"
    }

    fn on_record(&mut self, _record: &mut Record, _emit: &mut Vec<Record>) -> PluginVerdict {
        PluginVerdict::Keep
    }

    fn on_close(&mut self, _emit: &mut Vec<Record>) {
        self.stop();
    }

    fn attach(&mut self, sink: RecordSink) {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(1);
        let config = self.config.clone();
        let errors = sink.clone();
        let spawned = std::thread::Builder::new()
            .name(SYSTEM_METRICS_THREAD.into())
            .spawn(move || {
                // Sampling yields to the training loop on a busy machine.
                telemetron_runtime::lower_thread_priority();
                run(&config, &sink, &stop_rx);
                let _ = done_tx.send(());
            });
        match spawned {
            Ok(thread) => {
                self.stop = Some(stop_tx);
                self.done = Some(done_rx);
                self.thread = Some(thread);
            }
            Err(e) => errors.report_error(format!("system_metrics: cannot start its thread: {e}")),
        }
    }
}

impl Drop for SystemMetrics {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The sampler thread: a sample every interval until stopped or the runtime is closed.
fn run(config: &SystemMetricsConfig, sink: &RecordSink, stop: &Receiver<()>) {
    let interval = Duration::from_secs_f64(config.interval_secs);
    let mut host = HostSampler::new();
    let gpus = config.gpu.then(GpuSampler::open).and_then(|opened| match opened {
        Ok(gpus) => {
            tracing::info!(target: "telemetron", "system_metrics: sampling {} GPU(s) through NVML", gpus.count());
            Some(gpus)
        }
        Err(why) => {
            tracing::info!(target: "telemetron", "system_metrics: no GPU metrics: {why}");
            None
        }
    });
    let mut keys: HashMap<(&'static str, Option<String>), Arc<SeriesKey>> = HashMap::new();
    let mut last_step = 0u64;
    let mut readings = Vec::new();
    loop {
        match stop.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        readings.clear();
        host.sample(&mut readings);
        if let Some(gpus) = &gpus {
            gpus.sample(&mut readings);
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // Wall-clock steps, strictly increasing as ordered series require.
        let step = now_ms.max(last_step + 1);
        last_step = step;
        for reading in readings.drain(..) {
            let key = match keys.entry((reading.name, reading.gpu.clone())) {
                Entry::Occupied(known) => known.get().clone(),
                Entry::Vacant(slot) => match series_key(reading.name, reading.gpu) {
                    Ok(key) => slot.insert(key).clone(),
                    Err(e) => {
                        sink.report_error(format!("system_metrics: {e}"));
                        continue;
                    }
                },
            };
            let record = Record::from(MetricPoints {
                series: key,
                ordering: SeriesOrdering::Ordered,
                steps: StepColumn::from_slice(&[step]),
                values: Values::F64(F64Column::from_slice(&[reading.value])),
                timestamps_ms: TimestampsMs::One(step as i64),
                time: Timestamp::now(),
            });
            if let Err(EnqueueError::Closed) = sink.send(record) {
                return;
            }
        }
    }
}

fn series_key(name: &'static str, gpu: Option<String>) -> Result<Arc<SeriesKey>, SeriesError> {
    let labels = gpu.map(|g| ("gpu".to_string(), g));
    SeriesKey::new(name, Scale::MlStep, labels).map(Arc::new)
}

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    _ctx: &BuildContext<'_>,
) -> Result<PluginFactory, RegistryError> {
    let config: SystemMetricsConfig = parse_options("plugin", "system_metrics", options)?;
    if !(config.interval_secs.is_finite() && config.interval_secs >= 0.1) {
        return Err(RegistryError::InvalidOptions {
            kind: "plugin",
            name: "system_metrics".into(),
            reason: format!(
                "`interval_secs` must be a number of seconds >= 0.1, got {}",
                config.interval_secs
            ),
        });
    }
    Ok(Arc::new(move || {
        Box::new(SystemMetrics::new(config.clone()))
    }))
}

telemetron_plugins::inventory::submit! {
    RecorderPluginRegistration {
        type_name: "system_metrics",
        description: "host, process and NVIDIA GPU metrics sampled on their own thread (system/...)",
        build,
    }
}
