//! A Metrana exporter closed with `close(timeout)` keeps retrying while the server refuses its
//! calls until that deadline (it used to give up after ~7 s of fixed retries whatever the
//! timeout): against the reference server (`tests/metrana_server`, official stubs), a server
//! that refuses for longer than 7 s but comes back within the deadline gets every point; one
//! that never comes back costs exactly the deadline, and the report says what was lost and
//! that close timed out.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use telemetron::model::{Scale, SeriesKey, SeriesOrdering, TimestampsMs, Values};
use telemetron::{ConfigLoader, Runtime, Steps};

/// The interpreter with grpcio and metrana-protobuf (`make` sets it to the project's venv).
fn python() -> String {
    std::env::var("TELEMETRON_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

/// The reference server in a child process, driven over stdin: `REFUSE` makes it refuse every
/// call (UNAVAILABLE), `ACCEPT` ends that, `POINTS <metric>` counts stored points.
struct ReferenceServer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

const DRIVER: &str = r#"
import sys
sys.path.insert(0, sys.argv[1])
from server import MetranaServer
server = MetranaServer(sys.argv[2]).start()
print("READY", server.port, flush=True)
for line in sys.stdin:
    word = line.split()
    if word[0] == "REFUSE":
        server.faults.unavailable_calls = 10**9
    elif word[0] == "ACCEPT":
        server.faults.unavailable_calls = 0
    elif word[0] == "POINTS":
        try:
            found = len(server.points(word[1]))
        except AssertionError:  # no such series
            found = 0
        print("POINTS", found, flush=True)
        continue
    print("OK", flush=True)
"#;

impl ReferenceServer {
    fn start(state: &std::path::Path) -> ReferenceServer {
        let server_dir = format!("{}/tests/metrana_server", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(python())
            .args(["-c", DRIVER, &server_dir])
            .arg(state)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test interpreter runs (make installs grpcio and metrana-protobuf)");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the reference server did not start: {line:?}"));
        ReferenceServer {
            child,
            stdin,
            stdout,
            port,
        }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_string()
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const POINTS: usize = 5_000;

/// Without a spool unless `spool` (the close deadline is what these tests are about).
fn start_logging(server: &ReferenceServer, run_name: &str, spool: Option<&Path>) -> Runtime {
    let mut loader = ConfigLoader::new().without_discovery();
    if let Some(dir) = spool {
        loader = loader.set("spool_dir", dir.display().to_string());
    }
    let loader = loader
        .set("workspace", "w")
        .set("project", "p")
        .set("run_name", run_name)
        .exporters(vec![json!({
            "type": "metrana",
            "endpoint": format!("http://127.0.0.1:{}", server.port),
            "init_timeout_secs": 20,
            "spool": spool.is_some(),
        })]);
    telemetron::start(loader).unwrap()
}

fn log_points(runtime: &Runtime) {
    let key = SeriesKey::new("loss", Scale::MlStep, Vec::new()).unwrap();
    let values: Vec<f32> = (0..POINTS).map(|i| i as f32).collect();
    runtime
        .log_metric(
            key,
            SeriesOrdering::Ordered,
            Steps::Auto,
            Values::from(values),
            TimestampsMs::None,
        )
        .unwrap();
}

#[test]
fn close_retries_until_its_deadline_and_delivers_when_the_server_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ReferenceServer::start(&dir.path().join("state.json"));
    let runtime = start_logging(&server, "comes-back", None);
    assert_eq!(server.ask("REFUSE"), "OK");
    log_points(&runtime);

    // The server refuses for 9 s, longer than the old fixed retries (~7.2 s), then returns.
    let closing = std::thread::spawn(move || runtime.close(Duration::from_secs(30)).unwrap());
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(server.ask("ACCEPT"), "OK");
    let report = closing.join().unwrap();

    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    assert!(!report.timed_out, "{report:?}");
    assert_eq!(server.ask("POINTS loss"), format!("POINTS {POINTS}"));
}

#[test]
fn a_server_that_never_returns_costs_the_deadline_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ReferenceServer::start(&dir.path().join("state.json"));
    let runtime = start_logging(&server, "never-back", None);
    assert_eq!(server.ask("REFUSE"), "OK");
    log_points(&runtime);
    let began = Instant::now();
    let report = runtime.close(Duration::from_secs(3)).unwrap();
    let took = began.elapsed();
    assert!(report.timed_out, "{report:?}");
    let lost = report
        .undelivered
        .iter()
        .find(|u| u.exporter == "metrana")
        .expect("the loss is reported");
    assert_eq!(
        lost.records, 1,
        "one metric record of {POINTS} points: {lost:?}"
    );
    assert!(lost.reason.contains("close deadline"), "{lost:?}");
    // Generous: the point is that it neither gave up early nor blocked past the deadline.
    assert!(
        took < Duration::from_secs(3) + Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(server.ask("POINTS loss"), "POINTS 0");
}

#[test]
fn with_a_spool_what_the_server_never_acknowledged_is_kept_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ReferenceServer::start(&dir.path().join("state.json"));
    let spool = dir.path().join("spool");
    let runtime = start_logging(&server, "spooled-at-close", Some(&spool));
    assert_eq!(server.ask("REFUSE"), "OK");
    log_points(&runtime);
    let began = Instant::now();
    let report = runtime.close(Duration::from_secs(3)).unwrap();
    assert!(began.elapsed() < Duration::from_secs(5));
    // Not lost, not timed out: on disk, where the report says.
    assert_eq!(report.undelivered, vec![], "{report:?}");
    assert!(!report.timed_out, "{report:?}");
    let [spooled] = <[_; 1]>::try_from(report.spooled).unwrap();
    assert_eq!((spooled.exporter.as_str(), spooled.records), ("metrana", 1));
    // TELEMETRON_SPOOL_DIR (set by `make test`) outranks the code's setting.
    let expected = std::env::var_os("TELEMETRON_SPOOL_DIR")
        .filter(|d| !d.is_empty())
        .map_or(spool, std::path::PathBuf::from);
    assert!(
        Path::new(&spooled.path).starts_with(&expected),
        "{spooled:?}"
    );
    assert_eq!(server.ask("POINTS loss"), "POINTS 0");
}
