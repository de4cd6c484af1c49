//! The `Renderer` handle: validates and copies frames on the caller's thread, bounds the queue,
//! routes each environment to its encoder shard, and drains or drops at close.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Addr, SyncArbiter};
use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError};
use parking_lot::{Condvar, Mutex};
use telemetron_runtime::{
    Backpressure, Component, RecordSink, Runtime, RuntimeSettings, Undelivered,
};

use crate::buffer_pool::BufferPool;
use crate::encoder::{probe, EncoderSettings};
use crate::error::RenderError;
use crate::frame::{Frame, PixelLayout};
use crate::inbox::Inbox;
use crate::metrics::{bump, RenderCounters, RenderMetrics};
use crate::plugin::{load_encoder_library, EncoderLibrary};
use crate::shard::{create_private_dir, Drain, EncoderShard, Wake};

/// How long `start` waits for the actor system to start the shards.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// State the handle and every shard share.
pub(crate) struct RenderShared {
    pub(crate) library: &'static EncoderLibrary,
    pub(crate) encoder: EncoderSettings,
    pub(crate) run_dir: PathBuf,
    pub(crate) sink: RecordSink,
    pub(crate) counters: RenderCounters,
    /// One per shard, by shard index.
    pub(crate) inboxes: Vec<Inbox>,
    pub(crate) pool: BufferPool,
    /// One message per queued frame; a shard takes one back when it is done with a frame.
    permits: Receiver<()>,
    pub(crate) skip_drain: AtomicBool,
    drain_deadline: Mutex<Option<Instant>>,
    /// Signalled when the last queued frame has been encoded (for `flush`).
    idle: (Mutex<()>, Condvar),
}

impl RenderShared {
    pub(crate) fn release_permit(&self) {
        let _ = self.permits.try_recv();
        if self.permits.is_empty() {
            // Under the lock: a flush between its check and its wait cannot miss this.
            let _guard = self.idle.0.lock();
            self.idle.1.notify_all();
        }
    }

    /// Waits until every queued frame has been encoded, or `deadline`; `Err` with the number
    /// still queued.
    fn wait_idle(&self, deadline: Instant) -> Result<(), usize> {
        let mut guard = self.idle.0.lock();
        while !self.permits.is_empty() {
            if self.idle.1.wait_until(&mut guard, deadline).timed_out() {
                return match self.permits.len() {
                    0 => Ok(()),
                    n => Err(n),
                };
            }
        }
        Ok(())
    }

    pub(crate) fn past_drain_deadline(&self) -> bool {
        self.drain_deadline
            .lock()
            .is_some_and(|deadline| Instant::now() >= deadline)
    }
}

/// What the caller side remembers of each environment: its episode and frame format.
#[derive(Clone, Copy)]
struct EnvState {
    episode: i64,
    width: u32,
    height: u32,
    layout: PixelLayout,
}

struct RendererInner {
    shared: Arc<RenderShared>,
    shards: Vec<Addr<EncoderShard>>,
    permits: Sender<()>,
    capacity: usize,
    backpressure: Backpressure,
    enqueue_timeout: Duration,
    close_timeout: Option<Duration>,
    skip_drain_on_close: bool,
    envs: Mutex<HashMap<String, EnvState>>,
    closed: AtomicBool,
}

/// The rendering actor's handle: `Send + Sync + Clone`. Frames are copied by the caller and
/// encoded to H.264 on runtime-owned threads; the runtime closes it before its exporters.
#[derive(Clone)]
pub struct Renderer {
    inner: Arc<RendererInner>,
}

impl Renderer {
    /// Starts the encoder shards on `runtime`'s actor system with its `rendering_*` settings,
    /// opening the encoder library first (see [`load_encoder_library`] for where it looks).
    /// Fails when the library or libx264 is missing, or the output directory cannot be written.
    pub fn start(runtime: &Runtime) -> Result<Renderer, RenderError> {
        Self::start_with_library_dirs(runtime, &[])
    }

    /// [`Renderer::start`], looking for the encoder library in `dirs` before the defaults.
    pub fn start_with_library_dirs(
        runtime: &Runtime,
        dirs: &[PathBuf],
    ) -> Result<Renderer, RenderError> {
        let library = load_encoder_library(dirs)?;
        let settings = runtime.settings();
        let encoder = EncoderSettings {
            fps: settings.rendering_fps,
            crf: settings.rendering_crf,
            preset: settings.rendering_preset.clone(),
        };
        probe(library, &encoder).map_err(RenderError::Encoder)?;
        let run_dir =
            Path::new(&settings.rendering_output_dir).join(path_component(&runtime.run().run_name));
        check_writable(&run_dir)?;
        let capacity = settings.rendering_queue_max_size;
        let shard_count = settings.rendering_max_concurrent_encoders.max(1);
        let (permits_tx, permits_rx) = crossbeam_channel::bounded(capacity);
        let shared = Arc::new(RenderShared {
            library,
            encoder,
            run_dir,
            sink: runtime.record_sink(),
            counters: RenderCounters::default(),
            inboxes: (0..shard_count).map(|_| Inbox::new()).collect(),
            pool: BufferPool::new(settings.rendering_buffer_pool_mb << 20),
            permits: permits_rx,
            skip_drain: AtomicBool::new(false),
            drain_deadline: Mutex::new(None),
            idle: (Mutex::new(()), Condvar::new()),
        });
        let shards = start_shards(runtime, &shared, shard_count)?;
        let inner = Arc::new(RendererInner {
            shared,
            shards,
            permits: permits_tx,
            capacity,
            backpressure: settings.backpressure,
            enqueue_timeout: RuntimeSettings::secs(settings.enqueue_timeout_secs),
            close_timeout: settings
                .rendering_close_timeout_secs
                .map(RuntimeSettings::secs),
            skip_drain_on_close: settings.skip_drain_render_on_close,
            envs: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        });
        runtime.attach(Arc::new(RendererCloser(inner.clone())))?;
        Ok(Renderer { inner })
    }

    /// Queues a frame. `Ok(true)`: queued; `Ok(false)`: dropped by `drop_new` backpressure
    /// (counted). Invalid frames, a size change within an episode, or an episode older than the
    /// environment's current one are refused with [`RenderError::Invalid`]; nothing else is lost.
    pub fn log_frame(&self, frame: Frame) -> Result<bool, RenderError> {
        let inner = &*self.inner;
        let counters = &inner.shared.counters;
        bump(&counters.added);
        let result = inner.enqueue(frame);
        match &result {
            Err(RenderError::Invalid { .. }) => bump(&counters.refused),
            Err(_) | Ok(false) => bump(&counters.dropped),
            Ok(true) => bump(&counters.enqueued),
        }
        result
    }

    /// Counts a frame a binding refused before building a [`Frame`] (wrong dtype, not an
    /// array), so `frames_added` covers every call.
    pub fn count_refused(&self) {
        let counters = &self.inner.shared.counters;
        bump(&counters.added);
        bump(&counters.refused);
    }

    /// An empty buffer with room for `len` bytes to copy a frame into, recycled from frames
    /// already encoded when possible (a fresh one costs page faults on the caller's thread).
    pub fn frame_buffer(&self, len: usize) -> Vec<u8> {
        self.inner.shared.pool.take(len)
    }

    /// The renderer's counters.
    pub fn metrics(&self) -> RenderMetrics {
        self.inner
            .shared
            .counters
            .snapshot(self.inner.permits.len())
    }

    /// The directory videos of this run go to (`<rendering_output_dir>/<run_name>`).
    pub fn run_dir(&self) -> &Path {
        &self.inner.shared.run_dir
    }

    /// Whether backpressure can make `log_frame` wait (so a binding should release its lock).
    pub fn may_wait(&self) -> bool {
        self.inner.backpressure == Backpressure::Block || !self.inner.enqueue_timeout.is_zero()
    }
}

impl RendererInner {
    fn enqueue(&self, frame: Frame) -> Result<bool, RenderError> {
        frame.validate()?;
        // Held across the push so that frames of one environment reach its shard in the order
        // their state was checked, and so that none is pushed after close drained the inboxes.
        let mut envs = self.envs.lock();
        if self.closed.load(Ordering::Acquire) {
            return Err(RenderError::Closed);
        }
        let state = EnvState {
            episode: frame.episode,
            width: frame.width,
            height: frame.height,
            layout: frame.layout,
        };
        if let Some(current) = envs.get(&frame.env_id) {
            check_continuity(&frame.env_id, current, &state)?;
        }
        if !self.acquire_permit()? {
            // Dropped: the buffer serves the next frame (under overflow, every frame would
            // otherwise be copied into fresh memory).
            self.shared.pool.give(frame.data);
            return Ok(false);
        }
        match envs.get_mut(&frame.env_id) {
            Some(current) => *current = state,
            None => {
                envs.insert(frame.env_id.clone(), state);
            }
        }
        let shard = shard_of(&frame.env_id, self.shards.len());
        if self.shared.inboxes[shard].push(frame) {
            self.shards[shard].do_send(Wake);
        }
        Ok(true)
    }

    /// Takes a queue slot under the backpressure strategy: `Ok(false)` means drop.
    fn acquire_permit(&self) -> Result<bool, RenderError> {
        match self.permits.try_send(()) {
            Ok(()) => return Ok(true),
            Err(TrySendError::Disconnected(())) => return Err(RenderError::Closed),
            Err(TrySendError::Full(())) => (),
        }
        let waited = match self.backpressure {
            Backpressure::Block => self.permits.send(()).is_ok(),
            _ if self.enqueue_timeout.is_zero() => false,
            _ => match self.permits.send_timeout((), self.enqueue_timeout) {
                Ok(()) => true,
                Err(SendTimeoutError::Timeout(())) => false,
                Err(SendTimeoutError::Disconnected(())) => return Err(RenderError::Closed),
            },
        };
        match (waited, self.backpressure) {
            (true, _) => Ok(true),
            (false, Backpressure::Raise) => Err(RenderError::QueueFull {
                capacity: self.capacity,
            }),
            (false, _) => Ok(false),
        }
    }

    fn close(&self, deadline: Instant) -> Vec<Undelivered> {
        // Under the envs lock: no caller is between its closed check and its push.
        let already_closed = {
            let _envs = self.envs.lock();
            self.closed.swap(true, Ordering::AcqRel)
        };
        if already_closed {
            return Vec::new();
        }
        let shared = &self.shared;
        let drain_deadline = self
            .close_timeout
            .map_or(deadline, |t| deadline.min(Instant::now() + t));
        *shared.drain_deadline.lock() = Some(drain_deadline);
        shared
            .skip_drain
            .store(self.skip_drain(), Ordering::Release);
        let (tx, rx) = crossbeam_channel::bounded(self.shards.len());
        for shard in &self.shards {
            shard.do_send(Drain(tx.clone()));
        }
        // Finishing open files runs past the drain deadline (x264 flushes its lookahead); wait
        // for that until the runtime's own deadline.
        let answered = (0..self.shards.len())
            .take_while(|_| rx.recv_deadline(deadline).is_ok())
            .count();
        let m = shared.counters.snapshot(self.permits.len());
        let mut losses = Vec::new();
        let mut lost = |records: u64, reason: String| {
            if records > 0 {
                losses.push(Undelivered {
                    exporter: "renderer".into(),
                    records,
                    reason,
                });
            }
        };
        lost(
            m.frames_dropped,
            "frames dropped by backpressure during the run".into(),
        );
        lost(
            m.frames_failed,
            "frames lost to encoder or file errors (see background errors)".into(),
        );
        let why = if self.skip_drain() {
            "frames dropped at close: skip_drain_render_on_close is set"
        } else {
            "frames not encoded before the rendering close deadline"
        };
        lost(m.frames_dropped_at_close, why.into());
        if answered < self.shards.len() {
            lost(
                m.frames_queued.max(1),
                format!(
                    "{} encoder(s) did not finish their videos before the close deadline",
                    self.shards.len() - answered
                ),
            );
        }
        losses
    }

    fn skip_drain(&self) -> bool {
        self.skip_drain_on_close
    }
}

/// Refuses a frame whose episode went back or whose format changed within the episode.
fn check_continuity(env_id: &str, current: &EnvState, next: &EnvState) -> Result<(), RenderError> {
    if next.episode < current.episode {
        return Err(RenderError::invalid(
            "episode",
            format!(
                "{} is older than env {env_id}'s current episode {} (its video is finished)",
                next.episode, current.episode
            ),
        ));
    }
    let format = |s: &EnvState| format!("{}x{} {:?}", s.width, s.height, s.layout);
    if next.episode == current.episode && format(next) != format(current) {
        return Err(RenderError::invalid(
            "frame",
            format!(
                "changed from {} to {} within episode {} of env {env_id}; start a new episode to change it",
                format(current),
                format(next),
                next.episode
            ),
        ));
    }
    Ok(())
}

/// FNV-1a: a stable shard for each environment.
fn shard_of(env_id: &str, shards: usize) -> usize {
    let hash = env_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % shards as u64) as usize
}

/// A run name as one directory name: anything but `A-Z a-z 0-9 . _ -` becomes `_`.
fn path_component(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "run".into(),
        _ => cleaned,
    }
}

/// Creates the run's directory and proves a file can be created in it.
fn check_writable(dir: &Path) -> Result<(), RenderError> {
    let error = |reason: String| RenderError::OutputDir {
        path: dir.display().to_string(),
        reason,
    };
    create_private_dir(dir).map_err(error)?;
    let probe = dir.join(format!(".telemetron-write-check-{}", std::process::id()));
    let _ = std::fs::remove_file(&probe);
    telemetron_runtime::files::create_new_private_file(&probe).map_err(|e| error(e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Starts one single-thread `SyncArbiter` per shard on the runtime's actor system.
fn start_shards(
    runtime: &Runtime,
    shared: &Arc<RenderShared>,
    count: usize,
) -> Result<Vec<Addr<EncoderShard>>, RenderError> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let shared = shared.clone();
    runtime.spawn_on_actors(move || {
        let shards: Vec<_> = (0..count)
            .map(|i| {
                let shared = shared.clone();
                SyncArbiter::start_with_thread_builder(
                    1,
                    move || std::thread::Builder::new().name(format!("telemetron-render-{i}")),
                    move || EncoderShard::new(shared.clone(), i),
                )
            })
            .collect();
        let _ = tx.send(shards);
    });
    rx.recv_timeout(START_TIMEOUT)
        .map_err(|_| RenderError::Encoder("the actor system did not start the encoders".into()))
}

/// What the runtime closes before its exporters.
struct RendererCloser(Arc<RendererInner>);

impl Component for RendererCloser {
    fn name(&self) -> &str {
        "renderer"
    }

    fn close(&self, deadline: Instant) -> Vec<Undelivered> {
        self.0.close(deadline)
    }

    /// Every frame queued so far is encoded into its video (the videos stay open: their
    /// episodes may go on).
    fn flush(&self, deadline: Instant) -> Result<(), String> {
        self.0.shared.wait_idle(deadline).map_err(|queued| {
            format!("{queued} frame(s) still waiting for the encoders at the flush deadline")
        })
    }
}
