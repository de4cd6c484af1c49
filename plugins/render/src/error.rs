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
    /// The encoder library (FFmpeg + libx264) is not installed where the renderer looks.
    #[error(
        "the H.264 renderer is not installed: {file} was not found (searched: {searched}); \
         install it with `pip install 'telemetron[render]'` (Python), or build it with \
         `cargo build --release -p telemetron-render-ffmpeg` and put it beside your program or \
         in a directory named by TELEMETRON_RENDER_PLUGIN_PATH"
    )]
    EncoderMissing {
        /// The library's file name.
        file: String,
        /// Where the renderer looked.
        searched: String,
    },
    /// The encoder library was found but cannot be opened (typically: FFmpeg's or libx264's
    /// shared libraries are missing).
    #[error(
        "cannot load the H.264 renderer from {path}: {reason} (it needs FFmpeg's libraries with \
         libx264: reinstall `telemetron[render]`, whose wheel carries them, or install FFmpeg)"
    )]
    EncoderUnloadable {
        /// The library file.
        path: String,
        /// The loader's error.
        reason: String,
    },
    /// The encoder library speaks another version of the interface.
    #[error(
        "the H.264 renderer at {path} speaks interface version {found}, this telemetron needs \
         {expected}: install the telemetron-render release that matches telemetron"
    )]
    EncoderVersion {
        /// The library file.
        path: String,
        /// Its interface version.
        found: u32,
        /// Ours.
        expected: u32,
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
