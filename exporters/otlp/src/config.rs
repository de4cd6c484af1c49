//! `{type: otlp, endpoint: ..., protocol: grpc | http/protobuf, headers: {...}, signals: [...]}`
//! and the OpenTelemetry environment variables that fill what the config leaves out.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::endpoint::{parse_endpoint, with_signal_path};

/// Options of the OTLP exporter. Every option left out falls back to the standard
/// `OTEL_EXPORTER_OTLP_*` variable (per-signal variants first), then to the OTLP default.
///
/// ```yaml
/// exporters:
///   - type: otlp
///     endpoint: https://collector.example:4317    # base URL; http/protobuf appends /v1/<signal>
///     protocol: grpc                              # or http/protobuf
///     headers: {authorization: "Bearer ${OTLP_TOKEN}"}   # secret: redacted everywhere
///     signals: [traces, logs]
///     compression: gzip
///     timeout_secs: 10
///     ca_file: /etc/ssl/collector-ca.pem          # plus client_cert_file / client_key_file
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// Base URL of the collector.
    pub endpoint: Option<String>,
    /// Full URL for traces (used as is).
    pub traces_endpoint: Option<String>,
    /// Full URL for logs (used as is).
    pub logs_endpoint: Option<String>,
    /// Full URL for metrics (used as is).
    pub metrics_endpoint: Option<String>,
    /// `grpc` (default) or `http/protobuf`.
    pub protocol: Option<Protocol>,
    /// Extra request headers (gRPC metadata), e.g. an authorization token. Secret.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Signals to send. Default: traces, metrics and logs.
    pub signals: Option<Vec<Signal>>,
    /// Per-request timeout, seconds. Default 10.
    pub timeout_secs: Option<f64>,
    /// `gzip` or `none` (default).
    pub compression: Option<Compression>,
    /// PEM file of the CA that signed the collector's certificate (`https://` only; the
    /// system roots are trusted too).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for mutual TLS (with `client_key_file`).
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
    /// `service.name` of the resource. Default `OTEL_SERVICE_NAME`, then the run's project,
    /// then `telemetron`.
    pub service_name: Option<String>,
    /// More resource attributes (over `OTEL_RESOURCE_ATTRIBUTES`).
    #[serde(default)]
    pub resource_attributes: BTreeMap<String, String>,
}

/// OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// OTLP/gRPC (default port 4317).
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (default port 4318).
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

/// What the exporter sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// Spans (with events and errors).
    Traces,
    /// Log records (and events or errors outside any span).
    Logs,
    /// Metric series.
    Metrics,
}

impl Signal {
    fn env_name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Logs => "LOGS",
            Signal::Metrics => "METRICS",
        }
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Signal::Traces => "v1/traces",
            Signal::Logs => "v1/logs",
            Signal::Metrics => "v1/metrics",
        }
    }
}

/// Request compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// gzip.
    Gzip,
    /// None.
    None,
}

/// Where and how one signal is sent, after the environment filled the gaps.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalTarget {
    /// Full URL (HTTP) or the server URL (gRPC).
    pub url: String,
    /// Transport.
    pub protocol: Protocol,
    /// Headers; values are secrets.
    pub headers: Vec<(String, String)>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// gzip or not.
    pub gzip: bool,
}

/// Reads one environment variable.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OtlpConfigError {
    /// A value from the config or the environment is malformed.
    #[error("{0}")]
    Invalid(String),
}

impl OtlpConfig {
    /// The signals to send.
    pub fn signals(&self) -> Vec<Signal> {
        self.signals
            .clone()
            .unwrap_or_else(|| vec![Signal::Traces, Signal::Metrics, Signal::Logs])
    }

    /// Resolves `signal`'s target: config, then `OTEL_EXPORTER_OTLP_<SIGNAL>_*`, then
    /// `OTEL_EXPORTER_OTLP_*`, then the OTLP defaults.
    pub fn target(&self, signal: Signal, env: Env<'_>) -> Result<SignalTarget, OtlpConfigError> {
        let var = |name: &str| -> Option<String> {
            env(&format!("OTEL_EXPORTER_OTLP_{}_{name}", signal.env_name()))
                .or_else(|| env(&format!("OTEL_EXPORTER_OTLP_{name}")))
                .filter(|v| !v.trim().is_empty())
        };
        let protocol = match self.protocol {
            Some(p) => p,
            None => match var("PROTOCOL").as_deref().map(str::trim) {
                None | Some("grpc") => Protocol::Grpc,
                Some("http/protobuf") => Protocol::HttpProtobuf,
                Some(other) => {
                    return Err(OtlpConfigError::Invalid(format!(
                        "OTEL_EXPORTER_OTLP_PROTOCOL {other:?}: expected grpc or http/protobuf"
                    )))
                }
            },
        };
        let signal_url = match signal {
            Signal::Traces => self.traces_endpoint.clone(),
            Signal::Logs => self.logs_endpoint.clone(),
            Signal::Metrics => self.metrics_endpoint.clone(),
        };
        let per_signal_env = env(&format!(
            "OTEL_EXPORTER_OTLP_{}_ENDPOINT",
            signal.env_name()
        ));
        let base = self
            .endpoint
            .clone()
            .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .unwrap_or_else(|| match protocol {
                Protocol::Grpc => "http://localhost:4317".into(),
                Protocol::HttpProtobuf => "http://localhost:4318".into(),
            });
        let url = match signal_url.or(if self.endpoint.is_none() {
            per_signal_env
        } else {
            None
        }) {
            // Full URLs (and gRPC's server URL) are used as written, once validated.
            Some(full) => parse_endpoint(&full).map(|_| full.trim().to_string())?,
            None => match protocol {
                Protocol::Grpc => parse_endpoint(&base).map(|_| base.trim().to_string())?,
                Protocol::HttpProtobuf => with_signal_path(parse_endpoint(&base)?, signal),
            },
        };
        let mut headers = parse_pairs(&env("OTEL_EXPORTER_OTLP_HEADERS").unwrap_or_default())?;
        let signal_headers = env(&format!("OTEL_EXPORTER_OTLP_{}_HEADERS", signal.env_name()));
        headers.extend(parse_pairs(&signal_headers.unwrap_or_default())?);
        headers.extend(self.headers.clone());
        let timeout = match (self.timeout_secs, var("TIMEOUT")) {
            (Some(secs), _) if secs.is_finite() && secs > 0.0 => Duration::from_secs_f64(secs),
            (Some(secs), _) => {
                return Err(OtlpConfigError::Invalid(format!(
                    "timeout_secs must be a positive number of seconds (got {secs})"
                )))
            }
            (None, Some(ms)) => Duration::from_millis(ms.trim().parse().map_err(|_| {
                OtlpConfigError::Invalid(format!(
                    "OTEL_EXPORTER_OTLP_TIMEOUT {ms:?} is not a number of milliseconds"
                ))
            })?),
            (None, None) => Duration::from_secs(10),
        };
        let gzip = match self.compression {
            Some(c) => c == Compression::Gzip,
            None => match var("COMPRESSION").as_deref().map(str::trim) {
                None | Some("none") => false,
                Some("gzip") => true,
                Some(other) => {
                    return Err(OtlpConfigError::Invalid(format!(
                        "OTEL_EXPORTER_OTLP_COMPRESSION {other:?}: expected gzip or none"
                    )))
                }
            },
        };
        Ok(SignalTarget {
            url,
            protocol,
            headers: headers.into_iter().collect(),
            timeout,
            gzip,
        })
    }

    /// `service.name` and the other resource attributes, after `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource(
        &self,
        project: Option<&str>,
        env: Env<'_>,
    ) -> Result<BTreeMap<String, String>, OtlpConfigError> {
        let mut attrs = parse_pairs(&env("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default())?;
        attrs.extend(self.resource_attributes.clone());
        let service = self
            .service_name
            .clone()
            .or_else(|| env("OTEL_SERVICE_NAME").filter(|s| !s.is_empty()))
            .or_else(|| attrs.get("service.name").cloned())
            .or_else(|| project.map(str::to_string))
            .unwrap_or_else(|| "telemetron".into());
        attrs.insert("service.name".into(), service);
        Ok(attrs)
    }
}

/// `k1=v1,k2=v2` with percent-encoded values (the W3C Baggage form the OTel variables use).
fn parse_pairs(text: &str) -> Result<BTreeMap<String, String>, OtlpConfigError> {
    let mut out = BTreeMap::new();
    for (n, item) in text
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .enumerate()
    {
        let Some((k, v)) = item.split_once('=') else {
            // Never the entry itself: it may be a token.
            return Err(OtlpConfigError::Invalid(format!(
                "entry #{} of an OTEL_* key=value list has no '='",
                n + 1
            )));
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s.trim())
                .decode_utf8_lossy()
                .into_owned()
        };
        out.insert(decode(k), decode(v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_follow_the_otlp_spec() {
        let c = OtlpConfig::default();
        let t = c.target(Signal::Traces, &env_of(&[])).unwrap();
        assert_eq!(
            (t.url.as_str(), t.protocol),
            ("http://localhost:4317", Protocol::Grpc)
        );
        assert_eq!((t.timeout, t.gzip), (Duration::from_secs(10), false));
        let http = OtlpConfig {
            protocol: Some(Protocol::HttpProtobuf),
            ..Default::default()
        };
        let t = http.target(Signal::Logs, &env_of(&[])).unwrap();
        assert_eq!(t.url, "http://localhost:4318/v1/logs");
    }

    #[test]
    fn environment_fills_what_the_config_leaves_out() {
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "http://logs:9000/custom",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20abc,x-team=rl",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=traces"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_SERVICE_NAME", "trainer"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,service.name=ignored",
            ),
        ]);
        let c = OtlpConfig::default();
        let traces = c.target(Signal::Traces, &env).unwrap();
        assert_eq!(traces.url, "http://collector:4318/v1/traces");
        assert_eq!(traces.protocol, Protocol::HttpProtobuf);
        assert_eq!(
            traces.headers,
            vec![
                ("authorization".to_string(), "Bearer abc".to_string()),
                ("x-team".to_string(), "traces".to_string())
            ]
        );
        assert_eq!(
            (traces.timeout, traces.gzip),
            (Duration::from_millis(2500), true)
        );
        assert_eq!(
            c.target(Signal::Logs, &env).unwrap().url,
            "http://logs:9000/custom"
        );
        let resource = c.resource(Some("proj"), &env).unwrap();
        assert_eq!(resource["service.name"], "trainer");
        assert_eq!(resource["deployment.environment"], "prod");

        // The config wins over the environment.
        let c = OtlpConfig {
            endpoint: Some("http://mine:4317".into()),
            protocol: Some(Protocol::Grpc),
            headers: [("x-team".to_string(), "cfg".to_string())].into(),
            ..Default::default()
        };
        let logs = c.target(Signal::Logs, &env).unwrap();
        assert_eq!(
            (logs.url.as_str(), logs.protocol),
            ("http://mine:4317", Protocol::Grpc)
        );
        assert!(logs.headers.contains(&("x-team".into(), "cfg".into())));
    }

    #[test]
    fn malformed_values_are_refused_without_echoing_secrets() {
        let env = env_of(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "tokenwithoutequals-s3cr3t-value-that-is-long-enough",
        )]);
        let err = OtlpConfig::default()
            .target(Signal::Traces, &env)
            .unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(err.to_string().contains("entry #1"), "{err}");
        let bad = OtlpConfig {
            endpoint: Some("collector:4317".into()),
            ..Default::default()
        };
        assert!(bad.target(Signal::Traces, &env_of(&[])).is_err());
        let leaky = OtlpConfig {
            endpoint: Some("ftp://user:pw-0xdeadbeef@host".into()),
            ..Default::default()
        };
        let err = leaky.target(Signal::Traces, &env_of(&[])).unwrap_err();
        assert!(!err.to_string().contains("pw-0xdeadbeef"), "{err}");
    }
}
