//! The effective configuration, printed with the source of every value and secrets redacted.

use std::fmt::Write;

use serde_json::{Map, Value};
use telemetron_plugins::find_exporter;

use crate::{LoadedConfig, SourcedSpec};

/// Option names treated as secrets for every exporter type, besides each type's own list.
const SECRET_HINTS: &[&str] = &[
    "key",
    "password",
    "secret",
    "token",
    "authorization",
    "headers",
    "credential",
];

impl LoadedConfig {
    /// Every setting and entry with where it came from, e.g. `queue_capacity = 1024  (code)`.
    pub fn describe(&self) -> String {
        let mut out = String::from("settings:\n");
        for (key, value, source) in &self.provenance {
            let _ = writeln!(out, "  {key} = {value}  ({source})");
        }
        let _ = writeln!(out, "  (run_name in use: {:?})", self.run.run_name);
        describe_list(&mut out, "exporters", &self.exporters);
        describe_list(&mut out, "plugins", &self.plugins);
        out
    }
}

fn describe_list(out: &mut String, list: &str, entries: &[SourcedSpec]) {
    match entries.first() {
        None => {
            let _ = writeln!(out, "{list}: none");
        }
        Some(first) => {
            let _ = writeln!(out, "{list}:  ({})", first.source);
            for entry in entries {
                let spec = &entry.spec;
                let secrets = find_exporter(&spec.type_name)
                    .map(|r| r.secret_keys)
                    .unwrap_or(&[]);
                let options = Value::Object(redact(&spec.options, secrets));
                let _ = writeln!(
                    out,
                    "  - type: {}{}{} {}",
                    spec.type_name,
                    spec.name
                        .as_ref()
                        .map(|n| format!(", name: {n}"))
                        .unwrap_or_default(),
                    if spec.enabled { "" } else { ", enabled: false" },
                    options
                );
            }
        }
    }
}

/// A copy of `options` with every secret value replaced by `***`.
pub(crate) fn redact(options: &Map<String, Value>, secret_keys: &[&str]) -> Map<String, Value> {
    options
        .iter()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let secret =
                secret_keys.contains(&k.as_str()) || SECRET_HINTS.iter().any(|h| lower.contains(h));
            (
                k.clone(),
                if secret {
                    Value::String("***".into())
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_secret_looking_options() {
        let Value::Object(options) = json!({"endpoint": "http://x", "api_key": "k", "sasl_password": "p", "headers": {"a": "b"}})
        else {
            unreachable!()
        };
        let red = redact(&options, &[]);
        assert_eq!(
            Value::Object(red),
            json!({"endpoint": "http://x", "api_key": "***", "sasl_password": "***", "headers": "***"})
        );
    }
}
