//! Without its encoder library (FFmpeg lives there, not in the core) the renderer refuses to
//! start with an error naming the file, where it looked and how to get it; a file that is not
//! the library is refused as such; and the runtime records and closes as if nothing happened.
//! One test, because the search path is the process's environment.
#![cfg(feature = "render")]

use std::time::Duration;

use serde_json::json;
use telemetron::render::{library_file_name, RenderError, Renderer, PLUGIN_PATH_ENV};
use telemetron::ConfigLoader;

fn start(dir: &std::path::Path) -> telemetron::Runtime {
    telemetron::start(
        ConfigLoader::new()
            .without_discovery()
            .set("run_name", "r1")
            .set(
                "rendering_output_dir",
                dir.join("videos").display().to_string(),
            )
            .exporters(vec![json!({"type": "file", "path": dir.join("out.jsonl")})]),
    )
    .unwrap()
}

fn maps_ffmpeg() -> Vec<String> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains("libavcodec") || l.contains("libx264"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_missing_or_foreign_encoder_library_is_a_clear_error_and_nothing_else_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::env::set_var(PLUGIN_PATH_ENV, &empty);
    let runtime = start(dir.path());

    let missing = Renderer::start(&runtime).err().expect("no library to load");
    assert!(
        matches!(missing, RenderError::EncoderMissing { .. }),
        "{missing:?}"
    );
    let message = missing.to_string();
    for needle in [
        "the H.264 renderer is not installed",
        library_file_name().as_str(),
        empty.to_str().unwrap(),
        "pip install 'telemetron[render]'",
        "cargo build --release -p telemetron-render-ffmpeg",
    ] {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
    assert!(maps_ffmpeg().is_empty(), "{:?}", maps_ffmpeg());

    // A file that is not a Telemetron encoder library, and one that is no library at all.
    let not_ours = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("zlib");
    std::env::set_var(PLUGIN_PATH_ENV, not_ours);
    let foreign = Renderer::start(&runtime).err().unwrap().to_string();
    assert!(
        foreign.contains("not a Telemetron encoder library") && foreign.contains(not_ours),
        "{foreign}"
    );
    let garbage = dir.path().join(library_file_name());
    std::fs::write(&garbage, b"not an ELF file").unwrap();
    std::env::set_var(PLUGIN_PATH_ENV, dir.path());
    let unloadable = Renderer::start(&runtime).err().unwrap();
    assert!(
        matches!(unloadable, RenderError::EncoderUnloadable { .. }),
        "{unloadable:?}"
    );
    assert!(
        unloadable.to_string().contains(garbage.to_str().unwrap()),
        "{unloadable}"
    );

    // The runtime did not notice.
    {
        let _span = runtime.span("after").unwrap();
    }
    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    let text = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert!(text.contains(r#""kind":"span_stop""#) && text.contains(r#""name":"after""#));
    std::env::remove_var(PLUGIN_PATH_ENV);
}
