//! At close the renderer drains within its timeout, or drops queued frames when told to skip
//! the drain, and reports what it dropped; the files it did write are finished and playable.
#![cfg(feature = "render")]

mod common;

use std::time::Duration;

use common::video::probe;
use serde_json::json;
use telemetron::render::{Frame, PixelLayout, Renderer};
use telemetron::ConfigLoader;

fn run(
    dir: &std::path::Path,
    extra: (&str, serde_json::Value),
) -> (Renderer, telemetron::CloseReport) {
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("run_name", "r1")
        .set("rendering_max_concurrent_encoders", 1)
        .set("rendering_queue_max_size", 400)
        .set(
            "rendering_output_dir",
            dir.join("videos").display().to_string(),
        )
        .set(extra.0, extra.1)
        .exporters(vec![json!({"type": "file", "path": dir.join("out.jsonl")})]);
    let runtime = telemetron::start(loader).unwrap();
    let renderer = Renderer::start(&runtime).unwrap();
    // 300 noisy 256x256 frames at preset medium: seconds of encoding, milliseconds to queue.
    let mut seed = 1u32;
    for step in 0..300 {
        let data = (0..256 * 256 * 3)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 24) as u8
            })
            .collect();
        let f = Frame {
            env_id: "0".into(),
            episode: 0,
            rl_step: step,
            width: 256,
            height: 256,
            layout: PixelLayout::Rgb24,
            data,
        };
        assert!(renderer.log_frame(f).unwrap());
    }
    let report = runtime.close(Duration::from_secs(60)).unwrap();
    (renderer, report)
}

fn check_accounting_and_file(
    dir: &std::path::Path,
    renderer: &Renderer,
    report: &telemetron::CloseReport,
    reason: &str,
) {
    let m = renderer.metrics();
    assert!(m.frames_dropped_at_close > 0, "{m:?}");
    assert_eq!(m.frames_encoded + m.frames_dropped_at_close, 300, "{m:?}");
    let dropped: Vec<_> = report
        .undelivered
        .iter()
        .filter(|u| u.exporter == "renderer")
        .collect();
    assert_eq!(dropped.len(), 1, "{report:?}");
    assert_eq!(dropped[0].records, m.frames_dropped_at_close);
    assert!(dropped[0].reason.contains(reason), "{}", dropped[0].reason);
    if m.frames_encoded > 0 {
        assert_eq!(
            probe(&dir.join("videos/r1/0/episode_0.mp4")).frames,
            m.frames_encoded
        );
    }
}

#[test]
fn skip_drain_drops_queued_frames_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let (renderer, report) = run(dir.path(), ("skip_drain_render_on_close", json!(true)));
    check_accounting_and_file(dir.path(), &renderer, &report, "skip_drain_render_on_close");
}

#[test]
fn the_rendering_close_timeout_bounds_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let (renderer, report) = run(dir.path(), ("rendering_close_timeout_secs", json!(0.0)));
    check_accounting_and_file(dir.path(), &renderer, &report, "rendering close deadline");
}
