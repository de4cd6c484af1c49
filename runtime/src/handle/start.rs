//! Starting a runtime: the actor system on a thread it owns, the exporters, the pump.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::Arc;

use actix::{Supervisor, SyncArbiter};
use parking_lot::Mutex;

use super::{ExporterView, Inner, Runtime};
use crate::actors::exporter_actor::{ExporterActor, ExporterOptions, SpoolLink};
use crate::actors::exporter_worker::{ExporterWorker, FirstInstance};
use crate::actors::recorder::{ExporterLink, Recorder};
use crate::actors::spool_worker::WorkerSpool;
use crate::actors::supervision::catch_panic;
use crate::actors::Shared;
use crate::background::BackgroundErrors;
use crate::background::Source;
use crate::error::StartError;
use crate::exporter::{CursorSeed, CursorSeeds, Deliveries, ExporterContext, ExporterFactory};
use crate::health::{HealthCell, HealthLimits};
use crate::ingest::{run_pump, IngestQueue};
use crate::metrics::{ExporterCounters, RuntimeCounters};
use crate::plugin::PluginFactory;
use crate::settings::{RunIdentity, RuntimeSettings};
use crate::spool::journal::CursorJournal;
use crate::spool::{ExporterSpool, RecordCodec, RunMode, SpoolBudget, SpoolSettings, SpoolStatus};

/// One exporter to run.
#[derive(Clone)]
pub struct ExporterSlot {
    /// Unique instance name (`file`, `file#2`, or the config's `name:`).
    pub name: String,
    /// Its type (`file`, `otlp`, ...), for health reports.
    pub exporter_type: String,
    /// Builds the exporter, at start and after a panic.
    pub factory: ExporterFactory,
    /// Overrides the runtime-wide `exporter_queue_capacity`.
    pub queue_capacity: Option<usize>,
    /// Overrides the runtime-wide `batch_max_size`.
    pub batch_max_size: Option<usize>,
    /// Overrides the runtime-wide `batch_max_age_secs`.
    pub batch_max_age_secs: Option<f64>,
    /// A disk spool behind it: `None` takes the exporter's
    /// [`spool_by_default`](crate::Exporter::spool_by_default) (network exporters).
    pub spool: Option<bool>,
}

impl ExporterSlot {
    /// A slot with the runtime-wide batching settings.
    pub fn new(
        name: impl Into<String>,
        exporter_type: impl Into<String>,
        factory: ExporterFactory,
    ) -> Self {
        ExporterSlot {
            name: name.into(),
            exporter_type: exporter_type.into(),
            factory,
            queue_capacity: None,
            batch_max_size: None,
            batch_max_age_secs: None,
            spool: None,
        }
    }
}

/// One recorder plugin to run.
#[derive(Clone)]
pub struct PluginSlot {
    /// Its name, for logs.
    pub name: String,
    /// Builds the plugin, at start and after a Recorder restart.
    pub factory: PluginFactory,
}

/// Everything `Runtime::start` needs: settings, the run, exporters and plugins, all resolved.
/// `telemetron-config` builds one from code, files and registries.
#[derive(Clone, Default)]
pub struct RuntimeConfig {
    /// Scalar settings.
    pub settings: RuntimeSettings,
    /// The run identity (its `run_name` is always set here).
    pub run: RunIdentity,
    /// Exporters, in order.
    pub exporters: Vec<ExporterSlot>,
    /// Recorder plugins, in order.
    pub plugins: Vec<PluginSlot>,
    /// How spooled records are encoded (the facade gives `telemetron-codec`'s); without one,
    /// no exporter has a spool and there is no cursor journal.
    pub codec: Option<Arc<dyn RecordCodec>>,
}

impl Runtime {
    /// Starts the actor system on threads the runtime owns and returns a handle.
    pub fn start(config: RuntimeConfig) -> Result<Runtime, StartError> {
        let RuntimeConfig {
            settings,
            run,
            exporters,
            plugins,
            codec,
        } = config;
        settings.validate().map_err(StartError::InvalidSetting)?;
        // Calibrate the clock now, not on a caller's first record.
        let _ = crate::model::Timestamp::now();
        let mut names = HashSet::new();
        if let Some(dup) = exporters.iter().find(|s| !names.insert(s.name.clone())) {
            return Err(StartError::DuplicateExporter(dup.name.clone()));
        }
        let shared = Arc::new(Shared {
            counters: RuntimeCounters::default(),
            background: BackgroundErrors::new(settings.error_strategy),
            dropped_starts: Mutex::new(HashSet::new()),
            closing: AtomicBool::new(false),
            room: tokio::sync::Notify::new(),
            ingest_drop_reported_at: Default::default(),
            ingest_drops_unreported: Default::default(),
            failover: Default::default(),
        });
        let (queue, rx) = IngestQueue::new(
            settings.queue_capacity,
            settings.backpressure,
            RuntimeSettings::secs(settings.enqueue_timeout_secs),
        );
        let queue = queue.with_spool_failover(
            shared.failover.clone(),
            RuntimeSettings::secs(settings.disk_spool_retry_timeout_secs),
        );
        let views: Vec<ExporterView> = exporters
            .iter()
            .map(|s| ExporterView {
                name: s.name.clone(),
                health: Arc::new(HealthCell::new(&s.name, &s.exporter_type)),
                counters: Arc::new(ExporterCounters::default()),
                spool: Mutex::new(None),
            })
            .collect();
        let seeds = CursorSeeds::open();
        let spool_settings = codec.map(|codec| spool_settings(&settings, codec));
        let prepared = exporters
            .into_iter()
            .zip(&views)
            .map(|(slot, view)| {
                prepare_exporter(slot, view, &run, &shared, &seeds, spool_settings.as_ref())
            })
            .collect::<Result<Vec<_>, _>>()?;
        // The cursor journal lives beside the spools, when any exporter has one.
        let (journal, journal_seeds) = match &spool_settings {
            Some(spool) if prepared.iter().any(|p| p.spool.is_some()) => {
                match CursorJournal::open(&spool.dir, &run) {
                    Ok((journal, seeds)) => (Some(journal), seeds),
                    Err(e) => {
                        tracing::warn!(target: "telemetron", "no cursor journal: {e}");
                        (None, Vec::new())
                    }
                }
            }
            _ => (None, Vec::new()),
        };
        let setup = ActorSetup {
            exporters: prepared,
            plugins: plugins.into_iter().map(|p| p.factory).collect(),
            sink: super::RecordSink::new(queue.clone(), shared.clone()),
            shared: shared.clone(),
            settings: settings.clone(),
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let system_thread = std::thread::Builder::new()
            .name("telemetron-actors".into())
            .spawn(move || {
                let system = actix::System::new();
                system.block_on(async move {
                    let recorder = setup.start_actors();
                    let _ = ready_tx.send((recorder, actix::System::current()));
                });
                if let Err(e) = system.run() {
                    tracing::error!(target: "telemetron", "actor system stopped with an error: {e}");
                }
            })
            .map_err(|e| StartError::Threads(e.to_string()))?;
        let (recorder, system) = ready_rx.recv().map_err(|_| {
            StartError::Threads("the actor system thread exited during start".into())
        })?;
        let journal_files = journal
            .as_ref()
            .map(CursorJournal::files)
            .unwrap_or_default();
        let pump_recorder = recorder.clone();
        let pump = std::thread::Builder::new()
            .name("telemetron-pump".into())
            .spawn(move || run_pump(rx, pump_recorder, journal))
            .map_err(|e| StartError::Threads(e.to_string()))?;
        let runtime = Runtime {
            inner: Arc::new(Inner {
                queue,
                shared,
                exporters: views,
                settings,
                run,
                closed: AtomicBool::new(false),
                system,
                threads: Mutex::new(vec![pump, system_thread]),
                components: Mutex::new(Vec::new()),
                series: Default::default(),
                rl: Default::default(),
                kinds: Default::default(),
                journal_files,
                _recorder: recorder,
            }),
        };
        // The backend's cursors, then the journal's (a killed writer's, possibly newer): the
        // greater step wins.
        for seed in seeds.take().into_iter().chain(journal_seeds) {
            match seed {
                CursorSeed::LastStep {
                    key,
                    ordering,
                    last_step,
                } => runtime.seed_last_step(key, ordering, last_step),
                CursorSeed::Env {
                    env,
                    last_rl_step,
                    last_episode,
                } => runtime.seed_env(&env, last_rl_step, last_episode),
            }
        }
        Ok(runtime)
    }
}

/// An exporter ready for its actors: its context and its first instance, initialized already
/// when it asks to be initialized at start.
struct PreparedExporter {
    slot: ExporterSlot,
    health: Arc<HealthCell>,
    counters: Arc<ExporterCounters>,
    context: ExporterContext,
    first: Option<FirstInstance>,
    acknowledges_later: bool,
    spool: Option<PreparedSpool>,
}

/// An exporter's spool, opened at start (its leftovers claimed).
struct PreparedSpool {
    spool: Arc<Mutex<ExporterSpool>>,
    status: Arc<Mutex<SpoolStatus>>,
    leftovers: bool,
    offline: bool,
    recovery: (std::time::Duration, std::time::Duration),
}

/// The spool settings of a runtime whose records can be encoded.
fn spool_settings(settings: &RuntimeSettings, codec: Arc<dyn RecordCodec>) -> SpoolSettings {
    SpoolSettings {
        dir: settings
            .spool_dir
            .as_deref()
            .map_or_else(SpoolSettings::default_dir, std::path::PathBuf::from),
        explicit: settings.spool_dir.is_some(),
        segment_bytes: settings.spool_segment_bytes,
        fsync: settings.spool_fsync,
        compression: settings.spool_compression,
        offline: settings.mode == RunMode::Offline,
        codec,
        budget: Arc::new(SpoolBudget::new(settings.spool_max_bytes)),
        recovery_initial: RuntimeSettings::secs(settings.spool_recovery_initial_backoff_secs),
        recovery_max: RuntimeSettings::secs(settings.spool_recovery_max_backoff_secs),
    }
}

/// Opens the spool of an exporter that wants one. An unusable directory fails the start when
/// it was set explicitly or the run is offline; the default directory only warns.
fn open_spool(
    slot: &ExporterSlot,
    network: bool,
    run: &RunIdentity,
    settings: Option<&SpoolSettings>,
    shared: &Shared,
) -> Result<Option<PreparedSpool>, StartError> {
    let offline = settings.is_some_and(|s| s.offline);
    let wants = slot.spool.unwrap_or(network);
    if offline && slot.spool == Some(false) && network {
        return Err(StartError::Spool(format!(
            "exporter {}: mode offline writes every network exporter to its spool, but this one \
             has spool: false",
            slot.name
        )));
    }
    let Some(settings) = settings.filter(|_| wants) else {
        return Ok(None);
    };
    match ExporterSpool::open(settings.clone(), run, &slot.name, &slot.exporter_type) {
        Ok(spool) => Ok(Some(PreparedSpool {
            leftovers: spool.has_leftovers(),
            offline: spool.offline(),
            recovery: spool.recovery_backoff(),
            status: Arc::new(Mutex::new(spool.status())),
            spool: Arc::new(Mutex::new(spool)),
        })),
        Err(e) if settings.explicit || settings.offline => {
            Err(StartError::Spool(format!("exporter {}: {e}", slot.name)))
        }
        Err(e) => {
            shared.report(
                Source::Spool(slot.name.clone()),
                format!(
                    "exporter {}: no disk spool ({e}); set spool_dir to a writable directory",
                    slot.name
                ),
            );
            Ok(None)
        }
    }
}

fn prepare_exporter(
    slot: ExporterSlot,
    view: &ExporterView,
    run: &RunIdentity,
    shared: &Arc<Shared>,
    seeds: &CursorSeeds,
    spool_settings: Option<&SpoolSettings>,
) -> Result<PreparedExporter, StartError> {
    // A factory that panics is left to the worker, which counts and reports it.
    let built = catch_panic(|| (slot.factory)()).ok();
    let network = built.as_ref().is_some_and(|e| e.spool_by_default());
    let spool = open_spool(&slot, network, run, spool_settings, shared)?;
    let mut deliveries = Deliveries::new(slot.name.clone(), view.counters.clone(), shared.clone());
    if let Some(s) = &spool {
        deliveries = deliveries.with_settled(s.spool.lock().settled.clone());
        *view.spool.lock() = Some(s.status.clone());
    }
    let context = ExporterContext {
        name: slot.name.clone(),
        run: run.clone(),
        restarts: 0,
        deliveries,
        seeds: seeds.clone(),
        spooled: spool.is_some(),
    };
    let exporter_error = |message: String| StartError::Exporter {
        name: slot.name.clone(),
        message: crate::redact::redact_text(&message),
    };
    // Offline: a spooled exporter is not started at all (its handshake is deferred to sync).
    let offline = spool.as_ref().is_some_and(|s| s.offline);
    let first = match built {
        Some(mut exporter) => {
            let initialized = exporter.initialize_at_start() && !offline;
            if initialized {
                catch_panic(|| exporter.initialize(&context))
                    .map_err(|panic| exporter_error(format!("panicked: {panic}")))?
                    .map_err(|e| exporter_error(e.to_string()))?;
            }
            Some(FirstInstance {
                exporter,
                initialized,
            })
        }
        None => None,
    };
    Ok(PreparedExporter {
        spool,
        acknowledges_later: first
            .as_ref()
            .is_some_and(|f| f.exporter.acknowledges_later()),
        slot,
        health: view.health.clone(),
        counters: view.counters.clone(),
        context,
        first,
    })
}

struct ActorSetup {
    exporters: Vec<PreparedExporter>,
    plugins: Vec<PluginFactory>,
    sink: super::RecordSink,
    shared: Arc<Shared>,
    settings: RuntimeSettings,
}

impl ActorSetup {
    /// Runs inside the actor system: starts each exporter's worker and actor, then the Recorder.
    fn start_actors(self) -> actix::Addr<Recorder> {
        let s = &self.settings;
        let links = self
            .exporters
            .into_iter()
            .map(|prepared| {
                let PreparedExporter {
                    slot,
                    health,
                    counters,
                    context,
                    first,
                    acknowledges_later,
                    spool,
                } = prepared;
                let opts = ExporterOptions {
                    capacity: slot
                        .queue_capacity
                        .unwrap_or(s.exporter_queue_capacity)
                        .max(1),
                    batch_max_size: slot.batch_max_size.unwrap_or(s.batch_max_size).max(1),
                    batch_max_age: RuntimeSettings::secs(
                        slot.batch_max_age_secs.unwrap_or(s.batch_max_age_secs),
                    ),
                    max_retries: s.max_retries,
                    initial_backoff: RuntimeSettings::secs(s.retry_initial_backoff_secs),
                    max_backoff: RuntimeSettings::secs(s.retry_max_backoff_secs),
                    block: s.backpressure.waits_for_room(),
                    acknowledges_later,
                    delivery_policy: s.delivery_policy,
                    close_spool_reserve: RuntimeSettings::secs(s.close_spool_reserve_secs),
                    limits: HealthLimits {
                        max_consecutive_failures: s.max_consecutive_failures,
                        max_total_failures: s.max_total_failures,
                    },
                };
                let first = Mutex::new(first);
                let restarts = Arc::new(AtomicU32::new(0));
                let failover_now = self
                    .shared
                    .failover
                    .load(std::sync::atomic::Ordering::Acquire);
                let link = spool
                    .as_ref()
                    .map(|p| SpoolLink::new(p.offline, p.leftovers, p.recovery, failover_now));
                let worker_spool = spool.map(|p| WorkerSpool {
                    spool: p.spool,
                    counters: counters.clone(),
                    name: slot.name.clone(),
                    acknowledges_later,
                    status: p.status,
                });
                let (factory, h, sh) = (slot.factory.clone(), health.clone(), self.shared.clone());
                let worker = SyncArbiter::start(1, move || {
                    ExporterWorker::new(
                        factory.clone(),
                        context.clone(),
                        restarts.clone(),
                        h.clone(),
                        sh.clone(),
                        first.lock().take(),
                        worker_spool.clone(),
                    )
                });
                let (name, h, sh) = (slot.name.clone(), health.clone(), self.shared.clone());
                let addr = Supervisor::start(move |_| {
                    ExporterActor::new(name, worker, h, counters, sh, opts.clone(), link)
                });
                ExporterLink {
                    name: slot.name,
                    addr,
                    health,
                    capacity: slot.queue_capacity.unwrap_or(s.exporter_queue_capacity),
                }
            })
            .collect();
        let block = s.backpressure.waits_for_room();
        let (plugins, shared, sink) = (self.plugins, self.shared, self.sink);
        Supervisor::start(move |_| Recorder::new(links, plugins, shared, block, sink))
    }
}
