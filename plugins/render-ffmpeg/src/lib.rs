//! `libtelemetron_render_ffmpeg`: the H.264 encoder behind Telemetron's renderer, in a library
//! of its own so that the core (and `import telemetron`) never links FFmpeg. The renderer opens
//! it on first use and calls it through the C interface of `telemetron-render-abi`; this crate
//! holds everything that touches FFmpeg (`ffmpeg-next`, libx264, swscale, the mp4 muxer).
//!
//! Every exported function catches panics (none may unwind into the host) and reports errors
//! as text in the host's buffer.

mod encoder;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use telemetron_render_abi::{
    EncoderApi, EncoderSettings as CSettings, ErrorBuf, VideoHandle, ABI_VERSION, LAYOUT_GRAY8,
    LAYOUT_RGB24,
};

use crate::encoder::{EncoderSettings, PixelLayout, VideoEncoder};

static API: EncoderApi = EncoderApi {
    abi_version: ABI_VERSION,
    size: std::mem::size_of::<EncoderApi>() as u32,
    describe,
    probe,
    create,
    push,
    finish,
    discard,
};

/// The library's one entry point (see `telemetron_render_abi::ENTRY_SYMBOL`).
#[no_mangle]
pub extern "C" fn telemetron_render_encoder_api() -> *const EncoderApi {
    &API
}

/// Runs `f`, turning an error or a panic into a message in `err`.
fn guarded<T>(err: *mut ErrorBuf, failed: T, f: impl FnOnce() -> Result<T, String>) -> T {
    let message = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => return value,
        Ok(Err(message)) => message,
        Err(_) => "the H.264 encoder library panicked".to_string(),
    };
    if !err.is_null() {
        // SAFETY: the host passes a buffer valid for `cap` bytes (interface contract).
        unsafe { (*err).write(&message) };
    }
    failed
}

/// # Safety
/// `s` points to valid settings whose preset is `preset_len` bytes.
unsafe fn settings_of(s: *const CSettings) -> Result<EncoderSettings, String> {
    // SAFETY: guaranteed by the caller.
    let s = unsafe { &*s };
    let preset = unsafe { std::slice::from_raw_parts(s.preset, s.preset_len) };
    let preset = std::str::from_utf8(preset).map_err(|_| "the preset is not UTF-8".to_string())?;
    if s.fps == 0 {
        return Err("fps must be positive".into());
    }
    Ok(EncoderSettings {
        fps: s.fps,
        crf: s.crf,
        preset: preset.to_string(),
    })
}

unsafe extern "C" fn describe(out: *mut ErrorBuf) {
    let text = catch_unwind(encoder::describe).unwrap_or_else(|_| "unknown".into());
    // SAFETY: the host passes a valid buffer.
    unsafe { (*out).write(&text) };
}

unsafe extern "C" fn probe(settings: *const CSettings, err: *mut ErrorBuf) -> bool {
    guarded(err, false, || {
        // SAFETY: interface contract.
        let settings = unsafe { settings_of(settings) }?;
        encoder::probe(&settings).map(|()| true)
    })
}

unsafe extern "C" fn create(
    path: *const u8,
    path_len: usize,
    width: u32,
    height: u32,
    layout: u32,
    settings: *const CSettings,
    err: *mut ErrorBuf,
) -> VideoHandle {
    guarded(err, std::ptr::null_mut(), || {
        // SAFETY: interface contract: `path` is `path_len` bytes of UTF-8, valid for the call.
        let path = unsafe { std::slice::from_raw_parts(path, path_len) };
        let path = std::str::from_utf8(path).map_err(|_| "the path is not UTF-8".to_string())?;
        let settings = unsafe { settings_of(settings) }?;
        let layout = match layout {
            LAYOUT_RGB24 => PixelLayout::Rgb24,
            LAYOUT_GRAY8 => PixelLayout::Gray8,
            other => return Err(format!("unknown pixel layout {other}")),
        };
        let video = VideoEncoder::create(Path::new(path), width, height, layout, &settings)?;
        Ok(Box::into_raw(Box::new(video)).cast())
    })
}

unsafe extern "C" fn push(
    video: VideoHandle,
    data: *const u8,
    len: usize,
    err: *mut ErrorBuf,
) -> bool {
    guarded(err, false, || {
        // SAFETY: `video` came from `create` and is used by one thread at a time; `data` is
        // `len` bytes valid for the call.
        let video = unsafe { &mut *video.cast::<VideoEncoder>() };
        let data = unsafe { std::slice::from_raw_parts(data, len) };
        video.push(data).map(|()| true)
    })
}

unsafe extern "C" fn finish(video: VideoHandle, err: *mut ErrorBuf) -> bool {
    // SAFETY: `video` came from `create`; the host gives it up here.
    let video = unsafe { Box::from_raw(video.cast::<VideoEncoder>()) };
    guarded(err, false, || video.finish().map(|()| true))
}

unsafe extern "C" fn discard(video: VideoHandle) {
    // SAFETY: as in `finish`.
    let video = unsafe { Box::from_raw(video.cast::<VideoEncoder>()) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(video)));
}
