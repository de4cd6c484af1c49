//! Endpoint URLs: validated (http or https, a host; errors show them without credentials) and,
//! for OTLP/HTTP, given the signal's path with the `url` crate, so `/v1/traces` goes on the
//! path and never after a query string.

use telemetron_runtime::redact::redact_text;
use url::Url;

use crate::config::{OtlpConfigError, Signal};

/// An endpoint URL: http or https, with a host. Errors show it with its credentials redacted.
pub(crate) fn parse_endpoint(text: &str) -> Result<Url, OtlpConfigError> {
    let shown = || redact_text(text.trim());
    let url = Url::parse(text.trim())
        .map_err(|e| OtlpConfigError::Invalid(format!("endpoint {:?}: {e}", shown())))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(OtlpConfigError::Invalid(format!(
            "endpoint {:?} must start with http:// or https:// and name a host",
            shown()
        )));
    }
    Ok(url)
}

/// `base` + `/v1/<signal>` on its path; a query string or fragment stays where it belongs.
pub(crate) fn with_signal_path(mut base: Url, signal: Signal) -> String {
    let path = format!("{}/{}", base.path().trim_end_matches('/'), signal.path());
    base.set_path(&path);
    base.to_string()
}

#[cfg(test)]
mod tests {
    use crate::config::{OtlpConfig, Protocol, Signal};

    #[test]
    fn http_paths_go_before_the_query_string() {
        let c = OtlpConfig {
            endpoint: Some("https://gw.example/otlp/?tenant=rl&token=t0k#frag".into()),
            protocol: Some(Protocol::HttpProtobuf),
            ..Default::default()
        };
        assert_eq!(
            c.target(Signal::Traces, &|_| None).unwrap().url,
            "https://gw.example/otlp/v1/traces?tenant=rl&token=t0k#frag"
        );
        let bare = OtlpConfig {
            endpoint: Some("http://collector:4318?x=1".into()),
            protocol: Some(Protocol::HttpProtobuf),
            ..Default::default()
        };
        assert_eq!(
            bare.target(Signal::Logs, &|_| None).unwrap().url,
            "http://collector:4318/v1/logs?x=1"
        );
    }
}
