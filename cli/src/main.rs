//! The `telemetron` binary. See the crate docs and `telemetron --help`.

// jemalloc: reading a large export allocates and frees a few small strings per record.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::process::exit(telemetron_cli::run(
        std::env::args_os(),
        &telemetron_cli::Host::default(),
    ));
}
