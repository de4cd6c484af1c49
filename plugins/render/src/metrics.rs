//! The renderer's counters: every frame is accounted for.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

#[derive(Default)]
pub(crate) struct RenderCounters {
    pub(crate) added: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) enqueued: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) encoded: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) dropped_at_close: AtomicU64,
    pub(crate) videos_finished: AtomicU64,
    pub(crate) videos_failed: AtomicU64,
    pub(crate) bytes_written: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A snapshot of the renderer's counters. `added = refused + dropped + enqueued` and, once
/// closed, `enqueued = encoded + failed + dropped_at_close`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RenderMetrics {
    /// Frames given to `log_frame`.
    pub frames_added: u64,
    /// Frames refused as invalid (the call returned an error).
    pub frames_refused: u64,
    /// Frames queued for encoding.
    pub frames_enqueued: u64,
    /// Frames dropped by backpressure (`drop_new` or `raise` on a full queue).
    pub frames_dropped: u64,
    /// Frames encoded into a video.
    pub frames_encoded: u64,
    /// Frames lost to an encoder or file error (reported as background errors).
    pub frames_failed: u64,
    /// Frames dropped at close: `skip_drain_render_on_close`, or past the drain deadline.
    pub frames_dropped_at_close: u64,
    /// Frames waiting to be encoded now.
    pub frames_queued: u64,
    /// Videos finished and reported as rendering records.
    pub videos_finished: u64,
    /// Videos that could not be written or finished.
    pub videos_failed: u64,
    /// Bytes of finished videos.
    pub bytes_written: u64,
}

impl RenderCounters {
    pub(crate) fn snapshot(&self, queued: usize) -> RenderMetrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RenderMetrics {
            frames_added: get(&self.added),
            frames_refused: get(&self.refused),
            frames_enqueued: get(&self.enqueued),
            frames_dropped: get(&self.dropped),
            frames_encoded: get(&self.encoded),
            frames_failed: get(&self.failed),
            frames_dropped_at_close: get(&self.dropped_at_close),
            frames_queued: queued as u64,
            videos_finished: get(&self.videos_finished),
            videos_failed: get(&self.videos_failed),
            bytes_written: get(&self.bytes_written),
        }
    }
}
