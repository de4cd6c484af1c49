//! Chart text needs a TrueType font: plotters draws it with ab_glyph from a font file found on
//! the system (no fontconfig). `TELEMETRON_PLOT_FONT` names one; otherwise common locations
//! are tried. Without one the chart is drawn without text, and a note says so.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Registers a font as `sans-serif` once; false when none could be loaded.
pub(crate) fn available() -> bool {
    static LOADED: OnceLock<bool> = OnceLock::new();
    *LOADED.get_or_init(|| {
        let chosen = std::env::var("TELEMETRON_PLOT_FONT").ok();
        let paths = chosen.iter().map(String::as_str).chain(CANDIDATES.iter().copied());
        for path in paths {
            if let Ok(bytes) = std::fs::read(path) {
                // plotters keeps fonts for the life of the process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        eprintln!(
            "telemetron: note: no TrueType font found (set TELEMETRON_PLOT_FONT=path.ttf, or install \
             fonts-dejavu-core): the chart is drawn without text"
        );
        false
    })
}
