//! Typed attributes: bool, i64, f64, string, and homogeneous lists of those.

use std::borrow::Cow;
use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
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

/// An ordered set of attributes; a later `insert` of the same key replaces the earlier value
/// (which keeps its position). Empty attributes do not allocate; past [`INDEXED_FROM`] entries a
/// key index makes `insert` and `get` O(1), so building a large set is linear.
#[derive(Clone, Default)]
pub struct Attributes {
    entries: Vec<(Name, AttributeValue)>,
    /// Positions in `entries`, hashed by key; built once the set outgrows a linear scan.
    index: Option<Box<HashTable<usize>>>,
}

/// Size from which a key index is kept: below it a linear scan is faster than hashing.
pub const INDEXED_FROM: usize = 16;

fn hash_key(key: &str) -> u64 {
    FxBuildHasher.hash_one(key)
}

impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Attributes").field(&self.entries).finish()
    }
}

impl Attributes {
    /// No attributes.
    pub const fn new() -> Self {
        Attributes {
            entries: Vec::new(),
            index: None,
        }
    }

    /// Where `key` is, if present.
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index
                .find(hash_key(key), |&i| self.entries[i].0 == key)
                .copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// Replaces the value of `key` where it is, or appends it.
    fn put(&mut self, key: Name, value: AttributeValue) {
        if let Some(i) = self.position(&key) {
            self.entries[i].1 = value;
            return;
        }
        self.entries.push((key, value));
        let at = self.entries.len() - 1;
        let entries = &self.entries;
        let rehash = |&i: &usize| hash_key(&entries[i].0);
        match &mut self.index {
            Some(index) => {
                index.insert_unique(hash_key(&entries[at].0), at, rehash);
            }
            None if entries.len() >= INDEXED_FROM => {
                let mut index = HashTable::with_capacity(entries.len());
                for (i, (key, _)) in entries.iter().enumerate() {
                    index.insert_unique(hash_key(key), i, rehash);
                }
                self.index = Some(Box::new(index));
            }
            None => {}
        }
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
        self.put(key, value);
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
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttributeValue)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds every attribute of `other`, replacing same-named ones (`other` wins).
    pub fn merge(&mut self, other: Attributes) {
        self.entries.reserve(other.entries.len());
        for (k, v) in other.entries {
            self.put(k, v);
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
        let mut attrs = Attributes {
            entries: Vec::with_capacity(pairs.len()),
            index: None,
        };
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

    #[test]
    fn large_sets_keep_first_positions_and_last_values() {
        // Past INDEXED_FROM the index answers; the semantics are those of the linear scan.
        let n = INDEXED_FROM as i64 * 4;
        let mut a = Attributes::new();
        for i in 0..n {
            a.insert(format!("k{i}"), i).unwrap();
        }
        for i in (0..n).step_by(3) {
            a.insert(format!("k{i}"), -i).unwrap();
        }
        a.insert("new", true).unwrap();
        let keys: Vec<_> = a.iter().map(|(k, _)| k.to_string()).collect();
        let mut expected: Vec<_> = (0..n).map(|i| format!("k{i}")).collect();
        expected.push("new".into());
        assert_eq!(keys, expected);
        assert_eq!(a.get("k3"), Some(&AttributeValue::I64(-3)));
        assert_eq!(a.get("k4"), Some(&AttributeValue::I64(4)));
        assert_eq!(a.get("absent"), None);
        let mut merged = Attributes::new().with("k5", "first").unwrap();
        merged.merge(a.clone());
        assert_eq!(merged.iter().next().map(|(k, _)| k), Some("k5"));
        assert_eq!(merged.get("k5"), Some(&AttributeValue::I64(5)));
        assert_eq!(merged.len(), a.len());
        let rebuilt = Attributes::try_from(
            a.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(rebuilt, a, "equality ignores the index");
    }

    #[test]
    fn building_a_large_set_is_linear() {
        // Quadratic inserts took ~39 s for 100k keys in release (hours in debug); linear takes
        // milliseconds. The bound is two orders of magnitude above linear, below quadratic.
        let started = std::time::Instant::now();
        let mut a = Attributes::new();
        for i in 0..100_000i64 {
            a.insert(format!("key{i}"), i).unwrap();
        }
        assert_eq!(a.len(), 100_000);
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(5),
            "100k inserts took {took:?}"
        );
    }
}
