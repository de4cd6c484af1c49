//! Telemetron's rendering actor: RL environment frames to H.264 `.mp4` files with FFmpeg
//! (libx264, yuv420p), encoded on runtime-owned threads, never on the caller's.
//!
//! This crate does not link FFmpeg: the encoding itself is in `libtelemetron_render_ffmpeg.so`
//! (`plugins/render-ffmpeg`), opened on the renderer's first start through a small versioned C
//! interface (`telemetron-render-abi`). Without that library, [`Renderer::start`] fails with
//! [`RenderError::EncoderMissing`] and nothing else is affected.
//!
//! ```no_run
//! use telemetron_render::{Frame, PixelLayout, Renderer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = telemetron_runtime::Runtime::start(Default::default())?;
//! let renderer = Renderer::start(&runtime)?;
//! for step in 0..30 {
//!     renderer.log_frame(Frame {
//!         env_id: "0".into(), episode: 0, rl_step: step,
//!         width: 84, height: 84, layout: PixelLayout::Rgb24,
//!         data: vec![0; 84 * 84 * 3],
//!     })?;
//! }
//! runtime.close(std::time::Duration::from_secs(10))?; // finishes the video first
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod buffer_pool;
mod encoder;
mod error;
mod frame;
mod inbox;
mod metrics;
mod plugin;
mod renderer;
mod shard;

pub use encoder::EncoderSettings;
pub use error::RenderError;
pub use frame::{check_env_id, Frame, PixelLayout, MAX_DIMENSION};
pub use metrics::RenderMetrics;
pub use plugin::{library_file_name, load_encoder_library, EncoderLibrary, PLUGIN_PATH_ENV};
pub use renderer::Renderer;
