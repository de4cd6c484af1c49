//! A warning for credentials that would travel unencrypted: an API key or bearer token sent to
//! a plain `http://` endpoint on another machine. Loopback is exempt (a local collector or a
//! sidecar is the usual reason for `http://`).

use std::net::IpAddr;

/// Whether `url` is `http://` (not `https://`) to a host other than this machine.
pub fn is_cleartext_remote(url: &str) -> bool {
    let Some(rest) = url.trim().strip_prefix("http://") else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host_port.split(':').next().unwrap_or(host_port),
    };
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// Logs one warning (target `telemetron`) when `credentials` are set and `url` is cleartext to a
/// remote host. `what` names the credentials (`api_key`, `the authorization header`); never
/// their value. Returns whether it warned.
pub fn warn_if_cleartext_credentials(exporter: &str, url: &str, what: &str) -> bool {
    let warn = is_cleartext_remote(url);
    if warn {
        tracing::warn!(
            target: "telemetron",
            "exporter {exporter}: {what} is sent over plain http:// to {}, unencrypted; use an \
             https:// endpoint",
            telemetron_runtime::redact::redact_text(url)
        );
    }
    warn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_https_are_not_cleartext_remote() {
        for url in [
            "https://collector.example:4317",
            "http://localhost:4318/v1/traces",
            "http://127.0.0.1:9",
            "http://127.3.4.5",
            "http://[::1]:4317",
            "http://api.localhost",
            "grpc://odd",
        ] {
            assert!(!is_cleartext_remote(url), "{url}");
        }
        for url in [
            "http://collector.monitoring:4317",
            "http://10.0.0.7:4318/v1/logs?x=1",
            "http://user:pw@192.0.2.1",
            "http://[2001:db8::1]:80/",
        ] {
            assert!(is_cleartext_remote(url), "{url}");
        }
    }
}
