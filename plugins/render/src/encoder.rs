//! One H.264 .mp4 file being written, through the encoder library's C interface
//! (`plugin.rs` opens it; FFmpeg and libx264 live there, not in this crate).

use std::path::Path;

use telemetron_render_abi::{
    EncoderSettings as CSettings, VideoHandle, LAYOUT_GRAY8, LAYOUT_RGB24,
};

use crate::frame::{Frame, PixelLayout};
use crate::plugin::{text_from, EncoderLibrary};

/// Encoder settings shared by every video of a renderer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncoderSettings {
    /// Frames per second.
    pub fps: u32,
    /// x264 constant rate factor.
    pub crf: u32,
    /// x264 preset.
    pub preset: String,
}

impl EncoderSettings {
    /// The C view, borrowing `preset`.
    fn c(&self) -> CSettings {
        CSettings {
            fps: self.fps,
            crf: self.crf,
            preset: self.preset.as_ptr(),
            preset_len: self.preset.len(),
        }
    }
}

/// Checks that libx264 exists and accepts `settings` by opening a tiny encoder.
pub(crate) fn probe(library: &EncoderLibrary, settings: &EncoderSettings) -> Result<(), String> {
    let c = settings.c();
    let mut ok = false;
    // SAFETY: `c` and the buffer are valid for the call.
    let message = text_from(|err| ok = unsafe { (library.api.probe)(&c, err) });
    if ok {
        Ok(())
    } else {
        Err(message)
    }
}

/// An open video file, owned by the encoder library. It lives and dies on one encoder thread.
pub(crate) struct VideoEncoder {
    library: &'static EncoderLibrary,
    handle: VideoHandle,
}

impl VideoEncoder {
    /// Opens `path` (already created, empty) and writes the container header.
    pub(crate) fn create(
        library: &'static EncoderLibrary,
        path: &Path,
        width: u32,
        height: u32,
        layout: PixelLayout,
        settings: &EncoderSettings,
    ) -> Result<Self, String> {
        let path_text = path
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", path.display()))?;
        let layout = match layout {
            PixelLayout::Rgb24 => LAYOUT_RGB24,
            PixelLayout::Gray8 => LAYOUT_GRAY8,
        };
        let c = settings.c();
        let mut handle: VideoHandle = std::ptr::null_mut();
        let message = text_from(|err| {
            // SAFETY: every pointer is valid for the call.
            handle = unsafe {
                (library.api.create)(
                    path_text.as_ptr(),
                    path_text.len(),
                    width,
                    height,
                    layout,
                    &c,
                    err,
                )
            };
        });
        if handle.is_null() {
            return Err(message);
        }
        Ok(VideoEncoder { library, handle })
    }

    /// Converts and encodes one frame (its size was checked against the video's by the caller).
    pub(crate) fn push(&mut self, frame: &Frame) -> Result<(), String> {
        let mut ok = false;
        let message = text_from(|err| {
            // SAFETY: the handle is ours and open; the frame's bytes are valid for the call.
            ok = unsafe {
                (self.library.api.push)(self.handle, frame.data.as_ptr(), frame.data.len(), err)
            };
        });
        if ok {
            Ok(())
        } else {
            Err(message)
        }
    }

    /// Flushes the encoder, writes the trailer, and closes the file.
    pub(crate) fn finish(self) -> Result<(), String> {
        let this = std::mem::ManuallyDrop::new(self);
        let mut ok = false;
        // SAFETY: the handle is given up here (ManuallyDrop: no discard afterwards).
        let message = text_from(|err| ok = unsafe { (this.library.api.finish)(this.handle, err) });
        if ok {
            Ok(())
        } else {
            Err(message)
        }
    }
}

impl Drop for VideoEncoder {
    /// A video dropped without `finish` (its writing failed) is freed by the library.
    fn drop(&mut self) {
        // SAFETY: the handle is ours and was not finished.
        unsafe { (self.library.api.discard)(self.handle) };
    }
}
