//! `${VAR}` and `${VAR:-default}` in the string values of a config file. `$${` is a literal `${`.
//!
//! A value that is exactly one reference takes the type its quotes say: unquoted in YAML
//! (`port: ${PORT}`) it becomes a number or boolean when the variable reads as one; quoted
//! (`api_key: "${KEY}"`) it stays a string. JSON has no unquoted strings, so a whole-value
//! reference there takes the variable's type. Options whose name looks secret (`api_key`,
//! `password`, `token`, ...) always stay strings.

use serde_json::{Map, Value};
use telemetron_runtime::redact::is_secret_name;

use crate::strict::StrictValue;

/// Stands for the `$` of a reference written in quotes (`"${X}"`), so that its quotes survive
/// parsing: a private-use character, never in a config file (when one is, nothing is marked).
const QUOTED: char = '\u{E000}';

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// `${NAME}` without a default, and NAME is not set.
    Missing(String),
    /// `${NAME` without its closing brace, or `${}`: the reference as written.
    Malformed(String),
}

impl ExpandError {
    /// The text to look for in the file to find the line.
    pub(crate) fn needle(&self) -> String {
        match self {
            ExpandError::Missing(name) => format!("${{{name}"),
            ExpandError::Malformed(fragment) => fragment.clone(),
        }
    }
}

/// Marks references written in quotes in YAML text (`"${X}"`, `'${X:-d}'`) before parsing.
pub(crate) fn mark_quoted_references(text: &str) -> String {
    if text.contains(QUOTED) || !text.contains("${") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['"', '\'']) {
        let quote = rest[at..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let whole = rest.strip_prefix("${").and_then(|body| {
            let end = body.find('}')?;
            let inner = &body[..end];
            let closed = body[end + 1..].starts_with(quote);
            (closed && !inner.contains([quote, '\n'])).then_some(end)
        });
        if whole.is_some() {
            out.push(QUOTED);
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Expands every string in `value` (keys restored, not expanded).
pub(crate) fn expand_value(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ExpandError> {
    expand_under(value, None, lookup)
}

fn expand_under(
    value: &mut Value,
    key: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ExpandError> {
    match value {
        Value::String(s) if s.contains("${") || s.contains(QUOTED) => {
            let quoted = s.starts_with(QUOTED);
            let text = s.replace(QUOTED, "$");
            let whole_reference = text.starts_with("${")
                && text.ends_with('}')
                && text.matches("${").count() == 1
                && !text.contains("$${");
            let expanded = expand_str(&text, lookup)?;
            let keeps_string = quoted || key.is_some_and(is_secret_name);
            *value = if whole_reference && !keeps_string {
                typed_scalar(expanded)
            } else {
                Value::String(expanded)
            };
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| expand_under(v, key, lookup)),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains(QUOTED)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace(QUOTED, "$"), v))
                    .collect::<Map<_, _>>();
            }
            map.iter_mut()
                .try_for_each(|(k, v)| expand_under(v, Some(k), lookup))
        }
        _ => Ok(()),
    }
}

/// The variable's text as a boolean or finite number when it reads as one, else a string.
fn typed_scalar(text: String) -> Value {
    match serde_yaml::from_str::<StrictValue>(&text) {
        Ok(StrictValue(v @ (Value::Bool(_) | Value::Number(_)))) => v,
        _ => Value::String(text),
    }
}

/// Expands the references of one string.
pub(crate) fn expand_str(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(body_start) = after.strip_prefix("${") {
            let Some(end) = body_start.find('}') else {
                let fragment: String = after.chars().take(40).collect();
                return Err(ExpandError::Malformed(fragment));
            };
            let body = &body_start[..end];
            let (name, default) = match body.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (body, None),
            };
            if name.is_empty() {
                return Err(ExpandError::Malformed(format!("${{{body}}}")));
            }
            match (lookup(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(ExpandError::Missing(name.to_string())),
            }
            rest = &body_start[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("collector".into()),
            "PORT" => Some("4317".into()),
            "NUMKEY" => Some("987654321".into()),
            "NAN" => Some(".nan".into()),
            _ => None,
        }
    }

    fn yaml(text: &str) -> Result<Value, ExpandError> {
        let mut v: Value = serde_yaml::from_str(&mark_quoted_references(text)).unwrap();
        expand_value(&mut v, &env).map(|()| v)
    }

    #[test]
    fn expands_references_defaults_and_escapes() {
        let mut v = json!({"a": "http://${HOST}:${PORT}", "b": "${PORT}", "c": ["${NOPE:-x}", "$${HOST}", "$5"]});
        expand_value(&mut v, &env).unwrap();
        assert_eq!(
            v,
            json!({"a": "http://collector:4317", "b": 4317, "c": ["x", "${HOST}", "$5"]})
        );
    }

    #[test]
    fn the_quotes_say_the_type_and_secrets_stay_strings() {
        let v = yaml(
            "port: ${PORT}\nquoted: \"${PORT}\"\nsingle: '${PORT}'\napi_key: ${NUMKEY}\n\
             list:\n  - ${PORT}\n  - \"${PORT}\"\nnan: ${NAN}\ntext: \"at ${HOST}\"\n\"${HOST}\": k\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"port": 4317, "quoted": "4317", "single": "4317", "api_key": "987654321",
                   "list": [4317, "4317"], "nan": ".nan", "text": "at collector", "${HOST}": "k"})
        );
    }

    #[test]
    fn names_the_missing_variable_and_the_malformed_reference() {
        let mut v = json!({"key": "Bearer ${API_TOKEN}"});
        assert_eq!(
            expand_value(&mut v, &env),
            Err(ExpandError::Missing("API_TOKEN".to_string()))
        );
        assert_eq!(
            yaml("path: /data/${HOST/run.jsonl\n"),
            Err(ExpandError::Malformed("${HOST/run.jsonl".into()))
        );
        assert_eq!(
            yaml("a: x${}y\n"),
            Err(ExpandError::Malformed("${}".into()))
        );
    }

    fn cases() -> u32 {
        std::env::var("TELEMETRON_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    /// Variables the property tests may reference: values with YAML-special characters too.
    fn fuzz_env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "N" => Some("42".into()),
            "Q" => Some("a: \"b\" # c".into()),
            "E" => Some(String::new()),
            _ => None,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(cases()))]

        #[test]
        fn fuzz_expand_any_text_expands_or_names_the_problem(text in ".{0,80}") {
            match expand_str(&text, &fuzz_env) {
                Ok(out) => {
                    if !text.contains('$') {
                        proptest::prop_assert_eq!(out, text);
                    }
                }
                Err(ExpandError::Missing(name)) => {
                    proptest::prop_assert!(fuzz_env(&name).is_none());
                    let reference = format!("${{{name}");
                    proptest::prop_assert!(text.contains(&reference));
                }
                Err(ExpandError::Malformed(fragment)) => {
                    proptest::prop_assert!(fragment.starts_with("${"), "{:?}", fragment);
                }
            }
        }

        #[test]
        fn fuzz_expand_references_are_replaced_by_their_values(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    "[a-z /:.]{0,6}",
                    proptest::strategy::Just("${A}".to_string()),
                    proptest::strategy::Just("${N}".to_string()),
                    proptest::strategy::Just("${Q}".to_string()),
                    proptest::strategy::Just("${E}".to_string()),
                    proptest::strategy::Just("${UNSET:-dflt}".to_string()),
                    proptest::strategy::Just("$${A}".to_string()),
                ],
                0..6,
            ),
        ) {
            let text: String = parts.concat();
            let want: String = parts
                .iter()
                .map(|p| match p.as_str() {
                    "${A}" => "alpha".to_string(),
                    "${N}" => "42".to_string(),
                    "${Q}" => "a: \"b\" # c".to_string(),
                    "${E}" => String::new(),
                    "${UNSET:-dflt}" => "dflt".to_string(),
                    "$${A}" => "${A}".to_string(),
                    other => other.to_string(),
                })
                .collect();
            proptest::prop_assert_eq!(expand_str(&text, &fuzz_env), Ok(want));
        }

        #[test]
        fn fuzz_expand_yaml_documents_keep_the_quotes_type(
            key in "[a-z_]{1,8}",
            quote in proptest::prop_oneof![
                proptest::strategy::Just(""),
                proptest::strategy::Just("\""),
                proptest::strategy::Just("'"),
            ],
            name in proptest::prop_oneof![
                proptest::strategy::Just("A"),
                proptest::strategy::Just("N"),
                proptest::strategy::Just("Q"),
                proptest::strategy::Just("E"),
            ],
            noise in "[ -~\n]{0,40}",
        ) {
            let document = format!("{key}: {quote}${{{name}}}{quote}\n");
            let mut value: Value = serde_yaml::from_str(&mark_quoted_references(&document)).unwrap();
            expand_value(&mut value, &fuzz_env).unwrap();
            let got = &value[key.as_str()];
            let raw = fuzz_env(name).unwrap();
            let typed = quote.is_empty() && name == "N" && !is_secret_name(&key);
            if typed {
                proptest::prop_assert_eq!(got, &json!(42));
            } else {
                proptest::prop_assert_eq!(got, &Value::String(raw));
            }
            // Any text around it: parsing and expanding never panic.
            let noisy = format!("{document}{noise}");
            if let Ok(mut v) = serde_yaml::from_str::<Value>(&mark_quoted_references(&noisy)) {
                let _ = expand_value(&mut v, &fuzz_env);
            }
        }
    }
}
