//! `log_rendering`: a NumPy-compatible uint8 frame is copied once (through its
//! `__array_interface__`, so any array library works without linking NumPy) and handed to the
//! Rust renderer, started on first use. The renderer's encoder library (FFmpeg + libx264) is
//! not linked into `_native`: it is opened then, from the `telemetron_render` package
//! (`pip install 'telemetron[render]'`) or `TELEMETRON_RENDER_PLUGIN_PATH`; when it cannot be,
//! `log_rendering` raises `ExporterError` saying what is missing and how to get it. Without the
//! `render` feature the call says how to get it.

use pyo3::prelude::*;

#[cfg(feature = "render")]
pub(crate) use enabled::{preload, RendererSlot};

#[cfg(not(feature = "render"))]
pub(crate) use disabled::{preload, RendererSlot};

/// Whether the configuration sets a rendering setting (then the encoder library is opened at
/// configure, so a missing renderer is reported there as a warning, not only at the first frame).
pub(crate) fn rendering_configured(provenance: &[(String, String, String)]) -> bool {
    provenance.iter().any(|(key, _, source)| {
        (key.starts_with("rendering_") || key == "skip_drain_render_on_close")
            && source != "default"
    })
}

/// `None` → `"0"`, an int → its decimal form, a str as is.
fn env_id_of(env_id: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    use crate::errors::ValidationError;
    match env_id {
        None => Ok("0".into()),
        Some(v) if v.is_none() => Ok("0".into()),
        Some(v) => {
            if let Ok(n) = v.extract::<i64>() {
                Ok(n.to_string())
            } else if let Ok(s) = v.extract::<String>() {
                Ok(s)
            } else {
                Err(ValidationError::new_err(format!(
                    "invalid env_id: must be a str or an int, got {}",
                    v.get_type().name()?
                )))
            }
        }
    }
}

#[cfg(feature = "render")]
mod enabled {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use parking_lot::Mutex;
    use pyo3::prelude::*;
    use telemetron::render::{load_encoder_library, Frame, PixelLayout, RenderError, Renderer};
    use telemetron::Runtime;

    use crate::array::ArrayInterface;
    use crate::convert::report_to_python;
    use crate::errors::{
        invalid, ExporterError, QueueFullError, ShutdownError, ToPyErr, ValidationError,
    };

    impl ToPyErr for RenderError {
        fn to_py(self) -> PyErr {
            let message = self.to_string();
            match self {
                RenderError::Invalid { .. } => ValidationError::new_err(message),
                RenderError::QueueFull { .. } => QueueFullError::new_err(message),
                RenderError::Closed => ShutdownError::new_err(message),
                RenderError::Runtime(e) => e.to_py(),
                _ => ExporterError::new_err(message),
            }
        }
    }

    /// The runtime's renderer, started by the first `log_rendering`.
    #[derive(Default)]
    pub(crate) struct RendererSlot {
        renderer: OnceLock<Renderer>,
        starting: Mutex<()>,
    }

    /// Where the `telemetron_render` package (the renderer's wheel) keeps the encoder library,
    /// when it is installed. Importing it loads nothing native.
    fn library_dirs(py: Python<'_>) -> Vec<PathBuf> {
        py.import("telemetron_render")
            .and_then(|m| m.getattr("library_dir")?.call0()?.extract::<PathBuf>())
            .map_or_else(|_| Vec::new(), |dir| vec![dir])
    }

    /// Opens the encoder library without starting the renderer (a `rendering_*` setting was
    /// configured): `Err` with what `log_rendering` would raise.
    pub(crate) fn preload(py: Python<'_>) -> Result<(), String> {
        let dirs = library_dirs(py);
        py.detach(|| load_encoder_library(&dirs).map(drop))
            .map_err(|e| e.to_string())
    }

    impl RendererSlot {
        fn get(&self, py: Python<'_>, runtime: &Runtime) -> PyResult<&Renderer> {
            if let Some(r) = self.renderer.get() {
                return Ok(r);
            }
            let _one_at_a_time = self.starting.lock();
            if let Some(r) = self.renderer.get() {
                return Ok(r);
            }
            let dirs = library_dirs(py);
            let started =
                Renderer::start_with_library_dirs(runtime, &dirs).map_err(ToPyErr::to_py)?;
            Ok(self.renderer.get_or_init(|| started))
        }

        pub(crate) fn log(
            &self,
            py: Python<'_>,
            runtime: &Runtime,
            frame: &Bound<'_, PyAny>,
            rl_step: i128,
            episode: i128,
            env_id: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<bool> {
            let renderer = self.get(py, runtime)?;
            let prepared = super::env_id_of(env_id).and_then(|env_id| {
                // In [0, 2**63): fits i64.
                let rl_step = crate::indices::index("rl_step", rl_step)? as i64;
                let episode = crate::indices::index("episode", episode)? as i64;
                let (height, width, layout, data) = copy_frame(py, frame, renderer)?;
                Ok(Frame {
                    env_id,
                    episode,
                    rl_step,
                    width,
                    height,
                    layout,
                    data,
                })
            });
            let frame = prepared.inspect_err(|_| renderer.count_refused())?;
            let result = if renderer.may_wait() {
                py.detach(|| renderer.log_frame(frame))
            } else {
                renderer.log_frame(frame)
            };
            result.map_err(ToPyErr::to_py)
        }

        pub(crate) fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            match self.renderer.get() {
                Some(r) => report_to_python(py, &r.metrics()),
                None => Ok(py.None().into_bound(py)),
            }
        }
    }

    /// Reads shape, dtype and memory from `__array_interface__` (NumPy converts anything else,
    /// e.g. a CPU torch tensor) and copies the pixels into one packed buffer.
    fn copy_frame(
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        renderer: &Renderer,
    ) -> PyResult<(u32, u32, PixelLayout, Vec<u8>)> {
        let array = ArrayInterface::of(py, frame, "frame")?;
        if !matches!(array.typestr.as_str(), "|u1" | "<u1" | ">u1" | "=u1") {
            return Err(invalid(
                "frame",
                format!("dtype must be uint8, got {}", array.dtype_name()),
            ));
        }
        let shape = &array.shape;
        let (height, width, layout) = PixelLayout::from_shape(shape).map_err(ToPyErr::to_py)?;
        let strides = array.strides.clone();
        let channels = layout.channels();
        let (h, w) = (height as usize, width as usize);
        // Strides per axis, in bytes; C-contiguous when the interface gives none.
        let (sy, sx, sc) = match strides.as_deref() {
            None => ((w * channels) as isize, channels as isize, 1),
            Some([sy, sx]) => (*sy, *sx, 1),
            Some([sy, sx, sc]) => (*sy, *sx, *sc),
            Some(other) => {
                return Err(invalid(
                    "frame",
                    format!("strides {other:?} do not match its shape {shape:?}"),
                ))
            }
        };
        array.check_extent(&[h, w, channels], &[sy, sx, sc], 1, "frame")?;
        let base = array.base;
        let mut pixels = renderer.frame_buffer(h * w * channels);
        // SAFETY: the array is alive and the GIL is held for the whole copy; the interface
        // promises `shape` elements at `base` + index · strides.
        unsafe {
            if sc == 1 && sx == channels as isize && sy == (w * channels) as isize {
                pixels.extend_from_slice(std::slice::from_raw_parts(base, h * w * channels));
            } else if sc == 1 && sx == channels as isize {
                for y in 0..h as isize {
                    let row = std::slice::from_raw_parts(base.offset(y * sy), w * channels);
                    pixels.extend_from_slice(row);
                }
            } else {
                for y in 0..h as isize {
                    for x in 0..w as isize {
                        for c in 0..channels as isize {
                            pixels.push(*base.offset(y * sy + x * sx + c * sc));
                        }
                    }
                }
            }
        }
        Ok((height, width, layout, pixels))
    }
}

#[cfg(not(feature = "render"))]
mod disabled {
    use pyo3::prelude::*;
    use telemetron::Runtime;

    use crate::errors::ConfigError;

    /// Rendering is not compiled in: every call explains how to get it.
    #[derive(Default)]
    pub(crate) struct RendererSlot;

    /// Nothing to open in a build without the renderer.
    pub(crate) fn preload(_py: Python<'_>) -> Result<(), String> {
        Ok(())
    }

    impl RendererSlot {
        pub(crate) fn log(
            &self,
            _py: Python<'_>,
            _runtime: &Runtime,
            _frame: &Bound<'_, PyAny>,
            _rl_step: i128,
            _episode: i128,
            env_id: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<bool> {
            super::env_id_of(env_id)?;
            Err(ConfigError::new_err(
                "log_rendering needs the H.264 renderer, which this build of telemetron lacks: \
                 build the wheel with the `render` feature (`maturin build --features render` in \
                 python/, with FFmpeg's development packages installed)",
            ))
        }

        pub(crate) fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            Ok(py.None().into_bound(py))
        }
    }
}
