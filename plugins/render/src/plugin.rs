//! Finding and opening the H.264 encoder library (`libtelemetron_render_ffmpeg.so`), the only
//! part of the renderer that links FFmpeg. It is opened on the first use of the renderer, once
//! per process, and never closed (x264's threads may outlive a video; unloading is not safe).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libloading::Library;
use parking_lot::Mutex;
use telemetron_render_abi::{EncoderApi, EntryFn, ErrorBuf, ABI_VERSION, ENTRY_SYMBOL};

use crate::error::RenderError;

/// Directories (or files) to look in instead of the defaults, separated like `PATH`.
pub const PLUGIN_PATH_ENV: &str = "TELEMETRON_RENDER_PLUGIN_PATH";

/// The opened encoder library.
pub struct EncoderLibrary {
    pub(crate) api: &'static EncoderApi,
    path: PathBuf,
    description: String,
}

impl EncoderLibrary {
    /// The file it was opened from (or its name, when the system's search path found it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What it was built with, as the library says (FFmpeg's versions and licence, libx264).
    pub fn description(&self) -> &str {
        &self.description
    }
}

static LOADED: OnceLock<EncoderLibrary> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

/// The library's file name on this platform (`libtelemetron_render_ffmpeg.so`).
pub fn library_file_name() -> String {
    libloading::library_filename(telemetron_render_abi::LIBRARY_NAME)
        .to_string_lossy()
        .into_owned()
}

/// Opens the encoder library, once per process. Where it looks: every entry of
/// `TELEMETRON_RENDER_PLUGIN_PATH` when that is set (and nowhere else); otherwise `dirs` (the
/// Python binding passes the `telemetron_render` package's directory), the directory of the
/// running program and its parent, then the system's library search path.
pub fn load_encoder_library(dirs: &[PathBuf]) -> Result<&'static EncoderLibrary, RenderError> {
    if let Some(library) = LOADED.get() {
        return Ok(library);
    }
    let _one_at_a_time = LOADING.lock();
    if let Some(library) = LOADED.get() {
        return Ok(library);
    }
    let file_name = library_file_name();
    let mut searched = Vec::new();
    let mut unloadable = None;
    for candidate in candidates(dirs, &file_name) {
        let Candidate::File(path) = &candidate else {
            // The system's search path: dlopen by bare name.
            searched.push("the system's library path".to_string());
            match open(Path::new(&file_name)) {
                Ok(library) => return Ok(LOADED.get_or_init(|| library)),
                // Not found there is the common case; anything else is worth reporting.
                Err(RenderError::EncoderUnloadable { reason, .. })
                    if reason.contains("cannot open shared object file") => {}
                Err(e) => unloadable = unloadable.or(Some(e)),
            }
            continue;
        };
        searched.push(path.display().to_string());
        if !path.is_file() {
            continue;
        }
        match open(path) {
            Ok(library) => return Ok(LOADED.get_or_init(|| library)),
            Err(e) => unloadable = unloadable.or(Some(e)),
        }
    }
    if searched.is_empty() {
        searched.push(format!("nowhere: {PLUGIN_PATH_ENV} is set but empty"));
    }
    Err(unloadable.unwrap_or(RenderError::EncoderMissing {
        file: file_name,
        searched: searched.join(", "),
    }))
}

enum Candidate {
    File(PathBuf),
    SystemSearchPath,
}

fn candidates(dirs: &[PathBuf], file_name: &str) -> Vec<Candidate> {
    let in_dir = |entry: &Path| {
        if entry.file_name() == Some(OsStr::new(file_name)) || entry.is_file() {
            entry.to_path_buf()
        } else {
            entry.join(file_name)
        }
    };
    if let Some(path) = std::env::var_os(PLUGIN_PATH_ENV) {
        return std::env::split_paths(&path)
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| Candidate::File(in_dir(&p)))
            .collect();
    }
    let mut found: Vec<Candidate> = dirs.iter().map(|d| Candidate::File(in_dir(d))).collect();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        // A program shipped with the library beside it; `deps/..` for cargo's test binaries.
        if let Some(parent) = exe_dir.parent() {
            found.push(Candidate::File(in_dir(&exe_dir)));
            found.push(Candidate::File(in_dir(parent)));
        }
    }
    found.push(Candidate::SystemSearchPath);
    found
}

fn open(path: &Path) -> Result<EncoderLibrary, RenderError> {
    let unloadable = |reason: String| RenderError::EncoderUnloadable {
        path: path.display().to_string(),
        reason,
    };
    // SAFETY: the library's initializers are FFmpeg's and ours; it is kept open for good.
    let library = unsafe { Library::new(path) }.map_err(|e| unloadable(e.to_string()))?;
    // SAFETY: the symbol's type is the interface's entry point.
    let api = unsafe {
        let entry = library
            .get::<EntryFn>(ENTRY_SYMBOL)
            .map_err(|e| unloadable(format!("not a Telemetron encoder library: {e}")))?;
        entry()
    };
    if api.is_null() {
        return Err(unloadable("its entry point returned nothing".into()));
    }
    // SAFETY: `abi_version` and `size` lead every version of the interface; the rest is read
    // only once the version matches.
    let (version, size) = unsafe { ((*api).abi_version, (*api).size) };
    if version != ABI_VERSION || size as usize != std::mem::size_of::<EncoderApi>() {
        return Err(RenderError::EncoderVersion {
            path: path.display().to_string(),
            found: version,
            expected: ABI_VERSION,
        });
    }
    // SAFETY: checked above; the library stays loaded for the life of the process.
    let api: &'static EncoderApi = unsafe { &*api };
    std::mem::forget(library);
    let description = text_from(|buf| unsafe { (api.describe)(buf) });
    Ok(EncoderLibrary {
        api,
        path: path.to_path_buf(),
        description,
    })
}

/// Runs `f` with a fresh error buffer and returns what it wrote.
pub(crate) fn text_from(f: impl FnOnce(*mut ErrorBuf)) -> String {
    let mut storage = vec![0u8; 1024];
    let mut buf = ErrorBuf {
        ptr: storage.as_mut_ptr(),
        cap: storage.len(),
        len: 0,
    };
    f(&mut buf);
    storage.truncate(buf.len.min(storage.len()));
    String::from_utf8_lossy(&storage).into_owned()
}
