//! API keys → the bearer token. A key not starting with `ey` is the token itself. A key
//! starting with `ey` is base64 JSON whose `url` is the auth root: it is exchanged for an access
//! and a refresh token (`POST {url}/api/management/v1/tokens/exchange`), and the access token
//! is refreshed 30 s before its JWT `exp` (`POST {url}/auth/realms/metrana/protocol/
//! openid-connect/token`); a refused refresh falls back to a fresh exchange, a transient one
//! keeps the old token until it really expires. Tokens never reach logs or errors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::Deserialize;
use telemetron_runtime::exporter::error_chain;
use telemetron_runtime::redact::redact_text;
use telemetron_runtime::ExportError;

const EXCHANGE_PATH: &str = "/api/management/v1/tokens/exchange";
const REFRESH_PATH: &str = "/auth/realms/metrana/protocol/openid-connect/token";
/// Refresh this long before the access token expires.
const REFRESH_MARGIN_SECS: u64 = 30;

#[derive(Deserialize)]
struct KeyPayload {
    url: String,
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    exp: Option<u64>,
}

/// Where the bearer token comes from.
pub(crate) enum Auth {
    /// No key: no `authorization` header.
    None,
    /// A plain key, used as the token.
    Plain(String),
    /// An exchanged key.
    Exchanged(Box<Exchange>),
}

pub(crate) struct Exchange {
    key: String,
    root: String,
    http: reqwest::Client,
    access: String,
    refresh: Option<String>,
    /// Unix seconds; `None` when the token carries no `exp`.
    expires: Option<u64>,
}

impl Auth {
    /// Reads the key; an `ey...` key is exchanged now.
    pub(crate) fn new(
        runtime: &tokio::runtime::Runtime,
        api_key: Option<&str>,
    ) -> Result<Auth, ExportError> {
        match api_key {
            None | Some("") => Ok(Auth::None),
            Some(key) if !key.starts_with("ey") => Ok(Auth::Plain(key.to_string())),
            Some(key) => {
                let payload = decode_base64(key)
                    .and_then(|bytes| serde_json::from_slice::<KeyPayload>(&bytes).ok())
                    .ok_or_else(|| {
                        ExportError::failed(
                            "the api_key starts with `ey` but is not a Metrana key (base64 JSON \
                             with a `url`)",
                        )
                    })?;
                let http = reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(20))
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .build()
                    .map_err(|e| ExportError::failed(format!("HTTP client: {e}")))?;
                let mut exchange = Exchange {
                    key: key.to_string(),
                    root: payload.url.trim_end_matches('/').to_string(),
                    http,
                    access: String::new(),
                    refresh: None,
                    expires: None,
                };
                runtime.block_on(exchange.exchange())?;
                Ok(Auth::Exchanged(Box::new(exchange)))
            }
        }
    }

    /// The token to send now, refreshed first when it is about to expire.
    pub(crate) fn token(
        &mut self,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<Option<String>, ExportError> {
        match self {
            Auth::None => Ok(None),
            Auth::Plain(key) => Ok(Some(key.clone())),
            Auth::Exchanged(exchange) => {
                if exchange.due(REFRESH_MARGIN_SECS) {
                    runtime.block_on(exchange.renew())?;
                }
                Ok(Some(exchange.access.clone()))
            }
        }
    }
}

impl Exchange {
    fn due(&self, margin: u64) -> bool {
        self.expires.is_some_and(|exp| exp <= now_secs() + margin)
    }

    async fn exchange(&mut self) -> Result<(), ExportError> {
        let url = format!("{}{EXCHANGE_PATH}", self.root);
        let body = serde_json::json!({ "api_token": self.key });
        let mut attempt = 0;
        let response = loop {
            match self.http.post(&url).json(&body).send().await {
                Ok(response) => break response,
                // Connection failures are retried twice, as Metrana's client does.
                Err(e) if attempt < 2 && e.is_connect() => attempt += 1,
                Err(e) => {
                    return Err(ExportError::retryable(format!(
                        "token exchange at {}: {}",
                        redact_text(&url),
                        error_chain(&e.without_url())
                    )))
                }
            }
        };
        self.take(response, "the token exchange").await
    }

    /// Refreshes the access token; a refused refresh falls back to a new exchange, a
    /// transient failure keeps the current token until it expires.
    async fn renew(&mut self) -> Result<(), ExportError> {
        let Some(refresh) = self.refresh.clone() else {
            return self.exchange().await;
        };
        let url = format!("{}{REFRESH_PATH}", self.root);
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", "metrana-sdk"),
            ("refresh_token", refresh.as_str()),
        ];
        let sent = self.http.post(&url).form(&form).send().await;
        let outcome = match sent {
            Ok(response) => self.take(response, "the token refresh").await,
            Err(e) => Err(ExportError::retryable(format!(
                "token refresh at {}: {}",
                redact_text(&url),
                error_chain(&e.without_url())
            ))),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() && !self.due(0) => {
                tracing::warn!(target: "telemetron", "metrana: {e}; keeping the current token");
                Ok(())
            }
            Err(e) if e.is_retryable() => Err(e),
            Err(_) => self.exchange().await,
        }
    }

    async fn take(&mut self, response: reqwest::Response, what: &str) -> Result<(), ExportError> {
        let status = response.status();
        if !status.is_success() {
            let message = format!("{what} was answered {status}");
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                ExportError::retryable(message)
            } else {
                ExportError::failed(format!("{message}: the api_key was refused"))
            });
        }
        let tokens: Tokens = response.json().await.map_err(|e| {
            ExportError::failed(format!("{what}: unreadable answer: {}", error_chain(&e)))
        })?;
        self.expires = jwt_expiry(&tokens.access_token);
        self.access = tokens.access_token;
        if tokens.refresh_token.is_some() {
            self.refresh = tokens.refresh_token;
        }
        Ok(())
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
}

/// The `exp` claim of a JWT (not verified: the server does that).
fn jwt_expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice::<Claims>(&decode_base64(payload)?)
        .ok()?
        .exp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_claims_decode() {
        let key = base64::engine::general_purpose::STANDARD.encode(br#"{"url":"http://a:1/"}"#);
        assert!(key.starts_with("ey"));
        let payload: KeyPayload =
            serde_json::from_slice(&decode_base64(&key).expect("base64")).expect("json");
        assert_eq!(payload.url, "http://a:1/");
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":1234}"#);
        assert_eq!(jwt_expiry(&format!("h.{claims}.s")), Some(1234));
        assert_eq!(jwt_expiry("opaque"), None);
    }
}
