//! Rendered videos get the mode of every file Telemetron writes (0640), like the JSON Lines,
//! even under umask 0 (FFmpeg alone would create them 0666).
#![cfg(feature = "render")]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::json;
use telemetron::render::{Frame, PixelLayout, Renderer};
use telemetron::ConfigLoader;

#[test]
fn videos_and_json_lines_are_0640() {
    let old = unsafe { libc::umask(0) };
    let dir = tempfile::tempdir().unwrap();
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("run_name", "modes")
        .set("rendering_preset", "ultrafast")
        .set(
            "rendering_output_dir",
            dir.path().join("videos").display().to_string(),
        )
        .exporters(vec![
            json!({"type": "file", "path": dir.path().join("out.jsonl")}),
        ]);
    let runtime = telemetron::start(loader).unwrap();
    let renderer = Renderer::start(&runtime).unwrap();
    for step in 0..5 {
        let frame = Frame {
            env_id: "0".into(),
            episode: 0,
            rl_step: step,
            width: 16,
            height: 16,
            layout: PixelLayout::Gray8,
            data: vec![step as u8 * 40; 16 * 16],
        };
        assert!(renderer.log_frame(frame).unwrap());
    }
    let report = runtime.close(Duration::from_secs(30)).unwrap();
    unsafe { libc::umask(old) };
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&dir.path().join("videos/modes/0/episode_0.mp4")),
        0o640
    );
    assert_eq!(mode(&dir.path().join("out.jsonl")), 0o640);
    assert_eq!(mode(&dir.path().join("videos/modes/0")), 0o750);
}
