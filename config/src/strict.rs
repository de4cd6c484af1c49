//! A JSON value read strictly from YAML or JSON: a key given twice and a float that is not
//! finite (`.nan`, `.inf`) are errors at their line, instead of the last key silently winning
//! and NaN turning into `null` ("found unit, expected f64" later, with no line).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A document's value, with the checks above applied while parsing.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping, list, string, number, boolean or null")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Err(E::custom(format!(
            "the number {v} is too large (at most 64-bit integers)"
        )))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Err(E::custom(format!(
            "the number {v} is too large (at most 64-bit integers)"
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            E::custom(format!(
                "{v} is not a finite number (.nan and .inf are not allowed in a config)"
            ))
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<MapKey>()? {
            if out.contains_key(&key.0) {
                return Err(de::Error::custom(format!(
                    "duplicate key {:?} (each key may appear once in a mapping)",
                    key.0
                )));
            }
            let StrictValue(value) = map.next_value()?;
            out.insert(key.0, value);
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key: a string, or a number or boolean written as one (`1: x` is key "1").
struct MapKey(String);

impl<'de> Deserialize<'de> for MapKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match StrictVisitor.visit_key(deserializer)? {
            Value::String(s) => Ok(MapKey(s)),
            Value::Number(n) => Ok(MapKey(n.to_string())),
            Value::Bool(b) => Ok(MapKey(b.to_string())),
            other => Err(de::Error::custom(format!(
                "a mapping key must be a string, got {}",
                kind(&other)
            ))),
        }
    }
}

impl StrictVisitor {
    fn visit_key<'de, D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<Value, serde_yaml::Error> {
        serde_yaml::from_str::<StrictValue>(text).map(|v| v.0)
    }

    #[test]
    fn duplicate_keys_and_non_finite_floats_fail_at_their_line() {
        let dup = yaml("a: 1\nb:\n  c: 2\n  c: 3\n").unwrap_err();
        assert!(dup.to_string().contains("duplicate key \"c\""), "{dup}");
        // serde_yaml places it at the mapping's start; `file.rs` finds the repeated key's line.
        assert_eq!(dup.location().map(|l| l.line()), Some(3), "{dup}");
        let nan = yaml("a: 1\nlr: .nan\n").unwrap_err();
        assert!(nan.to_string().contains("not a finite number"), "{nan}");
        assert_eq!(nan.location().map(|l| l.line()), Some(2), "{nan}");
        let json = serde_json::from_str::<StrictValue>("{\"a\": 1,\n \"a\": 2}")
            .map(|v| v.0)
            .unwrap_err();
        assert!(json.to_string().contains("duplicate key \"a\""), "{json}");
        assert_eq!(json.line(), 2);
    }

    #[test]
    fn ordinary_documents_read_as_before() {
        let v = yaml("a: [1, -2, 1.5, true, null, x]\n3: y\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": [1, -2, 1.5, true, null, "x"], "3": "y"})
        );
    }
}
