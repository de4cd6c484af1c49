//! Telemetry yields the CPU to the job it observes: the threads that encode and send (exporter
//! workers, the renderer's encoders) run at a lower priority than the callers, so on a busy
//! machine the training loop keeps its cores and the telemetry catches up in the gaps.

/// The nice value of exporter and encoder threads.
pub const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`]. Linux's nice value is per
/// thread (threads started from this one inherit it); elsewhere this does nothing.
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread; failure only leaves the priority as is.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE);
    }
}
