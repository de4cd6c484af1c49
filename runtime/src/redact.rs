//! Keeping secrets out of every message the runtime produces: option names that look secret,
//! URL credentials (`http://user:pass@host`, `?token=...`), and the values of secrets the
//! configuration declared (registered once, scrubbed from every later message).
//!
//! One place decides, so logs, background errors, exporter health, close reports and
//! `config show` agree.
//!
//! ```
//! use telemetron_runtime::redact::{is_secret_name, redact_text, register_secret};
//! assert!(is_secret_name("db_passwd") && is_secret_name("DSN") && !is_secret_name("path"));
//! assert_eq!(
//!     redact_text("POST https://u:hunter2@host/v1/traces?api_key=k1&x=2 failed"),
//!     "POST https://u:***@host/v1/traces?api_key=***&x=2 failed"
//! );
//! register_secret("sk-live-0123456789");
//! assert_eq!(redact_text("auth failed for sk-live-0123456789"), "auth failed for ***");
//! ```

use parking_lot::RwLock;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "***";

/// Substrings of option names whose values are secrets (compared lower-case): `api_key`,
/// `private_key`, `db_password`, `passwd`, `client_secret`, `access_token`, `authorization`,
/// `auth`, `credentials`, `dsn`, `cookie`, `signature`, `headers` (they carry tokens).
const SECRET_NAME_PARTS: &[&str] = &[
    "key",
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "auth",
    "credential",
    "dsn",
    "cookie",
    "signature",
    "private",
    "headers",
];

/// URL query (and fragment) parameters that carry secrets besides secret-looking names: SAS and
/// pre-signed URL signatures, and short forms of passwords.
const SECRET_QUERY_PARAMS: &[&str] = &["sig", "pass", "pw", "x-amz-security-token"];

/// Shortest value registered as a known secret: shorter ones would scrub ordinary words.
const MIN_SECRET_LEN: usize = 4;
/// Known secrets kept (a config has a handful; this bounds a misuse).
const MAX_SECRETS: usize = 1024;

static KNOWN_SECRETS: RwLock<Vec<Box<str>>> = RwLock::new(Vec::new());

/// Whether an option, setting, header or parameter named `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|part| lower.contains(part))
}

fn is_secret_param(name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .to_ascii_lowercase();
    is_secret_name(&name) || SECRET_QUERY_PARAMS.contains(&name.as_str())
}

/// Remembers `value` as a secret: every later [`redact_text`] replaces it with `***`. Values
/// shorter than 4 characters are ignored (they would scrub ordinary words).
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_SECRET_LEN {
        return;
    }
    let mut known = KNOWN_SECRETS.write();
    if known.len() < MAX_SECRETS && !known.iter().any(|k| &**k == value) {
        known.push(value.into());
        // Longest first, so a secret containing another is replaced whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// `text` with URL credentials, secret query parameters and every registered secret replaced
/// by `***`.
pub fn redact_text(text: &str) -> String {
    let mut out = redact_urls(text);
    let known = KNOWN_SECRETS.read();
    for secret in known.iter() {
        if out.contains(&**secret) {
            out = out.replace(&**secret, REDACTED);
        }
    }
    out
}

/// Every `scheme://...` in `text` with its userinfo password (or bare token) and its secret
/// query/fragment parameters replaced.
fn redact_urls(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let after = at + 3;
        let end = rest[after..]
            .find(|c: char| c.is_whitespace() || "\"'<>`|\\{}^".contains(c))
            .map_or(rest.len(), |e| after + e);
        out.push_str(&rest[..after]);
        redact_url_tail(&rest[after..end], &mut out);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The part of a URL after `scheme://`.
fn redact_url_tail(tail: &str, out: &mut String) {
    let authority_end = tail.find(['/', '?', '#']).unwrap_or(tail.len());
    let (authority, rest) = tail.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(REDACTED);
                }
                // A bare userinfo is usually a token (`https://<token>@host`).
                None => out.push_str(REDACTED),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    // Path as is; query and fragment parameter by parameter.
    let mut rest = rest;
    while let Some(pos) = rest.find(['?', '#']) {
        out.push_str(&rest[..=pos]);
        rest = &rest[pos + 1..];
        let params_end = rest.find('#').unwrap_or(rest.len());
        redact_params(&rest[..params_end], out);
        rest = &rest[params_end..];
    }
    out.push_str(rest);
}

fn redact_params(params: &str, out: &mut String) {
    let mut rest = params;
    loop {
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let param = &rest[..end];
        match param.split_once('=') {
            Some((name, _)) if is_secret_param(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(param),
        }
        // The separator as it was.
        match rest[end..].chars().next() {
            Some(separator) => {
                out.push(separator);
                rest = &rest[end + 1..];
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_cover_the_usual_spellings() {
        for name in [
            "api_key",
            "API_KEY",
            "passwd",
            "db_password",
            "dsn",
            "auth",
            "Authorization",
            "credentials",
            "private_key",
            "client_secret",
            "access_token",
            "session_cookie",
            "headers",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "path",
            "endpoint",
            "signals",
            "max_bytes",
            "name",
            "project",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn urls_lose_their_credentials_wherever_they_are() {
        let cases = [
            ("http://u:pass@host:1/p", "http://u:***@host:1/p"),
            ("https://ghp_abc@github.com/x", "https://***@github.com/x"),
            (
                "endpoint \"http://h/v1?token=t0k&team=rl\" is down",
                "endpoint \"http://h/v1?token=***&team=rl\" is down",
            ),
            (
                "https://acct.blob/c?sv=2020&sig=S1G%3D;pw=x#access_token=a1",
                "https://acct.blob/c?sv=2020&sig=***;pw=***#access_token=***",
            ),
            ("https://h/p?api%5Fkey=k", "https://h/p?api%5Fkey=***"),
            ("no url here: a=b", "no url here: a=b"),
            (
                "two: http://a:b@x and ftp://c:d@y/",
                "two: http://a:***@x and ftp://c:***@y/",
            ),
            ("http://", "http://"),
            ("https://h?", "https://h?"),
            ("https://h?&=&x", "https://h?&=&x"),
        ];
        for (text, want) in cases {
            assert_eq!(redact_text(text), want, "{text}");
        }
    }

    #[test]
    fn registered_secrets_are_scrubbed_and_short_values_ignored() {
        register_secret("tok-5f0c1e-registered");
        register_secret("abc");
        assert_eq!(
            redact_text("Bearer tok-5f0c1e-registered refused (abc)"),
            "Bearer *** refused (abc)"
        );
    }
}
