//! A TLS failure over HTTP or gRPC names its cause (an untrusted certificate), not only "error
//! sending request"; credentials configured for a plain `http://` endpoint on another host log
//! one warning (never the credential), and none for loopback or https.

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use telemetron::model::Attributes;
use telemetron::ConfigLoader;

fn logs() -> &'static common::logs::Captured {
    common::logs::capture_logs()
}

fn logged() -> String {
    logs().text()
}

/// `openssl s_server` with a self-signed certificate nobody trusts.
struct UntrustedTlsServer {
    child: Child,
    port: u16,
}

impl UntrustedTlsServer {
    fn start(dir: &Path) -> UntrustedTlsServer {
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
            ])
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .expect("the openssl CLI (Debian's openssl package) makes the test certificate");
        assert!(status.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .args([
                "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem",
            ])
            .args(["-accept", &port.to_string()])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "openssl s_server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        UntrustedTlsServer { child, port }
    }
}

impl Drop for UntrustedTlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last error of an OTLP exporter that sent one span to `endpoint`.
fn otlp_error(protocol: &str, endpoint: &str) -> String {
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("max_retries", 0)
        .set("batch_max_size", 1)
        .exporters(vec![json!({
            "type": "otlp", "protocol": protocol, "endpoint": endpoint, "timeout_secs": 5,
            "signals": ["traces"],
        })]);
    let runtime = telemetron::start(loader).unwrap();
    let span = runtime.start_span("x", None, Attributes::new()).unwrap();
    runtime.stop_span(span, Attributes::new()).unwrap();
    let _ = runtime.flush(Duration::from_secs(20));
    let health = runtime.exporter_health();
    runtime.close(Duration::from_secs(5)).unwrap();
    health[0].last_error.clone().expect("the export failed")
}

/// Why a Metrana exporter (handshake at start) could not start.
fn metrana_start_error(options: serde_json::Value) -> String {
    let mut exporter = json!({"type": "metrana", "init_timeout_secs": 2});
    exporter
        .as_object_mut()
        .unwrap()
        .extend(options.as_object().unwrap().clone());
    let loader = ConfigLoader::new()
        .without_discovery()
        .set("workspace", "w")
        .set("project", "p")
        .exporters(vec![exporter]);
    match telemetron::start(loader) {
        Ok(_) => panic!("the handshake cannot succeed against an untrusted certificate"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn tls_failures_name_the_untrusted_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = UntrustedTlsServer::start(dir.path());
    let endpoint = format!("https://127.0.0.1:{}", server.port);
    for protocol in ["http/protobuf", "grpc"] {
        let error = otlp_error(protocol, &endpoint);
        assert!(
            error.to_ascii_lowercase().contains("certificate"),
            "{protocol}: the cause is named: {error}"
        );
    }
    // Metrana: the gRPC handshake, and the HTTP exchange of an `ey...` key.
    let handshake = metrana_start_error(json!({"endpoint": endpoint}));
    assert!(
        handshake.to_ascii_lowercase().contains("certificate"),
        "the handshake's cause is named: {handshake}"
    );
    let key = base64_json(&format!(r#"{{"url":"{endpoint}"}}"#));
    let exchange = metrana_start_error(json!({"endpoint": endpoint, "api_key": key}));
    assert!(
        exchange.contains("token exchange")
            && exchange.to_ascii_lowercase().contains("certificate"),
        "the key exchange's cause is named: {exchange}"
    );
    assert!(
        !exchange.contains(&key),
        "the key is never shown: {exchange}"
    );
}

/// Standard base64 (a Metrana key is base64 JSON with the auth root's `url`).
fn base64_json(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

fn build(exporter: serde_json::Value) {
    let loaded = ConfigLoader::new()
        .without_discovery()
        .exporters(vec![exporter])
        .load()
        .unwrap();
    loaded.runtime_config().unwrap();
}

#[test]
fn credentials_over_cleartext_to_another_host_warn_once() {
    logs();
    let token = "tok-cleartext-7d1e";
    let warnings = || {
        logged()
            .lines()
            .filter(|l| l.contains("unencrypted"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // Loopback and https: no warning.
    build(json!({"type": "otlp", "protocol": "http/protobuf",
        "endpoint": "http://127.0.0.1:4318", "headers": {"authorization": format!("Bearer {token}")}}));
    build(
        json!({"type": "otlp", "endpoint": "https://collector.example:4317",
        "headers": {"authorization": format!("Bearer {token}")}}),
    );
    build(json!({"type": "otlp", "endpoint": "http://collector.example:4317"}));
    assert_eq!(warnings(), Vec::<String>::new());

    // Every signal goes there; one warning for the exporter.
    build(json!({"type": "otlp", "protocol": "http/protobuf",
        "endpoint": "http://192.0.2.10:4318", "headers": {"authorization": format!("Bearer {token}")}}));
    let after_otlp = warnings();
    assert_eq!(after_otlp.len(), 1, "{after_otlp:?}");
    assert!(after_otlp[0].contains("authorization header") && after_otlp[0].contains("192.0.2.10"));

    build(
        json!({"type": "metrana", "endpoint": "http://metrana.internal:50051", "api_key": token}),
    );
    let all = warnings();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all[1].contains("metrana") && all[1].contains("api_key"),
        "{all:?}"
    );
    assert!(!logged().contains(token), "the token is never logged");
}
