//! Frames become H.264 .mp4 files that ffprobe reads back with the right codec, pixel format,
//! size, frame count and rate; a new episode rolls the file; close drains; finished videos
//! reach the file exporter as rendering records.
#![cfg(feature = "render")]

mod common;

use std::path::Path;
use std::time::Duration;

use common::video::probe;
use serde_json::json;
use telemetron::render::{Frame, PixelLayout, Renderer};
use telemetron::ConfigLoader;

/// A moving gradient, so the encoder has real work.
pub fn frame(env: &str, episode: i64, step: i64, w: u32, h: u32, layout: PixelLayout) -> Frame {
    let c = layout.channels();
    let mut data = Vec::with_capacity(w as usize * h as usize * c);
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                data.push((x as i64 * 3 + y as i64 * 2 + step * 5 + k as i64 * 40) as u8);
            }
        }
    }
    Frame {
        env_id: env.into(),
        episode,
        rl_step: step,
        width: w,
        height: h,
        layout,
        data,
    }
}

fn start(dir: &Path, settings: serde_json::Value) -> telemetron::Runtime {
    let mut loader = ConfigLoader::new()
        .without_discovery()
        .set("run_name", "r1")
        .set(
            "rendering_output_dir",
            dir.join("videos").display().to_string(),
        )
        .exporters(vec![json!({"type": "file", "path": dir.join("out.jsonl")})]);
    for (k, v) in settings.as_object().unwrap() {
        loader = loader.set(k, v.clone());
    }
    telemetron::start(loader).unwrap()
}

#[test]
fn rgb_and_gray_frames_become_h264_files_that_ffprobe_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = start(dir.path(), json!({"rendering_fps": 24}));
    let renderer = Renderer::start(&runtime).unwrap();
    for step in 0..40 {
        assert!(renderer
            .log_frame(frame("rgb", 0, step, 84, 64, PixelLayout::Rgb24))
            .unwrap());
        assert!(renderer
            .log_frame(frame("gray", 0, 100 + step, 32, 48, PixelLayout::Gray8))
            .unwrap());
    }
    let report = runtime.close(Duration::from_secs(30)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");

    let rgb = probe(&dir.path().join("videos/r1/rgb/episode_0.mp4"));
    assert_eq!(
        (
            rgb.codec.as_str(),
            rgb.pix_fmt.as_str(),
            rgb.width,
            rgb.height
        ),
        ("h264", "yuv420p", 84, 64)
    );
    assert_eq!((rgb.frames, rgb.fps.as_str()), (40, "24/1"));
    let gray = probe(&dir.path().join("videos/r1/gray/episode_0.mp4"));
    assert_eq!((gray.width, gray.height, gray.frames), (32, 48, 40));
    assert_eq!(gray.pix_fmt, "yuv420p");

    let m = renderer.metrics();
    assert_eq!(
        (m.frames_encoded, m.videos_finished, m.frames_queued),
        (80, 2, 0)
    );
    assert!(m.bytes_written > 0);

    let records = common::records_of(&dir.path().join("out.jsonl"));
    let mut renderings: Vec<_> = records
        .iter()
        .filter(|r| r["kind"] == "rendering")
        .collect();
    renderings.sort_by_key(|r| r["env_id"].as_str().unwrap().to_string());
    assert_eq!(renderings.len(), 2);
    let gray_record = renderings[0];
    assert_eq!(gray_record["env_id"], "gray");
    assert_eq!(gray_record["episode"], 0);
    assert_eq!(gray_record["frames"], 40);
    assert_eq!(
        (&gray_record["rl_step_first"], &gray_record["rl_step_last"]),
        (&json!(100), &json!(139))
    );
    assert_eq!(
        (&gray_record["width"], &gray_record["height"]),
        (&json!(32), &json!(48))
    );
    assert_eq!(gray_record["fps"], 24);
    assert!((gray_record["duration_secs"].as_f64().unwrap() - 40.0 / 24.0).abs() < 1e-9);
    let path = gray_record["path"].as_str().unwrap();
    assert!(path.ends_with("videos/r1/gray/episode_0.mp4"), "{path}");
    assert_eq!(
        gray_record["bytes"].as_u64().unwrap(),
        std::fs::metadata(path).unwrap().len()
    );
}

#[test]
fn eight_interleaved_envs_roll_to_a_new_file_on_each_new_episode() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = start(
        dir.path(),
        json!({"rendering_preset": "ultrafast", "rendering_max_concurrent_encoders": 3}),
    );
    let renderer = Renderer::start(&runtime).unwrap();
    // Episode e of env k has 10 + e + k frames, interleaved step by step across envs.
    for episode in 0..3i64 {
        for step in 0..(12 + episode) {
            for env in 0..8i64 {
                if step < 10 + episode + env % 3 {
                    let id = format!("env-{env}");
                    renderer
                        .log_frame(frame(&id, episode, step, 16, 16, PixelLayout::Rgb24))
                        .unwrap();
                }
            }
        }
    }
    let report = runtime.close(Duration::from_secs(60)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    for env in 0..8i64 {
        for episode in 0..3i64 {
            let path = dir
                .path()
                .join(format!("videos/r1/env-{env}/episode_{episode}.mp4"));
            let p = probe(&path);
            assert_eq!(
                p.frames as i64,
                10 + episode + env % 3,
                "{}",
                path.display()
            );
            assert_eq!((p.codec.as_str(), p.fps.as_str()), ("h264", "30/1"));
        }
    }
    let records = common::records_of(&dir.path().join("out.jsonl"));
    let renderings = records.iter().filter(|r| r["kind"] == "rendering").count();
    assert_eq!(renderings, 24);
}

#[test]
fn close_drains_every_queued_frame() {
    let dir = tempfile::tempdir().unwrap();
    // One encoder, medium preset: frames are queued faster than they are encoded.
    let runtime = start(
        dir.path(),
        json!({"rendering_max_concurrent_encoders": 1, "backpressure": "block"}),
    );
    let renderer = Renderer::start(&runtime).unwrap();
    for step in 0..120 {
        renderer
            .log_frame(frame("0", 7, step, 128, 96, PixelLayout::Rgb24))
            .unwrap();
    }
    runtime.close(Duration::from_secs(60)).unwrap();
    assert_eq!(
        probe(&dir.path().join("videos/r1/0/episode_7.mp4")).frames,
        120
    );
    let m = renderer.metrics();
    assert_eq!(
        (
            m.frames_enqueued,
            m.frames_encoded,
            m.frames_dropped_at_close
        ),
        (120, 120, 0)
    );
}

#[test]
fn block_backpressure_waits_for_the_encoder_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = start(
        dir.path(),
        json!({"rendering_queue_max_size": 2, "rendering_max_concurrent_encoders": 1,
               "backpressure": "block"}),
    );
    let renderer = Renderer::start(&runtime).unwrap();
    for step in 0..60 {
        assert!(renderer
            .log_frame(frame("0", 0, step, 128, 128, PixelLayout::Rgb24))
            .unwrap());
    }
    runtime.close(Duration::from_secs(60)).unwrap();
    let m = renderer.metrics();
    assert_eq!(
        (m.frames_enqueued, m.frames_dropped, m.frames_encoded),
        (60, 0, 60)
    );
    assert_eq!(
        probe(&dir.path().join("videos/r1/0/episode_0.mp4")).frames,
        60
    );
}

#[test]
fn a_second_run_with_the_same_name_does_not_overwrite_videos() {
    let dir = tempfile::tempdir().unwrap();
    for frames in [5, 7] {
        let runtime = start(dir.path(), json!({"rendering_preset": "ultrafast"}));
        let renderer = Renderer::start(&runtime).unwrap();
        for step in 0..frames {
            renderer
                .log_frame(frame("0", 0, step, 16, 16, PixelLayout::Rgb24))
                .unwrap();
        }
        runtime.close(Duration::from_secs(30)).unwrap();
    }
    let videos = dir.path().join("videos/r1/0");
    assert_eq!(probe(&videos.join("episode_0.mp4")).frames, 5);
    assert_eq!(probe(&videos.join("episode_0.1.mp4")).frames, 7);
}
