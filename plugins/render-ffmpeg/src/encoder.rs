//! One H.264 .mp4 file being written: libx264, yuv420p, RGB/gray → YUV with swscale.

use std::path::Path;
use std::sync::Once;

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{codec, encoder, format, frame, Dictionary, Packet, Rational};
use ffmpeg_next as ffmpeg;

/// Encoder settings shared by every video of a renderer (copied from the host's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncoderSettings {
    pub(crate) fps: u32,
    pub(crate) crf: u32,
    pub(crate) preset: String,
}

/// How a frame's bytes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PixelLayout {
    Rgb24,
    Gray8,
}

impl PixelLayout {
    fn channels(self) -> usize {
        match self {
            PixelLayout::Rgb24 => 3,
            PixelLayout::Gray8 => 1,
        }
    }
}

static INIT: Once = Once::new();
static INIT_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Initializes FFmpeg once and keeps x264's per-file statistics off stderr.
pub(crate) fn init_ffmpeg() -> Result<(), String> {
    INIT.call_once(|| {
        if let Err(e) = ffmpeg::init() {
            let _ = INIT_ERROR.set(format!("FFmpeg failed to initialize: {e}"));
        }
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Error);
    });
    INIT_ERROR.get().map_or(Ok(()), |e| Err(e.clone()))
}

/// The versions of the libraries this encoder runs with.
pub(crate) fn describe() -> String {
    let version = |v: u32| format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    format!(
        "FFmpeg libavcodec {}, libavformat {}, libswscale {} ({}); libx264 {}",
        version(ffmpeg::codec::version()),
        version(ffmpeg::format::version()),
        version(ffmpeg::software::scaling::version()),
        ffmpeg::codec::license(),
        if encoder::find_by_name("libx264").is_some() {
            "present"
        } else {
            "missing"
        }
    )
}

/// Checks that libx264 exists and accepts `settings` by opening a tiny encoder.
pub(crate) fn probe(settings: &EncoderSettings) -> Result<(), String> {
    init_ffmpeg()?;
    let codec = encoder::find_by_name("libx264")
        .ok_or("FFmpeg was built without libx264 (install an FFmpeg with libx264)")?;
    open_codec(codec, 16, 16, settings, false).map(drop)
}

fn open_codec(
    codec: ffmpeg::Codec,
    width: u32,
    height: u32,
    settings: &EncoderSettings,
    global_header: bool,
) -> Result<encoder::Video, String> {
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| format!("cannot create an H.264 encoder: {e}"))?;
    enc.set_width(width);
    enc.set_height(height);
    enc.set_format(Pixel::YUV420P);
    enc.set_time_base(Rational(1, settings.fps as i32));
    enc.set_frame_rate(Some(Rational(settings.fps as i32, 1)));
    if global_header {
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut options = Dictionary::new();
    options.set("preset", &settings.preset);
    options.set("crf", &settings.crf.to_string());
    // libx264's own default, frame threads "auto" (1.5 per core): one video can use every
    // core. Set explicitly, since the FFmpeg library default elsewhere is one thread.
    options.set("threads", "auto");
    enc.open_with(options)
        .map_err(|e| format!("libx264 refused {width}x{height} with {settings:?}: {e}"))
}

/// An open video file. It lives and dies on one encoder thread of the host.
pub(crate) struct VideoEncoder {
    output: format::context::Output,
    encoder: encoder::Video,
    scaler: scaling::Context,
    input: frame::Video,
    yuv: frame::Video,
    encoder_time_base: Rational,
    stream_time_base: Rational,
    next_pts: i64,
    packet: Packet,
    width: u32,
    height: u32,
    layout: PixelLayout,
}

impl VideoEncoder {
    /// Creates `path` and writes the container header.
    pub(crate) fn create(
        path: &Path,
        width: u32,
        height: u32,
        layout: PixelLayout,
        settings: &EncoderSettings,
    ) -> Result<Self, String> {
        init_ffmpeg()?;
        let codec = encoder::find_by_name("libx264").ok_or("FFmpeg has no libx264 encoder")?;
        let mut output = format::output_as(path, "mp4")
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let global_header = output
            .format()
            .flags()
            .contains(format::Flags::GLOBAL_HEADER);
        let encoder = open_codec(codec, width, height, settings, global_header)?;
        let mut stream = output
            .add_stream(codec)
            .map_err(|e| format!("cannot add a video stream: {e}"))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(Rational(1, settings.fps as i32));
        stream.set_rate(Rational(settings.fps as i32, 1));
        stream.set_avg_frame_rate(Rational(settings.fps as i32, 1));
        output
            .write_header()
            .map_err(|e| format!("cannot write the header of {}: {e}", path.display()))?;
        // The muxer picks its own stream time base in write_header.
        let stream_time_base = output
            .stream(0)
            .map(|s| s.time_base())
            .ok_or("the output has no stream")?;
        let source = match layout {
            PixelLayout::Rgb24 => Pixel::RGB24,
            PixelLayout::Gray8 => Pixel::GRAY8,
        };
        let scaler = scaling::Context::get(
            source,
            width,
            height,
            Pixel::YUV420P,
            width,
            height,
            scaling::Flags::BILINEAR,
        )
        .map_err(|e| format!("swscale cannot convert {source:?} to yuv420p: {e}"))?;
        Ok(VideoEncoder {
            output,
            encoder,
            scaler,
            input: frame::Video::new(source, width, height),
            yuv: frame::Video::new(Pixel::YUV420P, width, height),
            encoder_time_base: Rational(1, settings.fps as i32),
            stream_time_base,
            next_pts: 0,
            packet: Packet::empty(),
            width,
            height,
            layout,
        })
    }

    /// Converts and encodes one frame: `height` rows of `width` × channels bytes.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<(), String> {
        let row = self.width as usize * self.layout.channels();
        if data.len() != row * self.height as usize {
            return Err(format!(
                "a frame of {} bytes for a {}x{} {:?} video (needs {})",
                data.len(),
                self.width,
                self.height,
                self.layout,
                row * self.height as usize
            ));
        }
        let stride = self.input.stride(0);
        let plane = self.input.data_mut(0);
        for (y, src) in data.chunks_exact(row).enumerate() {
            plane[y * stride..y * stride + row].copy_from_slice(src);
        }
        self.scaler
            .run(&self.input, &mut self.yuv)
            .map_err(|e| format!("swscale failed: {e}"))?;
        self.yuv.set_pts(Some(self.next_pts));
        self.next_pts += 1;
        self.encoder
            .send_frame(&self.yuv)
            .map_err(|e| format!("libx264 refused a frame: {e}"))?;
        self.write_packets()
    }

    /// Flushes the encoder, writes the trailer, and closes the file.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        self.encoder
            .send_eof()
            .map_err(|e| format!("libx264 could not flush: {e}"))?;
        self.write_packets()?;
        self.output
            .write_trailer()
            .map_err(|e| format!("cannot write the trailer: {e}"))
    }

    fn write_packets(&mut self) -> Result<(), String> {
        while self.encoder.receive_packet(&mut self.packet).is_ok() {
            self.packet.set_stream(0);
            // Without a duration ffprobe reports an odd frame rate for the last frame.
            self.packet.set_duration(1);
            self.packet
                .rescale_ts(self.encoder_time_base, self.stream_time_base);
            self.packet
                .write_interleaved(&mut self.output)
                .map_err(|e| format!("cannot write a packet: {e}"))?;
        }
        Ok(())
    }
}
