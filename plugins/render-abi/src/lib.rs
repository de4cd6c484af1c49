//! The C interface between Telemetron's renderer (in the core, no FFmpeg) and its H.264
//! encoder library (`libtelemetron_render_ffmpeg.so`, which links FFmpeg and libx264 and is
//! opened with `dlopen` on first use).
//!
//! The library exports one symbol, [`ENTRY_SYMBOL`], an `extern "C" fn() -> *const EncoderApi`.
//! [`EncoderApi`] starts with `abi_version` and `size`, whose layout never changes: a host
//! reads them first and refuses a library of another [`ABI_VERSION`] before touching anything
//! else. Everything that crosses is plain C: integers, byte pointers valid for the call, and
//! an opaque video handle the library owns. No Rust type, allocation or panic crosses, so the
//! two sides may be built by different compilers, with different allocators.
#![warn(missing_docs)]

use std::ffi::c_void;

/// The interface version this crate describes. A change to [`EncoderApi`] or to what its
/// functions mean bumps it; host and library must agree exactly.
pub const ABI_VERSION: u32 = 1;

/// The one symbol the library exports (NUL-terminated for `dlsym`).
pub const ENTRY_SYMBOL: &[u8] = b"telemetron_render_encoder_api\0";

/// The library's base name: `libtelemetron_render_ffmpeg.so` on Linux.
pub const LIBRARY_NAME: &str = "telemetron_render_ffmpeg";

/// `layout` of [`EncoderApi::create`]: 3 bytes per pixel, R G B.
pub const LAYOUT_RGB24: u32 = 0;
/// `layout` of [`EncoderApi::create`]: 1 byte per pixel.
pub const LAYOUT_GRAY8: u32 = 1;

/// The entry point's type.
pub type EntryFn = unsafe extern "C" fn() -> *const EncoderApi;

/// Encoder settings shared by every video of a renderer. `preset` is UTF-8, valid for the call.
#[repr(C)]
pub struct EncoderSettings {
    /// Frames per second (> 0).
    pub fps: u32,
    /// x264 constant rate factor, 0–51.
    pub crf: u32,
    /// x264 preset name (`ultrafast` … `placebo`).
    pub preset: *const u8,
    /// Its length in bytes.
    pub preset_len: usize,
}

/// Where the library writes an error message (UTF-8, cut to `cap` bytes on a char boundary),
/// setting `len`. Owned by the caller.
#[repr(C)]
pub struct ErrorBuf {
    /// The caller's buffer.
    pub ptr: *mut u8,
    /// Its size.
    pub cap: usize,
    /// Bytes written.
    pub len: usize,
}

impl ErrorBuf {
    /// Writes `message`, cut to the buffer on a character boundary.
    ///
    /// # Safety
    /// `self.ptr` must be valid for writes of `self.cap` bytes.
    pub unsafe fn write(&mut self, message: &str) {
        let mut n = message.len().min(self.cap);
        while !message.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: the caller guarantees `cap` writable bytes; n <= cap.
        unsafe { std::ptr::copy_nonoverlapping(message.as_ptr(), self.ptr, n) };
        self.len = n;
    }
}

/// An open video, owned by the library until `finish` or `discard`.
pub type VideoHandle = *mut c_void;

/// What the library offers. Every function catches its own panics and reports them as errors;
/// a `false` or null return means `err` holds the reason.
#[repr(C)]
pub struct EncoderApi {
    /// [`ABI_VERSION`] of the library.
    pub abi_version: u32,
    /// `size_of::<EncoderApi>()` of the library.
    pub size: u32,
    /// Writes what the library was built with (FFmpeg and x264 versions) into `out`.
    pub describe: unsafe extern "C" fn(out: *mut ErrorBuf),
    /// Checks that libx264 exists and accepts `settings`.
    pub probe: unsafe extern "C" fn(settings: *const EncoderSettings, err: *mut ErrorBuf) -> bool,
    /// Opens `path` (UTF-8, an existing empty file the host created) as an H.264 .mp4 of
    /// `width` × `height` (even) with `layout` frames. Null on failure.
    pub create: unsafe extern "C" fn(
        path: *const u8,
        path_len: usize,
        width: u32,
        height: u32,
        layout: u32,
        settings: *const EncoderSettings,
        err: *mut ErrorBuf,
    ) -> VideoHandle,
    /// Encodes one frame: `len` = `height` rows of `width` × channels bytes, no padding.
    pub push: unsafe extern "C" fn(
        video: VideoHandle,
        data: *const u8,
        len: usize,
        err: *mut ErrorBuf,
    ) -> bool,
    /// Flushes the encoder, writes the trailer, closes the file and frees `video` (also when
    /// it fails).
    pub finish: unsafe extern "C" fn(video: VideoHandle, err: *mut ErrorBuf) -> bool,
    /// Frees `video` without finishing the file.
    pub discard: unsafe extern "C" fn(video: VideoHandle),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_cut_on_a_character_boundary() {
        let mut storage = [0u8; 4];
        let mut buf = ErrorBuf {
            ptr: storage.as_mut_ptr(),
            cap: storage.len(),
            len: 0,
        };
        unsafe { buf.write("aéé") }; // 1 + 2 + 2 bytes: the second é does not fit
        assert_eq!(&storage[..buf.len], "aé".as_bytes());
    }
}
