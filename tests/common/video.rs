//! What ffprobe says about a video: the facts a user would check.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

#[derive(Debug, PartialEq)]
pub struct Probe {
    pub codec: String,
    pub pix_fmt: String,
    pub width: u64,
    pub height: u64,
    pub frames: u64,
    pub fps: String,
}

/// Runs ffprobe (decoding every frame to count them).
pub fn probe(path: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,pix_fmt,width,height,nb_read_frames,avg_frame_rate",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs (Debian package ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["streams"][0];
    Probe {
        codec: s["codec_name"].as_str().unwrap().into(),
        pix_fmt: s["pix_fmt"].as_str().unwrap().into(),
        width: s["width"].as_u64().unwrap(),
        height: s["height"].as_u64().unwrap(),
        frames: s["nb_read_frames"].as_str().unwrap().parse().unwrap(),
        fps: s["avg_frame_rate"].as_str().unwrap().into(),
    }
}
