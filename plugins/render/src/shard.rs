//! An encoder shard: a one-thread `SyncArbiter` actor that owns the open videos of the
//! environments hashed to it, so each environment's frames are encoded in order.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix::{Actor, Handler, Message, SyncContext};
use telemetron_runtime::model::{Record, Rendering, Timestamp};

use crate::encoder::VideoEncoder;
use crate::frame::Frame;
use crate::metrics::bump;
use crate::renderer::RenderShared;

/// Frames are waiting in the shard's inbox.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Wake;

/// Encode what is in the inbox, finish every open video, then answer.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Drain(pub(crate) crossbeam_channel::Sender<()>);

/// The video of one environment's current episode.
struct OpenVideo {
    episode: i64,
    path: PathBuf,
    width: u32,
    height: u32,
    rl_step_first: i64,
    rl_step_last: i64,
    frames: u64,
    /// `None` once writing failed: the rest of the episode's frames are counted as failed.
    encoder: Option<VideoEncoder>,
}

pub(crate) struct EncoderShard {
    shared: Arc<RenderShared>,
    index: usize,
    videos: HashMap<String, OpenVideo>,
}

impl Actor for EncoderShard {
    type Context = SyncContext<Self>;
}

impl EncoderShard {
    /// Runs on the shard's own thread (the `SyncArbiter` factory).
    pub(crate) fn new(shared: Arc<RenderShared>, index: usize) -> Self {
        telemetron_runtime::lower_thread_priority();
        EncoderShard {
            shared,
            index,
            videos: HashMap::new(),
        }
    }

    /// Encodes every frame in the inbox, each inside a panic boundary: a panic in FFmpeg's
    /// wrappers loses that environment's video, not the shard's other environments.
    fn drain_inbox(&mut self) {
        let shared = self.shared.clone();
        shared.inboxes[self.index].drain(|frame| {
            let env_id = frame.env_id.clone();
            match catch_unwind(AssertUnwindSafe(|| self.encode(&frame))) {
                Ok(()) => shared.pool.give(frame.data),
                Err(_) => {
                    self.videos.remove(&env_id);
                    bump(&shared.counters.failed);
                    shared.sink.report_error(format!(
                        "the encoder of env {env_id} panicked; its video is lost"
                    ));
                }
            }
            shared.release_permit();
        });
    }

    fn encode(&mut self, frame: &Frame) {
        let shared = self.shared.clone();
        let counters = &shared.counters;
        if shared.skip_drain.load(Ordering::Acquire) || shared.past_drain_deadline() {
            bump(&counters.dropped_at_close);
            return;
        }
        let rolled = self
            .videos
            .get(&frame.env_id)
            .is_some_and(|v| v.episode != frame.episode);
        if rolled {
            if let Some(old) = self.videos.remove(&frame.env_id) {
                self.finish(&frame.env_id, old);
            }
        }
        let video = match self.videos.get_mut(&frame.env_id) {
            Some(video) => video,
            None => {
                let video = self.open(frame);
                self.videos.entry(frame.env_id.clone()).or_insert(video)
            }
        };
        let Some(encoder) = video.encoder.as_mut() else {
            bump(&counters.failed);
            return;
        };
        if let Err(e) = encoder.push(frame) {
            shared.sink.report_error(format!(
                "rendering of env {} episode {} stopped at frame {}: {e}",
                frame.env_id, frame.episode, video.frames
            ));
            video.encoder = None;
            bump(&counters.failed);
            return;
        }
        if video.frames == 0 {
            video.rl_step_first = frame.rl_step;
            video.rl_step_last = frame.rl_step;
        }
        video.rl_step_first = video.rl_step_first.min(frame.rl_step);
        video.rl_step_last = video.rl_step_last.max(frame.rl_step);
        video.frames += 1;
        bump(&counters.encoded);
    }

    fn open(&self, frame: &Frame) -> OpenVideo {
        let dir = self.shared.run_dir.join(&frame.env_id);
        let opened = create_private_dir(&dir).and_then(|()| {
            let path = create_unused_file(&dir, frame.episode)?;
            VideoEncoder::create(
                self.shared.library,
                &path,
                frame.width,
                frame.height,
                frame.layout,
                &self.shared.encoder,
            )
            .map(|e| (path.clone(), e))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&path);
            })
        });
        let (path, encoder) = match opened {
            Ok((path, encoder)) => (path, Some(encoder)),
            Err(e) => {
                self.shared.sink.report_error(format!(
                    "cannot start the video of env {} episode {}: {e}",
                    frame.env_id, frame.episode
                ));
                bump(&self.shared.counters.videos_failed);
                (dir, None)
            }
        };
        OpenVideo {
            episode: frame.episode,
            path,
            width: frame.width,
            height: frame.height,
            rl_step_first: frame.rl_step,
            rl_step_last: frame.rl_step,
            frames: 0,
            encoder,
        }
    }

    /// Closes the file and sends its rendering record.
    fn finish(&self, env_id: &str, video: OpenVideo) {
        let Some(encoder) = video.encoder else {
            return;
        };
        let counters = &self.shared.counters;
        if let Err(e) = encoder.finish() {
            self.shared.sink.report_error(format!(
                "cannot finish {} (env {env_id} episode {}): {e}",
                video.path.display(),
                video.episode
            ));
            bump(&counters.videos_failed);
            return;
        }
        let bytes = std::fs::metadata(&video.path).map_or(0, |m| m.len());
        counters.bytes_written.fetch_add(bytes, Ordering::Relaxed);
        bump(&counters.videos_finished);
        let fps = self.shared.encoder.fps;
        let record = Record::Rendering(Box::new(Rendering {
            env_id: env_id.to_string(),
            episode: video.episode,
            rl_step_first: video.rl_step_first,
            rl_step_last: video.rl_step_last,
            path: video.path.display().to_string(),
            frames: video.frames,
            width: video.width,
            height: video.height,
            fps,
            duration_secs: video.frames as f64 / f64::from(fps),
            bytes,
            time: Timestamp::now(),
        }));
        if let Err(e) = self.shared.sink.send(record) {
            self.shared.sink.report_error(format!(
                "the rendering record of {} was not delivered: {e}",
                video.path.display()
            ));
        }
    }

    fn finish_all(&mut self) {
        for (env_id, video) in std::mem::take(&mut self.videos) {
            self.finish(&env_id, video);
        }
    }
}

impl Handler<Wake> for EncoderShard {
    type Result = ();

    fn handle(&mut self, _: Wake, _: &mut SyncContext<Self>) {
        self.drain_inbox();
    }
}

impl Handler<Drain> for EncoderShard {
    type Result = ();

    fn handle(&mut self, msg: Drain, _: &mut SyncContext<Self>) {
        self.drain_inbox();
        if catch_unwind(AssertUnwindSafe(|| self.finish_all())).is_err() {
            self.shared
                .sink
                .report_error("an encoder panicked while finishing its videos".into());
        }
        let _ = msg.0.send(());
    }
}

impl Drop for EncoderShard {
    /// A shard stopped without a drain (the runtime was dropped abruptly) still closes its
    /// files so they are playable.
    fn drop(&mut self) {
        let _ = catch_unwind(AssertUnwindSafe(|| self.finish_all()));
    }
}

/// Creates `episode_<n>.mp4`, or `episode_<n>.<k>.mp4` when a file from an earlier process
/// exists, with the mode of every file Telemetron writes (FFmpeg then opens it as it is).
fn create_unused_file(dir: &Path, episode: i64) -> Result<PathBuf, String> {
    let names = std::iter::once(dir.join(format!("episode_{episode}.mp4")))
        .chain((1..10_000).map(|k| dir.join(format!("episode_{episode}.{k}.mp4"))));
    for path in names {
        match telemetron_runtime::files::create_new_private_file(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        }
    }
    Err(format!(
        "no unused name for episode {episode} in {}",
        dir.display()
    ))
}

/// Creates `dir` (and parents) readable by the owner and group only.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), String> {
    telemetron_runtime::files::create_private_dir(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}
