//! Which options of an entry are secrets, and copies of options with them redacted. An exporter
//! type declares its secret options statically (`ExporterRegistration::secret_keys`) or, when
//! they depend on the entry (a Python exporter class naming its own), through a
//! [`SecretOptionsRegistration`]. Names that look secret (`telemetron_runtime::redact`) are
//! secrets for every type, and URLs lose their credentials wherever they appear.

use serde_json::{Map, Value};
use telemetron_runtime::redact::{is_secret_name, redact_text, register_secret, REDACTED};

/// Secret options that depend on the entry, for an exporter type. Register with
/// `inventory::submit! { SecretOptionsRegistration { type_name: "python", secret_options } }`;
/// `secret_options` gets the entry's own options and returns the names of those that are secret
/// (e.g. the ones a Python exporter class lists in its `secret_options` attribute).
pub struct SecretOptionsRegistration {
    /// The exporter `type:` it applies to.
    pub type_name: &'static str,
    /// Names of the entry's secret options.
    pub secret_options: fn(&Map<String, Value>) -> Vec<String>,
}

inventory::collect!(SecretOptionsRegistration);

/// Every option name declared secret for an entry of `type_name` with `options`: the type's
/// `secret_keys` and what its [`SecretOptionsRegistration`]s name. Names that look secret come
/// on top of these in [`redact_secrets`].
pub fn declared_secret_options(type_name: &str, options: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<String> = crate::find_exporter(type_name)
        .map(|r| r.secret_keys.iter().map(|k| k.to_string()).collect())
        .unwrap_or_default();
    for registration in inventory::iter::<SecretOptionsRegistration> {
        if registration.type_name == type_name {
            names.extend((registration.secret_options)(options));
        }
    }
    names
}

/// A copy of `options` with every secret value replaced by `***`: keys listed in `secret_keys`,
/// keys whose name looks secret (key, password, passwd, secret, token, auth, credential, dsn,
/// headers, ... at any depth), and credentials inside URLs in any string.
pub fn redact_secrets(options: &Map<String, Value>, secret_keys: &[String]) -> Map<String, Value> {
    options
        .iter()
        .map(|(k, v)| {
            let value = if is_secret(k, secret_keys) {
                Value::String(REDACTED.into())
            } else {
                redact_value(v)
            };
            (k.clone(), value)
        })
        .collect()
}

/// Registers every secret value of `options` (see [`redact_secrets`] for which), so that later
/// messages that quote one (a backend's error, a log line) show `***` instead.
pub fn register_secret_values(options: &Map<String, Value>, secret_keys: &[String]) {
    for (k, v) in options {
        if is_secret(k, secret_keys) {
            register_leaves(v);
        } else {
            register_nested(v);
        }
    }
}

fn is_secret(key: &str, secret_keys: &[String]) -> bool {
    secret_keys.iter().any(|s| s == key) || is_secret_name(key)
}

fn redact_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(redact_text(s)),
        Value::Array(items) => Value::Array(items.iter().map(redact_value).collect()),
        Value::Object(map) => Value::Object(redact_secrets(map, &[])),
        other => other.clone(),
    }
}

/// Every scalar under a secret key is a secret.
fn register_leaves(value: &Value) {
    match value {
        Value::String(s) => register_secret(s),
        Value::Number(n) => register_secret(&n.to_string()),
        Value::Array(items) => items.iter().for_each(register_leaves),
        Value::Object(map) => map.values().for_each(register_leaves),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Under other keys: nested secret keys, and URL credentials.
fn register_nested(value: &Value) {
    match value {
        Value::String(s) => register_url_secrets(s),
        Value::Array(items) => items.iter().for_each(register_nested),
        Value::Object(map) => register_secret_values(map, &[]),
        Value::Bool(_) | Value::Number(_) | Value::Null => {}
    }
}

/// The password (or token) of a URL's userinfo and its secret query values: what
/// `redact_text` hides by position is also hidden where the value appears alone.
fn register_url_secrets(text: &str) {
    let redacted = redact_text(text);
    if redacted == text {
        return;
    }
    // Each `***` in the redacted form stands for one secret in the original.
    let mut original = text;
    let mut shown = redacted.as_str();
    while let Some(at) = shown.find(REDACTED) {
        if !original.is_char_boundary(at) || original[..at] != shown[..at] {
            return;
        }
        let after = &shown[at + REDACTED.len()..];
        // The secret ends where the redacted text resumes.
        let resume = after.chars().next();
        let secret_len = match resume {
            Some(c) => original[at..].find(c).unwrap_or(original.len() - at),
            None => original.len() - at,
        };
        register_secret(&original[at..at + secret_len]);
        original = &original[at + secret_len..];
        shown = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn redacts_names_declared_names_nested_keys_and_urls() {
        let options = map(json!({
            "endpoint": "https://ingest:pw-9f8e@host/v1?token=tq-1234&team=rl",
            "dsn": "postgres://db",
            "passwd": "p4ss",
            "class": "pkg:Exporter",
            "opts": {"auth": "a-1", "level": 3, "urls": ["http://x?sig=s1g-v4lue"]},
            "custom": "declared-secret",
        }));
        let shown = Value::Object(redact_secrets(&options, &["custom".to_string()]));
        assert_eq!(
            shown,
            json!({
                "endpoint": "https://ingest:***@host/v1?token=***&team=rl",
                "dsn": "***",
                "passwd": "***",
                "class": "pkg:Exporter",
                "opts": {"auth": "***", "level": 3, "urls": ["http://x?sig=***"]},
                "custom": "***",
            })
        );
    }

    #[test]
    fn registered_values_are_scrubbed_from_later_messages() {
        let options = map(json!({
            "endpoint": "https://user:pw-reg-77@host/v1?token=tq-reg-88",
            "headers": {"x-api": "hdr-reg-99"},
            "api_key": 987654321,
        }));
        register_secret_values(&options, &[]);
        let message = "refused pw-reg-77 / tq-reg-88 / hdr-reg-99 / 987654321";
        assert_eq!(redact_text(message), "refused *** / *** / *** / ***");
    }
}
