//! The extension's allocator: jemalloc (without initial-exec TLS, so the extension dlopens
//! into any process), with one arena for every thread.
//!
//! jemalloc's default is 4 arenas per CPU, and a thread allocates from its own. The caller,
//! the pump and the exporters each allocate a stage of a record's life, so pages freed after
//! one burst sat dirty in one thread's arena while the next burst faulted in fresh pages from
//! another's: a scalar phase followed by an RL burst peaked 14 MB higher, and the burst took
//! ~2,700 more page faults (benches/RESULTS.md, "Wheels, import and memory"). With a handful of
//! threads, jemalloc's per-thread caches keep the shared arena's lock off the fast path.
//! `_RJEM_MALLOC_CONF` in the environment still overrides this.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A `const char *` jemalloc reads at start-up (`malloc_conf`, prefixed `_rjem_` by
/// tikv-jemalloc-sys).
#[repr(transparent)]
pub struct MallocConf(*const u8);

// SAFETY: points at a static, immutable, NUL-terminated string.
unsafe impl Sync for MallocConf {}

#[used]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: MallocConf = MallocConf(c"narenas:1".as_ptr().cast());
