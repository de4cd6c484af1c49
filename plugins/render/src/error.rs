//! What `log_frame` and `Renderer::start` can refuse.

use telemetron_runtime::EnqueueError;

/// Why a frame was not accepted, or the renderer could not start.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum RenderError {
    /// The frame or its arguments are invalid; nothing was queued.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument at fault (`frame`, `env_id`, `episode`, ...).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The output directory cannot be created or written.
    #[error("rendering output directory {path} is not writable: {reason}")]
    OutputDir {
        /// The directory.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// FFmpeg has no libx264 encoder or refused the settings.
    #[error("the H.264 encoder is unavailable: {0}")]
    Encoder(String),
    /// `backpressure: raise` and the frame queue stayed full for `enqueue_timeout_secs`.
    #[error("the rendering queue is full ({capacity} frames)")]
    QueueFull {
        /// `rendering_queue_max_size`.
        capacity: usize,
    },
    /// The renderer (or its runtime) is closed.
    #[error("the renderer is closed")]
    Closed,
    /// The runtime refused the renderer (it is closing).
    #[error(transparent)]
    Runtime(#[from] EnqueueError),
}

impl RenderError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        RenderError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}
