//! Typed attributes: bool, i64, f64, string, and homogeneous lists of those.

use std::borrow::Cow;

use thiserror::Error;

/// An attribute key or a span/event name: borrowed when static, owned otherwise.
pub type Name = Cow<'static, str>;

/// One typed attribute value. There is no stringly-typed fallback.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    I64(i64),
    /// A finite 64-bit float.
    F64(f64),
    /// A UTF-8 string.
    String(String),
    /// A list of booleans.
    BoolList(Vec<bool>),
    /// A list of integers.
    I64List(Vec<i64>),
    /// A list of finite floats.
    F64List(Vec<f64>),
    /// A list of strings.
    StringList(Vec<String>),
}

/// Why an attribute was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AttributeError {
    /// Keys must be non-empty.
    #[error("attribute key must not be empty")]
    EmptyKey,
    /// NaN and ±inf cannot be exported faithfully (JSON, OTLP attributes), so they are refused.
    #[error(
        "attribute {key:?} has a non-finite float value ({value}); only finite floats are allowed"
    )]
    NonFinite {
        /// The offending key.
        key: String,
        /// The offending value, as text.
        value: String,
    },
}

/// An ordered set of attributes; a later `insert` of the same key replaces the earlier value.
/// Empty attributes do not allocate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes(Vec<(Name, AttributeValue)>);

impl Attributes {
    /// No attributes.
    pub const fn new() -> Self {
        Attributes(Vec::new())
    }

    /// Inserts (or replaces) `key`, validating both.
    ///
    /// ```
    /// use telemetron_runtime::model::{Attributes, AttributeValue};
    /// let mut attrs = Attributes::new();
    /// attrs.insert("epoch", 3i64).unwrap();
    /// assert_eq!(attrs.get("epoch"), Some(&AttributeValue::I64(3)));
    /// assert!(attrs.insert("loss", f64::NAN).is_err());
    /// ```
    pub fn insert(
        &mut self,
        key: impl Into<Name>,
        value: impl Into<AttributeValue>,
    ) -> Result<(), AttributeError> {
        let key = key.into();
        let value = value.into();
        validate(&key, &value)?;
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
        Ok(())
    }

    /// Builder form of [`Attributes::insert`].
    pub fn with(
        mut self,
        key: impl Into<Name>,
        value: impl Into<AttributeValue>,
    ) -> Result<Self, AttributeError> {
        self.insert(key, value)?;
        Ok(self)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&AttributeValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttributeValue)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every attribute of `other`, replacing same-named ones (`other` wins).
    pub fn merge(&mut self, other: Attributes) {
        for (k, v) in other.0 {
            match self.0.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => self.0.push((k, v)),
            }
        }
    }
}

fn validate(key: &str, value: &AttributeValue) -> Result<(), AttributeError> {
    if key.is_empty() {
        return Err(AttributeError::EmptyKey);
    }
    let non_finite = |v: f64| AttributeError::NonFinite {
        key: key.to_string(),
        value: v.to_string(),
    };
    match value {
        AttributeValue::F64(v) if !v.is_finite() => Err(non_finite(*v)),
        AttributeValue::F64List(vs) => match vs.iter().find(|v| !v.is_finite()) {
            Some(v) => Err(non_finite(*v)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

macro_rules! impl_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for AttributeValue {
            fn from(v: $t) -> Self {
                AttributeValue::$variant(v.into())
            }
        })*
    };
}

impl_from!(
    bool => Bool,
    i64 => I64,
    i32 => I64,
    u32 => I64,
    f64 => F64,
    f32 => F64,
    String => String,
    &str => String,
    Vec<bool> => BoolList,
    Vec<i64> => I64List,
    Vec<f64> => F64List,
    Vec<String> => StringList,
);

impl TryFrom<Vec<(String, AttributeValue)>> for Attributes {
    type Error = AttributeError;

    fn try_from(pairs: Vec<(String, AttributeValue)>) -> Result<Self, Self::Error> {
        let mut attrs = Attributes(Vec::with_capacity(pairs.len()));
        for (k, v) in pairs {
            attrs.insert(k, v)?;
        }
        Ok(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replaces_and_keeps_order() {
        let mut a = Attributes::new();
        a.insert("x", 1i64).unwrap();
        a.insert("y", "two").unwrap();
        a.insert("x", true).unwrap();
        let items: Vec<_> = a.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(items, ["x", "y"]);
        assert_eq!(a.get("x"), Some(&AttributeValue::Bool(true)));
    }

    #[test]
    fn refuses_empty_keys_and_non_finite_floats() {
        let mut a = Attributes::new();
        assert_eq!(a.insert("", 1i64), Err(AttributeError::EmptyKey));
        let err = a.insert("lr", vec![1.0, f64::INFINITY]).unwrap_err();
        assert!(err.to_string().contains("\"lr\""), "{err}");
        assert!(a.is_empty(), "a refused attribute leaves nothing behind");
    }
}
