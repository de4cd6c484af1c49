//! Bad frames are refused with an error naming the problem; the encoders of other
//! environments keep going and nothing already queued is lost.
#![cfg(feature = "render")]

mod common;

use std::time::Duration;

use common::video::probe;
use serde_json::json;
use telemetron::render::{Frame, PixelLayout, RenderError, Renderer};
use telemetron::ConfigLoader;

fn frame(env: &str, episode: i64, step: i64, w: u32, h: u32) -> Frame {
    Frame {
        env_id: env.into(),
        episode,
        rl_step: step,
        width: w,
        height: h,
        layout: PixelLayout::Rgb24,
        data: vec![(step * 9) as u8; w as usize * h as usize * 3],
    }
}

fn loader(dir: &std::path::Path) -> ConfigLoader {
    ConfigLoader::new()
        .without_discovery()
        .set("run_name", "r1")
        .set("rendering_preset", "ultrafast")
        .set(
            "rendering_output_dir",
            dir.join("videos").display().to_string(),
        )
        .exporters(vec![json!({"type": "file", "path": dir.join("out.jsonl")})])
}

fn invalid(result: Result<bool, RenderError>) -> (&'static str, String) {
    match result {
        Err(RenderError::Invalid { what, reason }) => (what, reason),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn bad_frames_are_refused_and_the_good_ones_all_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = telemetron::start(loader(dir.path())).unwrap();
    let renderer = Renderer::start(&runtime).unwrap();
    for step in 0..10 {
        renderer.log_frame(frame("a", 0, step, 32, 32)).unwrap();
        renderer.log_frame(frame("b", 0, step, 16, 16)).unwrap();
    }

    let (what, why) = invalid(renderer.log_frame(frame("a", 0, 10, 33, 32)));
    assert_eq!(what, "frame");
    assert!(why.contains("width 33 is odd"), "{why}");

    let mut short = frame("a", 0, 10, 32, 32);
    short.data.pop();
    let (what, why) = invalid(renderer.log_frame(short));
    assert!(what == "frame" && why.contains("3071 bytes"), "{why}");

    let (what, why) = invalid(renderer.log_frame(frame("a", 0, 10, 64, 32)));
    assert_eq!(what, "frame");
    assert!(
        why.contains("changed from 32x32 Rgb24 to 64x32 Rgb24 within episode 0 of env a"),
        "{why}"
    );

    let mut gray = frame("a", 0, 10, 32, 32);
    gray.layout = PixelLayout::Gray8;
    gray.data.truncate(32 * 32);
    let (_, why) = invalid(renderer.log_frame(gray));
    assert!(why.contains("Gray8"), "{why}");

    let (what, why) = invalid(renderer.log_frame(frame("../escape", 0, 0, 16, 16)));
    assert!(
        what == "env_id" && why.contains("may only contain letters, digits"),
        "{why}"
    );
    let (what, _) = invalid(renderer.log_frame(frame("a", -1, 0, 16, 16)));
    assert_eq!(what, "episode");

    // A new episode may change the size; going back to an older episode is refused.
    renderer.log_frame(frame("a", 1, 11, 64, 32)).unwrap();
    let (what, why) = invalid(renderer.log_frame(frame("a", 0, 12, 32, 32)));
    assert!(
        what == "episode" && why.contains("older than env a's current episode 1"),
        "{why}"
    );

    runtime.close(Duration::from_secs(30)).unwrap();
    let v = |p: &str| probe(&dir.path().join("videos/r1").join(p));
    assert_eq!(v("a/episode_0.mp4").frames, 10);
    assert_eq!(
        (v("a/episode_1.mp4").width, v("a/episode_1.mp4").frames),
        (64, 1)
    );
    assert_eq!(v("b/episode_0.mp4").frames, 10);
    let m = renderer.metrics();
    assert_eq!(
        (m.frames_added, m.frames_refused, m.frames_encoded),
        (28, 7, 21)
    );
}

#[test]
fn an_unwritable_output_dir_fails_at_start_and_names_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"a file").unwrap();
    let runtime = telemetron::start(
        loader(dir.path()).set("rendering_output_dir", blocker.display().to_string()),
    )
    .unwrap();
    let err = Renderer::start(&runtime).err().expect("start must fail");
    assert!(matches!(err, RenderError::OutputDir { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[test]
fn an_env_whose_directory_cannot_be_created_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = telemetron::start(loader(dir.path())).unwrap();
    let renderer = Renderer::start(&runtime).unwrap();
    // A file where env "broken"'s directory should go.
    std::fs::write(dir.path().join("videos/r1/broken"), b"in the way").unwrap();
    for step in 0..6 {
        renderer
            .log_frame(frame("broken", 0, step, 16, 16))
            .unwrap();
        renderer.log_frame(frame("fine", 0, step, 16, 16)).unwrap();
    }
    let report = runtime.close(Duration::from_secs(30)).unwrap();
    assert_eq!(
        probe(&dir.path().join("videos/r1/fine/episode_0.mp4")).frames,
        6
    );
    let m = renderer.metrics();
    assert_eq!(
        (m.frames_encoded, m.frames_failed, m.videos_failed),
        (6, 6, 1)
    );
    let lost: Vec<_> = report
        .undelivered
        .iter()
        .filter(|u| u.exporter == "renderer")
        .collect();
    assert_eq!(lost.len(), 1, "{report:?}");
    assert_eq!(lost[0].records, 6);
    assert!(
        report
            .background_errors
            .iter()
            .any(|e| e.contains("env broken episode 0") && e.contains("broken")),
        "{:?}",
        report.background_errors
    );
}

#[test]
fn a_full_queue_drops_and_counts_or_raises_by_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = telemetron::start(
        loader(dir.path())
            .set("rendering_queue_max_size", 2)
            .set("rendering_max_concurrent_encoders", 1)
            .set("rendering_preset", "medium"),
    )
    .unwrap();
    let renderer = Renderer::start(&runtime).unwrap();
    let queued = (0..60)
        .filter(|&s| renderer.log_frame(frame("0", 0, s, 256, 256)).unwrap())
        .count() as u64;
    runtime.close(Duration::from_secs(30)).unwrap();
    let m = renderer.metrics();
    assert!(m.frames_dropped > 0, "{m:?}");
    assert_eq!((m.frames_enqueued, m.frames_dropped), (queued, 60 - queued));
    assert_eq!(
        probe(&dir.path().join("videos/r1/0/episode_0.mp4")).frames,
        queued
    );

    let dir = tempfile::tempdir().unwrap();
    let runtime = telemetron::start(
        loader(dir.path())
            .set("rendering_queue_max_size", 1)
            .set("rendering_max_concurrent_encoders", 1)
            .set("rendering_preset", "medium")
            .set("backpressure", "raise"),
    )
    .unwrap();
    let renderer = Renderer::start(&runtime).unwrap();
    let full = (0..60)
        .map(|s| renderer.log_frame(frame("0", 0, s, 256, 256)))
        .find(|r| r.is_err())
        .expect("a 1-frame queue fills");
    assert!(
        matches!(full, Err(RenderError::QueueFull { capacity: 1 })),
        "{full:?}"
    );
    runtime.close(Duration::from_secs(30)).unwrap();
}
