//! Typed values inside a line: attribute maps, labels, run attribute values, and number
//! columns (parsed from their JSON text in the precision the line names).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use telemetron_runtime::model::{AttributeValue, Attributes, RunAttributeValue};

/// An `attributes` object, typed as the writer typed it: JSON integers are `I64`, floats
/// `F64`; lists are homogeneous (an empty list reads as a string list, as Python sends it).
pub(super) struct AttributeMap(pub Attributes);

impl<'de> Deserialize<'de> for AttributeMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = AttributeMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeMap, A::Error> {
                let mut attrs = Attributes::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value: Attribute = map.next_value()?;
                    attrs
                        .insert(key.into_owned(), value.0)
                        .map_err(de::Error::custom)?;
                }
                Ok(AttributeMap(attrs))
            }
        }
        d.deserialize_map(MapVisitor)
    }
}

struct Attribute(AttributeValue);

/// One element of an attribute list.
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(ValueVisitor)? {
            AttributeValue::Bool(b) => Ok(Scalar::Bool(b)),
            AttributeValue::I64(i) => Ok(Scalar::Int(i)),
            AttributeValue::F64(f) => Ok(Scalar::Float(f)),
            AttributeValue::String(s) => Ok(Scalar::Str(s)),
            _ => Err(de::Error::custom("attribute lists hold no lists")),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = AttributeValue;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean, integer, float, string or homogeneous list")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttributeValue, E> {
        Ok(AttributeValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttributeValue, E> {
        Ok(AttributeValue::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttributeValue, E> {
        i64::try_from(v)
            .map(AttributeValue::I64)
            .map_err(|_| E::custom(format!("integer {v} is out of the i64 range")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttributeValue, E> {
        Ok(AttributeValue::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<AttributeValue, E> {
        Ok(AttributeValue::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<AttributeValue, E> {
        Ok(AttributeValue::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AttributeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Scalar>()? {
            items.push(item);
        }
        list(items).map_err(de::Error::custom)
    }
}

/// A homogeneous list; integers among floats are promoted (hand-written files).
fn list(items: Vec<Scalar>) -> Result<AttributeValue, &'static str> {
    let Some(first) = items.first() else {
        return Ok(AttributeValue::StringList(Vec::new()));
    };
    let mixed = || "attribute lists must hold one type";
    Ok(match first {
        Scalar::Bool(_) => AttributeValue::BoolList(
            items
                .into_iter()
                .map(|i| match i {
                    Scalar::Bool(b) => Ok(b),
                    _ => Err(mixed()),
                })
                .collect::<Result<_, _>>()?,
        ),
        Scalar::Str(_) => AttributeValue::StringList(
            items
                .into_iter()
                .map(|i| match i {
                    Scalar::Str(s) => Ok(s),
                    _ => Err(mixed()),
                })
                .collect::<Result<_, _>>()?,
        ),
        Scalar::Int(_) | Scalar::Float(_) => {
            if items.iter().all(|i| matches!(i, Scalar::Int(_))) {
                AttributeValue::I64List(
                    items
                        .into_iter()
                        .map(|i| match i {
                            Scalar::Int(n) => n,
                            _ => 0,
                        })
                        .collect(),
                )
            } else {
                AttributeValue::F64List(
                    items
                        .into_iter()
                        .map(|i| match i {
                            Scalar::Int(n) => Ok(n as f64),
                            Scalar::Float(f) => Ok(f),
                            _ => Err(mixed()),
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
        }
    })
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(Attribute)
    }
}

/// A series' `labels` object, in file order (the writer sorts them).
pub(super) struct LabelMap<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for LabelMap<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LabelVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for LabelVisitor<'a> {
            type Value = LabelMap<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of string labels")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelMap<'a>, A::Error> {
                let mut labels = Vec::new();
                while let Some(entry) = map.next_entry::<Cow<'de, str>, Cow<'de, str>>()? {
                    labels.push(entry);
                }
                Ok(LabelMap(labels))
            }
        }
        d.deserialize_map(LabelVisitor(std::marker::PhantomData))
    }
}

/// A run attribute value: scalar, `{"set": [...]}` or `{"added": [...], "removed": [...]}`.
pub(super) struct RunValue(pub RunAttributeValue);

impl<'de> Deserialize<'de> for RunValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RunVisitor;
        impl<'de> Visitor<'de> for RunVisitor {
            type Value = RunValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a boolean, integer, float, string, {\"set\"} or {\"added\", \"removed\"}",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RunValue, E> {
                Ok(RunValue(RunAttributeValue::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RunValue, E> {
                Ok(RunValue(RunAttributeValue::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RunValue, E> {
                i64::try_from(v)
                    .map(|v| RunValue(RunAttributeValue::Int(v)))
                    .map_err(|_| E::custom(format!("integer {v} is out of the i64 range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RunValue, E> {
                Ok(RunValue(RunAttributeValue::Float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RunValue, E> {
                Ok(RunValue(RunAttributeValue::String(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RunValue, A::Error> {
                let (mut set, mut added, mut removed) = (None, None, None);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let slot = match key.as_ref() {
                        "set" => &mut set,
                        "added" => &mut added,
                        "removed" => &mut removed,
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown tag-set field {other:?} (set, added, removed)"
                            )))
                        }
                    };
                    *slot = Some(map.next_value::<Vec<String>>()?);
                }
                match (set, added, removed) {
                    (Some(set), None, None) => Ok(RunValue(RunAttributeValue::StringSet(set))),
                    (None, Some(added), Some(removed)) => {
                        Ok(RunValue(RunAttributeValue::StringSetDelta {
                            added,
                            removed,
                        }))
                    }
                    _ => Err(de::Error::custom(
                        "a tag set is {\"set\": [...]} or {\"added\": [...], \"removed\": [...]}",
                    )),
                }
            }
        }
        d.deserialize_any(RunVisitor)
    }
}

/// A JSON list of numbers (its raw text) parsed as `T`: floats straight from their decimal
/// text, so an f32 written in its shortest form reads back bit-exact.
pub(super) fn number_list<T: FromStr>(raw: &str, field: &str) -> Result<Vec<T>, String> {
    let inner = raw
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| format!("`{field}` must be a list of numbers"))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    // A rough capacity: numbers are rarely shorter than 3 bytes with their comma.
    let mut out = Vec::with_capacity(inner.len() / 4 + 1);
    for (i, text) in inner.split(',').enumerate() {
        let text = text.trim();
        out.push(text.parse::<T>().map_err(|_| {
            format!(
                "`{field}`[{i}] = {} is not a valid {}",
                shorten(text),
                std::any::type_name::<T>()
            )
        })?);
    }
    Ok(out)
}

/// Floats must be finite (the model refuses others).
pub(super) fn finite_list<T: FromStr + Copy + Into<f64>>(
    raw: &str,
    field: &str,
) -> Result<Vec<T>, String> {
    let values = number_list::<T>(raw, field)?;
    if let Some(i) = values.iter().position(|v| !(*v).into().is_finite()) {
        return Err(format!("`{field}`[{i}] is not a finite number"));
    }
    Ok(values)
}

/// At most 40 characters of a value, for error messages.
pub(super) fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
