//! The effective configuration, printed with the source of every value and secrets redacted.

use std::fmt::Write;

use serde_json::Value;
use telemetron_runtime::redact::redact_text;

use crate::{LoadedConfig, SourcedSpec};

impl LoadedConfig {
    /// Every setting and entry with where it came from, e.g. `queue_capacity = 1024  (code)`.
    pub fn describe(&self) -> String {
        let mut out = String::from("settings:\n");
        for (key, value, source) in &self.provenance {
            let _ = writeln!(out, "  {key} = {}  ({source})", redact_text(value));
        }
        let _ = writeln!(out, "  (run_name in use: {:?})", self.run.run_name);
        describe_list(&mut out, "exporters", &self.exporters);
        describe_list(&mut out, "plugins", &self.plugins);
        for section in &self.sections {
            let _ = writeln!(
                out,
                "{}:  ({})\n  {}",
                section.name,
                section.source,
                Value::Object(section.redacted())
            );
        }
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
                let options = Value::Object(spec.redacted_options());
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use telemetron_plugins::redact_secrets;

    #[test]
    fn redacts_secret_looking_options() {
        let Value::Object(options) = json!({"endpoint": "http://x", "api_key": "k", "sasl_password": "p", "headers": {"a": "b"}})
        else {
            unreachable!()
        };
        let red = redact_secrets(&options, &[]);
        assert_eq!(
            Value::Object(red),
            json!({"endpoint": "http://x", "api_key": "***", "sasl_password": "***", "headers": "***"})
        );
    }
}
