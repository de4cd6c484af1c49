//! Span start+stop through the Rust API with the file exporter attached, side by side with what
//! a Rust user would pick instead: `tracing` spans recorded by `tracing-subscriber`'s JSON layer
//! (span new + close events) through `tracing-appender`'s non-blocking file writer.
//!
//! Two measurements, each for both libraries:
//! - caller cost: criterion times only the calls, in bursts that fit the queues (the backlog is
//!   drained outside the timing), so it is the price the training thread pays;
//! - sustained throughput: N spans as fast as one thread can record them, with lossless
//!   backpressure, until every line is written to the file (telemetron's `close` then also
//!   fsyncs, timed separately; `tracing`'s guard does not fsync).
//!
//! `cargo bench --bench span_throughput` (set `SPANS=N` for the sustained run, default 2,000,000).
//! Runs on jemalloc, the allocator the Python wheel ships with.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use serde_json::json;
use telemetron::model::Attributes;
use telemetron::{ConfigLoader, Runtime};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const BURST: u64 = 50_000;

/// CPU time of the calling thread: what recording costs the caller, without the time the
/// runtime's own threads take from it on a 2-core machine.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `iters` telemetron start+stop pairs in bursts that fit the queue and returns the time
/// spent in the calls by `clock` (wall or caller CPU); the backlog drains outside the timing.
fn telemetron_bursts(runtime: &Runtime, iters: u64, clock: fn() -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BURST);
        let began = clock();
        for _ in 0..n {
            let span = runtime.start_span("step", None, Attributes::new()).unwrap();
            runtime.stop_span(span, Attributes::new()).unwrap();
        }
        total += clock() - began;
        runtime.flush(Duration::from_secs(60)).unwrap();
        left -= n;
    }
    total
}

fn wall_clock() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

fn telemetron_runtime(path: &Path, queue: usize, backpressure: &str) -> Runtime {
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("queue_capacity", queue)
        .set("exporter_queue_capacity", queue)
        .set("backpressure", backpressure)
        .exporters(vec![json!({"type": "file", "path": path})]);
    telemetron::start(loader).expect("runtime starts")
}

fn bench_caller(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("span_start_stop_caller");
    group.throughput(criterion::Throughput::Elements(1));

    let runtime = telemetron_runtime(
        &dir.path().join("telemetron.jsonl"),
        2 * BURST as usize + 16,
        "block",
    );
    group.bench_function("telemetron_wall", |b| {
        b.iter_custom(|iters| telemetron_bursts(&runtime, iters, wall_clock))
    });
    group.bench_function("telemetron_caller_cpu", |b| {
        b.iter_custom(|iters| telemetron_bursts(&runtime, iters, thread_cpu_time))
    });
    let report = runtime.close(Duration::from_secs(60)).unwrap();
    assert_eq!(report.undelivered_records(), 0);

    let (dispatch, guard) = tracing_dispatch(&dir.path().join("tracing.jsonl"));
    let tracing_calls = |iters: u64, clock: fn() -> Duration| {
        let began = clock();
        for _ in 0..iters {
            let span = tracing::info_span!("step");
            drop(span.enter());
        }
        clock() - began
    };
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("tracing_json_nonblocking_wall", |b| {
            b.iter_custom(|iters| tracing_calls(iters, wall_clock))
        });
        group.bench_function("tracing_json_nonblocking_caller_cpu", |b| {
            b.iter_custom(|iters| tracing_calls(iters, thread_cpu_time))
        });
    });
    drop(guard);
    group.finish();
}

fn tracing_dispatch(
    path: &Path,
) -> (
    tracing::Dispatch,
    tracing_appender::non_blocking::WorkerGuard,
) {
    use tracing_subscriber::fmt::format::FmtSpan;
    let file = std::fs::File::create(path).unwrap();
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(2 * BURST as usize)
        .finish(file);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .with_writer(writer)
        .finish();
    (tracing::Dispatch::new(subscriber), guard)
}

fn sustained() {
    let spans: u64 = std::env::var("SPANS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().unwrap();

    let path = dir.path().join("telemetron.jsonl");
    let runtime = telemetron_runtime(&path, 65_536, "block");
    let began = Instant::now();
    for _ in 0..spans {
        let span = runtime.start_span("step", None, Attributes::new()).unwrap();
        runtime.stop_span(span, Attributes::new()).unwrap();
    }
    let recorded = began.elapsed();
    // Written = every line handed to the file (the point `tracing`'s guard drop also waits
    // for); the fsync that `close` adds is timed on its own.
    while runtime.metrics().exporter_total("file").sent < 2 * spans {
        std::thread::sleep(Duration::from_millis(1));
    }
    let ours = began.elapsed();
    let synced = Instant::now();
    let report = runtime.close(Duration::from_secs(600)).unwrap();
    let fsync = synced.elapsed();
    assert_eq!(report.undelivered_records(), 0);
    let lines = count_lines(&path);
    assert_eq!(
        lines,
        2 * spans + 1,
        "every start and stop (and the header) is on disk"
    );

    let tpath = dir.path().join("tracing.jsonl");
    let (dispatch, guard) = tracing_dispatch(&tpath);
    let tbegan = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..spans {
            let span = tracing::info_span!("step");
            drop(span.enter());
        }
    });
    let trecorded = tbegan.elapsed();
    drop(guard);
    drop(dispatch);
    let theirs = tbegan.elapsed();
    assert_eq!(count_lines(&tpath), 2 * spans);

    let rate = |d: Duration| spans as f64 / d.as_secs_f64();
    println!("\nsustained: {spans} spans (start + stop = 2 lines each) into a JSON Lines file, block backpressure");
    println!(
        "  telemetron: {:>9.0} spans/s end to end ({:.0} ns/span on the caller, {:.2} s until written, then {:.2} s fsync at close)",
        rate(ours),
        recorded.as_nanos() as f64 / spans as f64,
        ours.as_secs_f64(),
        fsync.as_secs_f64()
    );
    println!(
        "  tracing:    {:>9.0} spans/s end to end ({:.0} ns/span on the caller, {:.2} s until written)",
        rate(theirs),
        trecorded.as_nanos() as f64 / spans as f64,
        theirs.as_secs_f64()
    );
    println!(
        "  ratio (telemetron / tracing throughput): {:.2}x",
        rate(ours) / rate(theirs)
    );
}

fn count_lines(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

criterion_group! {
    name = caller;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(4));
    targets = bench_caller
}

fn main() {
    caller();
    Criterion::default().configure_from_args().final_summary();
    sustained();
}
