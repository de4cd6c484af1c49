//! `${VAR}` and `${VAR:-default}` in the string values of a config file. `$${` is a literal `${`.

use serde_json::Value;

/// Expands every string in `value`; returns the first missing variable's name on failure.
/// A string that is exactly one reference takes the variable's type (`${PORT}` → a number).
pub(crate) fn expand_value(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    match value {
        Value::String(s) if s.contains("${") => {
            let whole_reference =
                s.starts_with("${") && s.ends_with('}') && s.matches("${").count() == 1;
            let expanded = expand_str(s, lookup)?;
            *value = if whole_reference {
                typed_scalar(expanded)
            } else {
                Value::String(expanded)
            };
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| expand_value(v, lookup)),
        Value::Object(map) => map.values_mut().try_for_each(|v| expand_value(v, lookup)),
        _ => Ok(()),
    }
}

fn typed_scalar(text: String) -> Value {
    match serde_yaml::from_str::<Value>(&text) {
        Ok(v @ (Value::Bool(_) | Value::Number(_))) => v,
        _ => Value::String(text),
    }
}

fn expand_str(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
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
                out.push_str(after);
                return Ok(out);
            };
            let body = &body_start[..end];
            let (name, default) = match body.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (body, None),
            };
            match (lookup(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(name.to_string()),
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
            _ => None,
        }
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
    fn names_the_missing_variable() {
        let mut v = json!({"key": "Bearer ${API_TOKEN}"});
        assert_eq!(expand_value(&mut v, &env), Err("API_TOKEN".to_string()));
    }
}
